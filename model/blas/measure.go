package blas

import (
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/blas"
)

// MeasureSgemm returns the rate in GFLOP/s (2·m·n·k floating point
// operations per call) at which impl computes C = A·B for an m×k A and a
// k×n B, timed over back-to-back calls for at least d after one untimed
// warm-up call. Other benchmarks report their own rate as a fraction of
// this one, measured in the same process, so that the fraction does not
// depend on the machine or on what else it is doing. MeasureSgemm uses the
// thread setting impl has when it is called. It panics if m, n or k is
// less than 1.
func MeasureSgemm(impl blas.Float32Level3, m, n, k int, d time.Duration) float64 {
	if m < 1 || n < 1 || k < 1 {
		panic("blas: MeasureSgemm needs m, n, k >= 1")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	a := randSlice(rng, m*k)
	b := randSlice(rng, k*n)
	c := make([]float32, m*n)
	call := func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n) }

	call()
	var calls int
	start := time.Now()
	elapsed := time.Duration(0)
	for calls == 0 || elapsed < d {
		call()
		calls++
		elapsed = time.Since(start)
	}
	return 2 * float64(m) * float64(n) * float64(k) * float64(calls) / elapsed.Seconds() / 1e9
}

// randSlice returns n values uniform in [-1, 1).
func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}
