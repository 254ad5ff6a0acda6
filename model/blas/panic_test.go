package blas

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// badCalls are calls with bad arguments, each of which must panic. The
// slices are otherwise big enough, so each case trips one check.
var badCalls = []struct {
	name string
	call func(impl blas.Float32)
}{
	// Sgemm: C (2×3) = A (2×4) B (4×3).
	{"Sgemm/tA", func(i blas.Float32) { i.Sgemm('X', blas.NoTrans, 2, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/tB", func(i blas.Float32) { i.Sgemm(blas.NoTrans, 0, 2, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/m<0", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, -1, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/n<0", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, -3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/k<0", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, -4, 1, f(8), 4, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/lda", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 4, 1, f(8), 3, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/lda/T", func(i blas.Float32) { i.Sgemm(blas.Trans, blas.NoTrans, 2, 3, 4, 1, f(8), 1, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/lda/0", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 0, 3, 0, 1, nil, 0, f(12), 3, 0, nil, 3) }},
	{"Sgemm/ldb", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 4, 1, f(8), 4, f(12), 2, 0, f(6), 3) }},
	{"Sgemm/ldb/T", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.Trans, 2, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/ldc", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 2) }},
	{"Sgemm/shortA", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 4, 1, f(7), 4, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/shortA/T", func(i blas.Float32) { i.Sgemm(blas.Trans, blas.NoTrans, 2, 3, 4, 1, f(9), 3, f(12), 3, 0, f(6), 3) }},
	{"Sgemm/shortB", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 4, 1, f(8), 4, f(11), 3, 0, f(6), 3) }},
	{"Sgemm/shortB/T", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.Trans, 2, 3, 4, 1, f(8), 4, f(11), 4, 0, f(6), 3) }},
	{"Sgemm/shortC", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 4, 1, f(8), 4, f(12), 3, 0, f(5), 3) }},
	{"Sgemm/shortC/ldc", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 4) }},
	{"Sgemm/shortC/k=0", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 0, 1, f(1), 1, nil, 3, 0, f(5), 3) }},
	{"Sgemm/nilA", func(i blas.Float32) { i.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 4, 1, nil, 4, f(12), 3, 0, f(6), 3) }},

	// Sgemv: A 2×3.
	{"Sgemv/tA", func(i blas.Float32) { i.Sgemv('X', 2, 3, 1, f(6), 3, f(3), 1, 0, f(2), 1) }},
	{"Sgemv/m<0", func(i blas.Float32) { i.Sgemv(blas.NoTrans, -2, 3, 1, f(6), 3, f(3), 1, 0, f(2), 1) }},
	{"Sgemv/n<0", func(i blas.Float32) { i.Sgemv(blas.NoTrans, 2, -3, 1, f(6), 3, f(3), 1, 0, f(2), 1) }},
	{"Sgemv/lda", func(i blas.Float32) { i.Sgemv(blas.NoTrans, 2, 3, 1, f(6), 2, f(3), 1, 0, f(2), 1) }},
	{"Sgemv/incX", func(i blas.Float32) { i.Sgemv(blas.NoTrans, 2, 3, 1, f(6), 3, f(3), 0, 0, f(2), 1) }},
	{"Sgemv/incY", func(i blas.Float32) { i.Sgemv(blas.NoTrans, 2, 3, 1, f(6), 3, f(3), 1, 0, f(2), 0) }},
	{"Sgemv/shortX", func(i blas.Float32) { i.Sgemv(blas.NoTrans, 2, 3, 1, f(6), 3, f(2), 1, 0, f(2), 1) }},
	{"Sgemv/shortX/T", func(i blas.Float32) { i.Sgemv(blas.Trans, 2, 3, 1, f(6), 3, f(2), -2, 0, f(3), 1) }},
	{"Sgemv/shortY", func(i blas.Float32) { i.Sgemv(blas.NoTrans, 2, 3, 1, f(6), 3, f(3), 1, 0, f(1), 1) }},
	{"Sgemv/shortY/T", func(i blas.Float32) { i.Sgemv(blas.Trans, 2, 3, 1, f(6), 3, f(2), 1, 0, f(5), 3) }},
	{"Sgemv/shortA", func(i blas.Float32) { i.Sgemv(blas.NoTrans, 2, 3, 1, f(5), 3, f(3), 1, 0, f(2), 1) }},

	// Sger: A 2×3.
	{"Sger/m<0", func(i blas.Float32) { i.Sger(-2, 3, 1, f(2), 1, f(3), 1, f(6), 3) }},
	{"Sger/n<0", func(i blas.Float32) { i.Sger(2, -3, 1, f(2), 1, f(3), 1, f(6), 3) }},
	{"Sger/lda", func(i blas.Float32) { i.Sger(2, 3, 1, f(2), 1, f(3), 1, f(6), 2) }},
	{"Sger/incX", func(i blas.Float32) { i.Sger(2, 3, 1, f(2), 0, f(3), 1, f(6), 3) }},
	{"Sger/incY", func(i blas.Float32) { i.Sger(2, 3, 1, f(2), 1, f(3), 0, f(6), 3) }},
	{"Sger/shortX", func(i blas.Float32) { i.Sger(2, 3, 1, f(2), -2, f(3), 1, f(6), 3) }},
	{"Sger/shortY", func(i blas.Float32) { i.Sger(2, 3, 1, f(2), 1, f(2), 1, f(6), 3) }},
	{"Sger/shortA", func(i blas.Float32) { i.Sger(2, 3, 1, f(2), 1, f(3), 1, f(5), 3) }},

	// Level 1.
	{"Sscal/incX", func(i blas.Float32) { i.Sscal(3, 2, f(3), 0) }},
	{"Sscal/n<0", func(i blas.Float32) { i.Sscal(-1, 2, f(3), 1) }},
	{"Sscal/shortX", func(i blas.Float32) { i.Sscal(3, 2, f(4), 2) }},
	{"Saxpy/shortY", func(i blas.Float32) { i.Saxpy(3, 2, f(3), 1, f(2), 1) }},
	{"Saxpy/incX", func(i blas.Float32) { i.Saxpy(3, 2, f(3), 0, f(3), 1) }},
	{"Sdot/shortX", func(i blas.Float32) { i.Sdot(3, f(3), -2, f(3), 1) }},
	{"Sdot/n<0", func(i blas.Float32) { i.Sdot(-3, f(3), 1, f(3), 1) }},
}

func f(n int) []float32 { return make([]float32, n) }

func panicOf(call func()) (v any) {
	defer func() { v = recover() }()
	call()
	return nil
}

// TestPanicsAgree checks that every bad call panics, with gonum's message,
// on every backend; on OpenBLAS that happens in Go, before C is called.
func TestPanicsAgree(t *testing.T) {
	eachBackend(t, func(t *testing.T, impl Backend) {
		for _, c := range badCalls {
			want := panicOf(func() { c.call(PureGo{}) })
			if want == nil {
				t.Errorf("%s: gonum does not panic; the case is wrong", c.name)
				continue
			}
			got := panicOf(func() { c.call(impl) })
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: panic %v, want %v", c.name, got, want)
			}
		}
	})
}
