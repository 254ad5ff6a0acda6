package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestReleasedBuffersReused: a stream that takes over the buffers of a
// released one (full of its frames) computes what the whole padded
// utterance gives in one convolution, and the same learning windows as on
// fresh memory.
func TestReleasedBuffersReused(t *testing.T) {
	e, err := NewEncoder(NarrowConfig(16, 8), 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	audio := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64()) * 0.1
		}
		return x
	}
	// run feeds x in blocks and returns every block's output and learning
	// window, copied.
	run := func(l *ConvLayer, s *ConvStream, x []float32, block int) (outs, wins [][]float32) {
		for off := 0; off < len(x); off += block {
			end := min(off+block, len(x))
			z := l.Forward(s, x[off:end], end-off, end == len(x))
			outs = append(outs, slices.Clone(z))
			w := s.Window()
			wins = append(wins, slices.Concat(w.A, w.Z, w.XP))
		}
		return outs, wins
	}
	l := e.Convs[0]
	a, b := audio(40_000), audio(23_001) // b ends in a window over the end padding
	wantOut, wantWin := run(l, l.NewStream(0), b, 3200)
	c := l.Conv
	T := c.OutLen(len(b))
	batch := make([]float32, T*c.Cout)
	xb := slices.Clone(b)
	for i := range xb {
		xb[i] = (xb[i] - l.Norm[0]) / l.Norm[1]
	}
	c.Forward(c.Pad(xb, len(b), nil), T, batch)
	ReLU(batch, batch)
	for range 3 {
		s := l.NewStream(0)
		run(l, s, a, 3200) // the same block size: the same buffer sizes
		// What a new stream must never read: poison every value.
		for _, buf := range [][]float32{s.in, s.win.A, s.win.Z} {
			buf = buf[:cap(buf)]
			for i := range buf {
				buf[i] = float32(math.NaN())
			}
		}
		l.Release(s)
		gotOut, gotWin := run(l, l.NewStream(0), b, 3200)
		for i := range wantOut {
			if !slices.Equal(gotWin[i], wantWin[i]) {
				t.Fatalf("block %d: the learning window differs on recycled buffers", i)
			}
		}
		got := slices.Concat(gotOut...)
		if len(got) != len(batch) {
			t.Fatalf("recycled buffers: %d output values, the whole utterance gives %d", len(got), len(batch))
		}
		for i := range got {
			// Block and whole-utterance products may sum in another order.
			if d := math.Abs(float64(got[i] - batch[i])); d > 1e-5*(1+math.Abs(float64(batch[i]))) {
				t.Fatalf("recycled buffers: frame %d channel %d is %g, the whole utterance gives %g", i/c.Cout, i%c.Cout, got[i], batch[i])
			}
		}
	}
}
