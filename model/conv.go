package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Conv1d is a strided one-dimensional convolution (cross-correlation, as in
// PyTorch) over frames laid out time-major: a signal of T frames of Cin
// channels is a T x Cin row-major matrix. The activation (ReLU) is applied
// by the caller, which keeps the pre-activation for the gradient.
//
// The weight is stored (Cout, Kernel, Cin) so that an input window is a
// contiguous run of Kernel*Cin values: the convolution is then a few GEMMs
// on strided views of the input and needs no im2col copy.
type Conv1d struct {
	Cin, Cout, Kernel, Stride, Padding int
	// W is Cout x (Kernel*Cin), B has Cout values.
	W, B []float32
}

// NewConv1d returns a convolution initialised as PyTorch's nn.Conv1d:
// weight and bias uniform in +-1/sqrt(Cin*Kernel).
func NewConv1d(cin, cout, kernel, stride, padding int, rng *rand.Rand) *Conv1d {
	if cin <= 0 || cout <= 0 || kernel <= 0 || stride <= 0 || padding < 0 {
		panic(fmt.Sprintf("model: bad Conv1d geometry cin=%d cout=%d kernel=%d stride=%d padding=%d", cin, cout, kernel, stride, padding))
	}
	c := &Conv1d{Cin: cin, Cout: cout, Kernel: kernel, Stride: stride, Padding: padding,
		W: make([]float32, cout*kernel*cin), B: make([]float32, cout)}
	bound := 1 / math.Sqrt(float64(cin*kernel))
	// Draw in PyTorch's (Cout, Cin, kernel) order so a given stream of
	// random numbers means the same weights in both layouts.
	tmp := make([]float32, len(c.W))
	uniform(rng, tmp, bound)
	p := c.weightParam("")
	p.SetTorch(tmp)
	uniform(rng, c.B, bound)
	return c
}

func uniform(rng *rand.Rand, x []float32, bound float64) {
	for i := range x {
		x[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

func (c *Conv1d) weightParam(prefix string) *Param {
	return &Param{Name: prefix + "weight", Shape: []int{c.Cout, c.Cin, c.Kernel}, Layout: ConvTimeMajor, Data: c.W}
}

// Params returns the weight and bias named prefix+"weight", prefix+"bias".
func (c *Conv1d) Params(prefix string) []*Param {
	return []*Param{c.weightParam(prefix), {Name: prefix + "bias", Shape: []int{c.Cout}, Data: c.B}}
}

// OutLen returns the number of output frames for tin input frames with the
// layer's zero padding on both sides (PyTorch's formula).
func (c *Conv1d) OutLen(tin int) int {
	n := tin + 2*c.Padding - c.Kernel
	if n < 0 {
		return 0
	}
	return n/c.Stride + 1
}

// PaddedOutLen returns the number of output frames of a signal of tp
// frames that already includes any padding.
func (c *Conv1d) PaddedOutLen(tp int) int {
	if tp < c.Kernel {
		return 0
	}
	return (tp-c.Kernel)/c.Stride + 1
}

// Pad returns x (tin x Cin) with Padding zero frames on both sides.
func (c *Conv1d) Pad(x []float32, tin int, buf []float32) []float32 {
	n := (tin + 2*c.Padding) * c.Cin
	buf = grow(buf, n)
	p := c.Padding * c.Cin
	zero(buf[:p])
	copy(buf[p:], x[:tin*c.Cin])
	zero(buf[p+tin*c.Cin:])
	return buf
}

// chunks calls f for each group of at most Stride kernel taps: taps
// [j*Stride, j*Stride+n) form a GEMM whose rows start every Stride*Cin
// values, a legal leading dimension because n <= Stride.
func (c *Conv1d) chunks(f func(off, cols int)) {
	for j := 0; j*c.Stride < c.Kernel; j++ {
		n := min(c.Stride, c.Kernel-j*c.Stride)
		f(j*c.Stride*c.Cin, n*c.Cin)
	}
}

// Forward computes the pre-activations a (T x Cout) of T output frames
// from the padded input xp, whose first row is the first row of the first
// window. xp must hold at least (T-1)*Stride+Kernel rows.
func (c *Conv1d) Forward(xp []float32, t int, a []float32) {
	if t == 0 {
		return
	}
	c.checkIn(xp, t)
	a = a[:t*c.Cout]
	for i := 0; i < t; i++ {
		copy(a[i*c.Cout:(i+1)*c.Cout], c.B)
	}
	kc := c.Kernel * c.Cin
	if c.narrow() {
		// A window of a few values (the first layer's 10 samples): one
		// GEMM on copied windows beats several GEMMs of depth Stride.
		p := c.patches(xp, t)
		gemm(false, true, t, c.Cout, kc, 1, *p, kc, c.W, kc, 1, a, c.Cout)
		patchPool.Put(p)
		return
	}
	ld := c.Stride * c.Cin
	c.chunks(func(off, cols int) {
		gemm(false, true, t, c.Cout, cols, 1, xp[off:], ld, c.W[off:], kc, 1, a, c.Cout)
	})
}

// narrow reports a window small enough to copy (im2col) for one GEMM.
func (c *Conv1d) narrow() bool { return c.Kernel*c.Cin <= 64 && c.Kernel > c.Stride }

// patchPool recycles window copies (layers may run on many goroutines at
// once, so the buffer is not the layer's).
var patchPool sync.Pool

// patches copies the t windows of xp into rows of Kernel*Cin values, in a
// buffer to return to patchPool.
func (c *Conv1d) patches(xp []float32, t int) *[]float32 {
	kc := c.Kernel * c.Cin
	p, _ := patchPool.Get().(*[]float32)
	if p == nil {
		p = new([]float32)
	}
	*p = grow(*p, t*kc)
	for i := 0; i < t; i++ {
		copy((*p)[i*kc:(i+1)*kc], xp[i*c.Stride*c.Cin:])
	}
	return p
}

func (c *Conv1d) checkIn(xp []float32, t int) {
	if need := ((t-1)*c.Stride + c.Kernel) * c.Cin; len(xp) < need {
		panic(fmt.Sprintf("model: Conv1d input has %d values, %d output frames need %d", len(xp), t, need))
	}
}

// WeightGrad accumulates into dW, dB the gradient of T output frames whose
// pre-activation gradient is dA (T x Cout), for padded input xp.
func (c *Conv1d) WeightGrad(xp []float32, t int, dA []float32, dW, dB []float32) {
	if t == 0 {
		return
	}
	c.checkIn(xp, t)
	ld := c.Stride * c.Cin
	kc := c.Kernel * c.Cin
	if c.narrow() {
		p := c.patches(xp, t)
		gemm(true, false, c.Cout, kc, t, 1, dA, c.Cout, *p, kc, 1, dW, kc)
		patchPool.Put(p)
	} else {
		c.chunks(func(off, cols int) {
			gemm(true, false, c.Cout, cols, t, 1, dA, c.Cout, xp[off:], ld, 1, dW[off:], kc)
		})
	}
	for i := 0; i < t; i++ {
		axpy(1, dA[i*c.Cout:(i+1)*c.Cout], dB)
	}
}

// InputGrad accumulates into dXp (shaped like the padded input) the
// gradient with respect to the input. CLAPP never needs it; the
// back-propagating baselines (end-to-end CPC, modules of several layers) do.
func (c *Conv1d) InputGrad(dA []float32, t int, dXp []float32) {
	if t == 0 {
		return
	}
	c.checkIn(dXp, t)
	ld := c.Stride * c.Cin
	kc := c.Kernel * c.Cin
	c.chunks(func(off, cols int) {
		gemm(false, false, t, cols, c.Cout, 1, dA, c.Cout, c.W[off:], kc, 1, dXp[off:], ld)
	})
}

// ReLU writes max(a, 0) into z. Pre-activations are positive or negative
// at random, so a branch mispredicts half the time: the sign bit is
// turned into a mask instead (a negative value, or -0, becomes +0).
func ReLU(a, z []float32) {
	z = z[:len(a)]
	for i, v := range a {
		b := math.Float32bits(v)
		z[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// ReLUGrad multiplies d by the derivative of ReLU at a (0 where a <= 0).
func ReLUGrad(a, d []float32) {
	d = d[:len(a)]
	for i, v := range a {
		// keep is all ones where a > 0, else zero: -0 and negatives have
		// the sign bit, +0 is zero.
		b := math.Float32bits(v)
		keep := uint32(int32(b)>>31) | uint32((int32(b)-1)>>31)
		d[i] = math.Float32frombits(math.Float32bits(d[i]) &^ keep)
	}
}
