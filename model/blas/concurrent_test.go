package blas

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestConcurrentSgemm runs Sgemm on OpenBLAS from several goroutines at
// once, as layer actors do, and requires every result to be bit for bit
// the one a sequential call gives, with one thread per call and with the
// library's default.
func TestConcurrentSgemm(t *testing.T) {
	o := openblasForTest(t)
	type problem struct {
		tA, tB      blas.Transpose
		m, n, k     int
		a, b, c0    []float32
		lda, ldb    int
		alpha, beta float32
		want        []float32
	}
	rng := rand.New(rand.NewPCG(20261101, 5))
	var probs []*problem
	for i, s := range []gemmShape{{255, 128, 512}, {8, 512, 512}, {64, 300, 100}, {200, 200, 200}, {31, 17, 1000}, {128, 64, 32}} {
		p := &problem{tA: transposes[i%2], tB: transposes[i/2%2], m: s.m, n: s.n, k: s.k, alpha: 1, beta: float32(i % 2)}
		p.lda, p.ldb = s.k, s.n
		if isTrans(p.tA) {
			p.lda = s.m
		}
		if isTrans(p.tB) {
			p.ldb = s.k
		}
		p.a, p.b, p.c0 = randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), randSlice(rng, s.m*s.n)
		probs = append(probs, p)
	}
	run := func(p *problem) []float32 {
		c := append([]float32(nil), p.c0...)
		o.Sgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.n)
		return c
	}

	t.Cleanup(func() { o.SetThreads(0) })
	for _, threads := range []int{1, 0} {
		o.SetThreads(threads)
		t.Run(fmt.Sprintf("threads=%d", o.Threads()), func(t *testing.T) {
			for _, p := range probs {
				p.want = run(p)
			}
			const goroutines, rounds = 4, 3
			var wg sync.WaitGroup
			errs := make(chan string, goroutines*rounds*len(probs))
			for g := range goroutines {
				wg.Go(func() {
					for r := range rounds {
						for i := range probs {
							p := probs[(i+g+r)%len(probs)]
							if got := run(p); !sameBits(got, p.want) {
								errs <- fmt.Sprintf("goroutine %d: M=%d_N=%d_K=%d differs from the sequential result", g, p.m, p.n, p.k)
							}
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

func TestThreads(t *testing.T) {
	o := openblasForTest(t)
	start := o.lib.startThreads
	t.Cleanup(func() { o.SetThreads(0) })
	o.SetThreads(1)
	if got := o.Threads(); got != 1 {
		t.Errorf("after SetThreads(1), Threads() = %d", got)
	}
	o.SetThreads(0)
	if got := o.Threads(); got != start {
		t.Errorf("after SetThreads(0), Threads() = %d, want the starting %d", got, start)
	}
	if o.Config() == "" || o.Path() == "" {
		t.Errorf("Config %q, Path %q: want both", o.Config(), o.Path())
	}
}

func TestMeasureSgemm(t *testing.T) {
	eachBackend(t, func(t *testing.T, impl Backend) {
		g := MeasureSgemm(impl, 64, 64, 64, 0)
		if !(g > 0) || g > 1e6 {
			t.Errorf("MeasureSgemm = %v GFLOP/s", g)
		}
	})
	if panicOf(func() { MeasureSgemm(PureGo{}, 0, 1, 1, 0) }) == nil {
		t.Error("MeasureSgemm with m = 0 did not panic")
	}
}
