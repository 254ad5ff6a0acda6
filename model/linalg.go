package model

import (
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	mblas "clapp/model/blas"
)

// impl is the BLAS every layer uses: by default the backend model/blas
// selects on first use (OpenBLAS when the machine has it, CLAPP_BLAS
// forces one), or what SetBLAS installed. An atomic pointer keeps the race
// detector quiet when tests switch backends between cases.
var (
	impl     atomic.Pointer[blasBox]
	implOnce sync.Once
)

type blasBox struct{ b blas.Float32 }

// SetBLAS makes b the BLAS implementation of every layer. Call it before
// any layer runs; it is not meant to be switched while layers compute.
func SetBLAS(b blas.Float32) {
	implOnce.Do(func() {})
	impl.Store(&blasBox{b})
}

// BLAS returns the implementation in use.
func BLAS() blas.Float32 { return cur() }

func cur() blas.Float32 {
	if p := impl.Load(); p != nil {
		return p.b
	}
	implOnce.Do(func() { impl.CompareAndSwap(nil, &blasBox{mblas.Default()}) })
	return impl.Load().b
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes c = alpha*op(a)*op(b) + beta*c on row-major matrices.
func gemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if beta != 1 {
			for i := 0; i < m; i++ {
				row := c[i*ldc : i*ldc+n]
				for j := range row {
					row[j] *= beta
				}
			}
		}
		return
	}
	cur().Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemv computes y = alpha*op(a)*x + beta*y for a row-major m x n matrix a.
func gemv(tA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	if m == 0 || n == 0 {
		return
	}
	cur().Sgemv(trans(tA), m, n, alpha, a, lda, x, 1, beta, y, 1)
}

// level1 is gonum's pure-Go BLAS, whose vector kernels are assembly: for
// short vectors a call into C costs more than it saves.
var level1 gonum.Implementation

// axpy computes y += alpha*x.
func axpy(alpha float32, x, y []float32) {
	if len(x) >= 32 {
		level1.Saxpy(len(x), alpha, x, 1, y[:len(x)], 1)
		return
	}
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// dot returns x . y.
func dot(x, y []float32) float32 {
	if len(x) >= 32 {
		return level1.Sdot(len(x), x, 1, y[:len(x)], 1)
	}
	y = y[:len(x)]
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func zero(x []float32) {
	for i := range x {
		x[i] = 0
	}
}

// grow returns a slice of length n, reusing buf when it is large enough.
// The contents are not cleared.
func grow(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]float32, n, n+n/4)
}

// growZero is grow followed by clearing.
func growZero(buf []float32, n int) []float32 {
	buf = grow(buf, n)
	zero(buf)
	return buf
}

// extend returns buf resized to n values, keeping its contents.
func extend(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	out := make([]float32, n, n+n/2)
	copy(out, buf)
	return out
}
