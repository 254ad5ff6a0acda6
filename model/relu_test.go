package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestReLUBitTricks(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1e-38, -1e-38, 3.5, -2.25, float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 1000; i++ {
		vals = append(vals, float32(rng.NormFloat64()))
	}
	z := make([]float32, len(vals))
	ReLU(vals, z)
	d := make([]float32, len(vals))
	for i := range d {
		d[i] = 7
	}
	ReLUGrad(vals, d)
	for i, v := range vals {
		want, wantD := float32(0), float32(0)
		if v > 0 {
			want, wantD = v, 7
		}
		if z[i] != want || math.Signbit(float64(z[i])) {
			t.Errorf("ReLU(%g) = %g, want %g", v, z[i], want)
		}
		if d[i] != wantD {
			t.Errorf("ReLUGrad at %g = %g, want %g", v, d[i], wantD)
		}
	}
}

func BenchmarkReLU(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	a := randn(rng, 1<<21, 1)
	z := make([]float32, len(a))
	b.SetBytes(int64(8 * len(a)))
	for i := 0; i < b.N; i++ {
		ReLU(a, z)
	}
}
