package blas

import "gonum.org/v1/gonum/blas/gonum"

// Sger performs the rank-one operation
//
//	A += alpha * x * yᵀ
//
// where A is an m×n row-major matrix, as gonum.Implementation.Sger does
// but correct for negative increments; see sger.
func (PureGo) Sger(m, n int, alpha float32, x []float32, incX int, y []float32, incY int, a []float32, lda int) {
	sger(m, n, alpha, x, incX, y, incY, a, lda)
}

// sger is gonum's Sger, except that calls with a negative increment are
// done here row by row with Saxpy: gonum v0.17.0's amd64 assembly for Ger
// leaves A unchanged (and reads at wrong offsets) when incX or incY is
// negative, https://github.com/gonum/gonum/issues/2105.
func sger(m, n int, alpha float32, x []float32, incX int, y []float32, incY int, a []float32, lda int) {
	var impl gonum.Implementation
	if incX > 0 && incY > 0 {
		impl.Sger(m, n, alpha, x, incX, y, incY, a, lda)
		return
	}
	checkSger(m, n, x, incX, y, incY, a, lda)
	if m == 0 || n == 0 || alpha == 0 {
		return
	}
	ix := 0
	if incX < 0 {
		ix = (1 - m) * incX
	}
	for i := 0; i < m; i++ {
		impl.Saxpy(n, alpha*x[ix], y, incY, a[i*lda:i*lda+n], 1)
		ix += incX
	}
}
