package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestConv1dAgainstNaive checks the GEMM paths (windows copied for small
// kernels, strided views otherwise) against a direct float64 loop, for the
// forward pass, the weight gradient and the input gradient.
func TestConv1dAgainstNaive(t *testing.T) {
	cases := []struct{ cin, cout, k, s, p, tin int }{
		{1, 8, 10, 5, 2, 103}, // first layer: copied windows
		{33, 7, 4, 2, 2, 41},  // strided views, kernel = 2 strides
		{17, 5, 8, 4, 2, 60},  // strided views
		{9, 6, 7, 4, 1, 50},   // kernel not a multiple of the stride
		{20, 4, 3, 5, 0, 64},  // stride above the kernel
		{3, 4, 9, 3, 1, 40},   // copied windows, three strides
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("cin=%d_k=%d_s=%d", tc.cin, tc.k, tc.s), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.cin), uint64(tc.k)))
			c := NewConv1d(tc.cin, tc.cout, tc.k, tc.s, tc.p, rng)
			x := randn(rng, tc.tin*tc.cin, 1)
			T := c.OutLen(tc.tin)
			xp := c.Pad(x, tc.tin, nil)
			a := make([]float32, T*tc.cout)
			c.Forward(xp, T, a)
			dA := randn(rng, T*tc.cout, 1)
			dW := make([]float32, len(c.W))
			dB := make([]float32, len(c.B))
			c.WeightGrad(xp, T, dA, dW, dB)
			dX := make([]float32, len(xp))
			c.InputGrad(dA, T, dX)
			// Naive reference.
			ra := make([]float32, len(a))
			rW := make([]float32, len(dW))
			rX := make([]float32, len(dX))
			for t0 := 0; t0 < T; t0++ {
				for o := 0; o < tc.cout; o++ {
					s := float64(c.B[o])
					for j := 0; j < tc.k; j++ {
						for i := 0; i < tc.cin; i++ {
							xi := (t0*tc.s+j)*tc.cin + i
							wi := (o*tc.k+j)*tc.cin + i
							s += float64(c.W[wi]) * float64(xp[xi])
							rW[wi] += dA[t0*tc.cout+o] * xp[xi]
							rX[xi] += dA[t0*tc.cout+o] * c.W[wi]
						}
					}
					ra[t0*tc.cout+o] = float32(s)
				}
			}
			for name, pair := range map[string][2][]float32{"forward": {a, ra}, "weight grad": {dW, rW}, "input grad": {dX, rX}} {
				if d := maxRelDiff(pair[0], pair[1]); d > 1e-5 {
					t.Errorf("%s differs from the direct loop by %g", name, d)
				}
			}
		})
	}
}
