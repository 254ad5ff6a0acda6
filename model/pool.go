package model

import (
	"math/bits"
	"sync"
)

// Streams come and go with utterances, and a paper-size layer 1 grows
// 16 MB of window (and layer 2 8 MB of input) for each. Fresh memory of
// that size costs page faults and zeroing that took ten times longer than
// the convolution itself, so ended streams give their buffers back
// (ConvLayer.Release) and new ones take them from these pools, one per
// power-of-two capacity.
var bufPools [bits.UintSize]sync.Pool

// pooledBuf returns a buffer of n values (contents undefined) whose
// capacity is the power of two at or above n.
func pooledBuf(n int) []float32 {
	if n <= 0 {
		return nil
	}
	k := bits.Len(uint(n - 1))
	if p, _ := bufPools[k].Get().(*[]float32); p != nil {
		return (*p)[:n]
	}
	return make([]float32, n, 1<<k)
}

// recycle gives buf to the pools; buffers not made by pooledBuf are left
// to the garbage collector.
func recycle(buf []float32) {
	c := cap(buf)
	if c == 0 || c&(c-1) != 0 {
		return
	}
	buf = buf[:0]
	bufPools[bits.Len(uint(c))-1].Put(&buf)
}

// extendPooled is extend with its new buffer from the pools (the old one
// goes back to them).
func extendPooled(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	out := pooledBuf(max(n, 2*cap(buf)))[:n]
	copy(out, buf)
	recycle(buf)
	return out
}

// appendPooled is append growing through the pools.
func appendPooled(buf []float32, vals ...float32) []float32 {
	n := len(buf)
	buf = extendPooled(buf, n+len(vals))
	copy(buf[n:], vals)
	return buf
}

// appendZeros appends n zeros.
func appendZeros(buf []float32, n int) []float32 {
	at := len(buf)
	buf = extendPooled(buf, at+n)
	clear(buf[at:])
	return buf
}
