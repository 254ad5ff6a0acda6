package blas

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// Shapes of the record: a large square-ish product, the model's layer
// (1023 timesteps by 512 channels, kernel and input channels 2048 deep),
// and a skinny one (8 rows, as in a short block of frames).
var benchShapes = []gemmShape{{512, 1024, 2048}, {1023, 512, 2048}, {8, 512, 512}}

// benchBackend is a backend at a thread setting, set up by use.
type benchBackend struct {
	name string
	use  func(b *testing.B) Backend
}

// benchBackends lists pure Go, and OpenBLAS with one thread per call and
// with its default; the OpenBLAS ones skip when it is not installed.
func benchBackends() []benchBackend {
	list := []benchBackend{{"backend=" + NameGo, func(*testing.B) Backend { return PureGo{} }}}
	defThreads := "default"
	if o, err := LoadOpenBLAS(); err == nil {
		defThreads = fmt.Sprint(o.lib.startThreads)
	}
	for _, th := range []struct {
		name string
		n    int
	}{{"1", 1}, {defThreads, 0}} {
		list = append(list, benchBackend{"backend=" + NameOpenBLAS + "/threads=" + th.name, func(b *testing.B) Backend {
			o := openblasForTest(b)
			o.SetThreads(th.n)
			b.Cleanup(func() { o.SetThreads(0) })
			return o
		}})
	}
	return list
}

func shapeName(s gemmShape) string { return fmt.Sprintf("M=%d_N=%d_K=%d", s.m, s.n, s.k) }

func gflops(b *testing.B, flopsPerOp float64) {
	b.ReportMetric(flopsPerOp*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm measures C = A B (no transposes, beta 0) in GFLOP/s.
func BenchmarkSgemm(b *testing.B) {
	for _, be := range benchBackends() {
		for _, s := range benchShapes {
			b.Run(be.name+"/"+shapeName(s), func(b *testing.B) {
				impl := be.use(b)
				rng := rand.New(rand.NewPCG(1, 2))
				a, bb, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
				for b.Loop() {
					impl.Sgemm(blas.NoTrans, blas.NoTrans, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
				}
				gflops(b, 2*float64(s.m*s.n*s.k))
			})
		}
	}
}

// BenchmarkSgemmConcurrent runs the model's shape in two goroutines at
// once, as two layer actors do, and reports their total GFLOP/s: the
// numbers behind the advice to give OpenBLAS one thread per call.
func BenchmarkSgemmConcurrent(b *testing.B) {
	const actors = 2
	s := gemmShape{1023, 512, 2048}
	for _, be := range benchBackends() {
		b.Run(fmt.Sprintf("%s/actors=%d/%s", be.name, actors, shapeName(s)), func(b *testing.B) {
			impl := be.use(b)
			rng := rand.New(rand.NewPCG(1, 2))
			a, bb := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n)
			cs := make([][]float32, actors)
			for i := range cs {
				cs[i] = make([]float32, s.m*s.n)
			}
			for b.Loop() {
				var wg sync.WaitGroup
				for _, c := range cs {
					wg.Go(func() {
						impl.Sgemm(blas.NoTrans, blas.NoTrans, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
					})
				}
				wg.Wait()
			}
			gflops(b, actors*2*float64(s.m*s.n*s.k))
		})
	}
}

// BenchmarkCrossover times small calls on both backends, OpenBLAS forced
// through C, to place the sizes below which OpenBLAS calls stay in gonum
// (minSgemmWork, minSgemvWork, minSscalLen).
func BenchmarkCrossover(b *testing.B) {
	backends := []benchBackend{
		{"backend=" + NameGo, func(*testing.B) Backend { return PureGo{} }},
		{"backend=" + NameOpenBLAS, func(b *testing.B) Backend { o := openblasForTest(b); forceC(b); return o }},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, be := range backends {
		for _, d := range []int{8, 16, 24, 32} {
			b.Run(fmt.Sprintf("Sgemm/%s/%s", be.name, shapeName(gemmShape{d, d, d})), func(b *testing.B) {
				impl := be.use(b)
				a, bb, c := randSlice(rng, d*d), randSlice(rng, d*d), make([]float32, d*d)
				for b.Loop() {
					impl.Sgemm(blas.NoTrans, blas.NoTrans, d, d, d, 1, a, d, bb, d, 0, c, d)
				}
			})
		}
		for _, d := range []int{128, 256, 512} {
			a, x, y := randSlice(rng, d*d), randSlice(rng, d), randSlice(rng, d)
			b.Run(fmt.Sprintf("Sgemv/%s/M=%d_N=%d", be.name, d, d), func(b *testing.B) {
				impl := be.use(b)
				for b.Loop() {
					impl.Sgemv(blas.NoTrans, d, d, 1, a, d, x, 1, 0, y, 1)
				}
			})
			b.Run(fmt.Sprintf("Sger/%s/M=%d_N=%d", be.name, d, d), func(b *testing.B) {
				impl := be.use(b)
				for b.Loop() {
					impl.Sger(d, d, 1e-9, x, 1, y, 1, a, d)
				}
			})
		}
		for _, n := range []int{1024, 4096, 16384} {
			b.Run(fmt.Sprintf("Sscal/%s/N=%d", be.name, n), func(b *testing.B) {
				impl := be.use(b)
				x := randSlice(rng, n)
				for b.Loop() {
					impl.Sscal(n, 0.999, x, 1)
				}
			})
		}
	}
}
