package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// refProduct returns op(A) op(B) in float64 and the sum of the magnitudes
// of its terms, against which a float32 result's rounding is measured.
func refProduct(tA, tB blas.Transpose, m, n, k int, a []float64, lda int, b []float64, ldb int) (p, mag []float64) {
	p = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for l := 0; l < k; l++ {
				ai, bi := i*lda+l, l*ldb+j
				if isTrans(tA) {
					ai = l*lda + i
				}
				if isTrans(tB) {
					bi = j*ldb + l
				}
				t := a[ai] * b[bi]
				s += t
				sa += math.Abs(t)
			}
			p[i*n+j], mag[i*n+j] = s, sa
		}
	}
	return p, mag
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

type gemmShape struct{ m, n, k int }

var gemmShapes = []gemmShape{
	{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {3, 4, 1}, {2, 3, 0},
	{17, 13, 29}, {64, 64, 64}, {1, 300, 200}, {250, 3, 170},
	{8, 512, 96}, {123, 257, 311},
}

var alphaBetas = []struct{ alpha, beta float32 }{
	{1, 0}, {0.5, -1.5}, {-2, 1}, {0, 0.5}, {0, 0}, {1.25, 0},
}

// TestBackendsAgree checks Sgemm of each backend against a float64
// reference, and OpenBLAS against gonum, over all transposes, padded
// leading dimensions, alpha and beta including beta = 0 over a C full of
// NaN, and shapes from 1×1 to a few hundred. Elements of C outside the m×n
// result, and A and B, must be left bit for bit as they were.
func TestBackendsAgree(t *testing.T) {
	if openblasRequired() {
		if d := Default(); d.Name() != NameOpenBLAS {
			t.Errorf("%s=%s but Default is %q: %v", EnvVar, NameOpenBLAS, d.Name(), DefaultErr())
		}
	}
	eachBackend(t, func(t *testing.T, impl Backend) {
		rng := rand.New(rand.NewPCG(20261101, 1))
		for _, s := range gemmShapes {
			for _, tA := range transposes {
				for _, tB := range transposes {
					checkSgemm1(t, rng, impl, tA, tB, s)
				}
			}
		}
	})
}

func checkSgemm1(t *testing.T, rng *rand.Rand, impl Backend, tA, tB blas.Transpose, s gemmShape) {
	t.Helper()
	m, n, k := s.m, s.n, s.k
	ar, ac := m, k
	if isTrans(tA) {
		ar, ac = k, m
	}
	br, bc := k, n
	if isTrans(tB) {
		br, bc = n, k
	}
	// Leading dimensions padded by a few elements, the last row unpadded
	// so that the slices are exactly as long as gonum requires.
	lda, ldb, ldc := ac+1+rng.IntN(3), bc+rng.IntN(4), n+2
	lda, ldb, ldc = max(lda, 1), max(ldb, 1), max(ldc, 1)
	a := randSlice(rng, max(0, (ar-1)*lda+ac))
	b := randSlice(rng, max(0, (br-1)*ldb+bc))
	a0, b0 := append([]float32(nil), a...), append([]float32(nil), b...)
	prod, pmag := refProduct(tA, tB, m, n, k, to64(a), lda, to64(b), ldb)
	tol := tolerance(k)

	for _, ab := range alphaBetas {
		alpha, beta := ab.alpha, ab.beta
		name := fmt.Sprintf("%c%c/M=%d_N=%d_K=%d/alpha=%g_beta=%g", tA, tB, m, n, k, alpha, beta)
		c := randSlice(rng, max(0, (m-1)*ldc+n))
		for i := range c {
			// Padding of C is NaN: it must be neither read nor written.
			// With beta = 0 all of C is NaN: it must not be read.
			if beta == 0 || i%ldc >= n {
				c[i] = nan32()
			}
		}
		c0 := append([]float32(nil), c...)
		impl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

		var gonumC []float32
		if impl.Name() != NameGo {
			gonumC = append([]float32(nil), c0...)
			PureGo{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, gonumC, ldc)
		}
		bad := 0
		for idx := range c {
			i, j := idx/ldc, idx%ldc
			if j >= n {
				if math.Float32bits(c[idx]) != math.Float32bits(c0[idx]) {
					t.Errorf("%s: padding C[%d,%d] changed from %v to %v", name, i, j, c0[idx], c[idx])
					bad++
				}
				continue
			}
			w := float64(alpha) * prod[i*n+j]
			g := math.Abs(float64(alpha)) * pmag[i*n+j]
			if beta != 0 {
				w += float64(beta) * float64(c0[idx])
				g += math.Abs(float64(beta) * float64(c0[idx]))
			}
			if !within(c[idx], w, g, tol) {
				t.Errorf("%s: C[%d,%d] = %v, want %v (float64 reference, magnitude %g)", name, i, j, c[idx], w, g)
				bad++
			}
			if gonumC != nil && !within(c[idx], float64(gonumC[idx]), g, 2*tol) {
				t.Errorf("%s: C[%d,%d] = %v, gonum gives %v (magnitude %g)", name, i, j, c[idx], gonumC[idx], g)
				bad++
			}
			if bad > 5 {
				t.Fatalf("%s: giving up", name)
			}
		}
		if !sameBits(a, a0) || !sameBits(b, b0) {
			t.Errorf("%s: A or B changed", name)
		}
	}
}

// strided returns a vector of n elements at increment inc (negative
// increments store them backwards, as BLAS reads them), every other slot
// NaN, and the index of its i-th element.
func strided(rng *rand.Rand, n, inc int) ([]float32, func(i int) int) {
	ai := inc
	if ai < 0 {
		ai = -ai
	}
	v := make([]float32, max(0, (n-1)*ai+1))
	for i := range v {
		v[i] = nan32()
	}
	at := func(i int) int {
		if inc < 0 {
			return (n - 1 - i) * ai
		}
		return i * inc
	}
	for i := 0; i < n; i++ {
		v[at(i)] = 2*rng.Float32() - 1
	}
	return v, at
}

func TestSgemvAgree(t *testing.T) {
	eachBackend(t, func(t *testing.T, impl Backend) {
		rng := rand.New(rand.NewPCG(20261101, 2))
		for _, s := range []struct{ m, n int }{{1, 1}, {1, 9}, {7, 1}, {13, 29}, {300, 170}, {64, 513}} {
			for _, tA := range transposes {
				for _, inc := range [][2]int{{1, 1}, {2, -3}, {-1, 2}} {
					for _, ab := range alphaBetas {
						checkSgemv1(t, rng, impl, tA, s.m, s.n, inc[0], inc[1], ab.alpha, ab.beta)
					}
				}
			}
		}
	})
}

func checkSgemv1(t *testing.T, rng *rand.Rand, impl Backend, tA blas.Transpose, m, n, incX, incY int, alpha, beta float32) {
	t.Helper()
	lda := n + 3
	a := randSlice(rng, (m-1)*lda+n)
	lenX, lenY := n, m
	if isTrans(tA) {
		lenX, lenY = m, n
	}
	x, atX := strided(rng, lenX, incX)
	y, atY := strided(rng, lenY, incY)
	if beta == 0 {
		for i := range y {
			y[i] = nan32()
		}
	}
	y0 := append([]float32(nil), y...)
	name := fmt.Sprintf("%c/M=%d_N=%d/incX=%d_incY=%d/alpha=%g_beta=%g", tA, m, n, incX, incY, alpha, beta)
	impl.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)

	touched := make(map[int]bool)
	for i := 0; i < lenY; i++ {
		var s, g float64
		for j := 0; j < lenX; j++ {
			var av float64
			if isTrans(tA) {
				av = float64(a[j*lda+i])
			} else {
				av = float64(a[i*lda+j])
			}
			p := av * float64(x[atX(j)])
			s, g = s+p, g+math.Abs(p)
		}
		w, mag := float64(alpha)*s, math.Abs(float64(alpha))*g
		if beta != 0 {
			w += float64(beta) * float64(y0[atY(i)])
			mag += math.Abs(float64(beta) * float64(y0[atY(i)]))
		}
		touched[atY(i)] = true
		if got := y[atY(i)]; !within(got, w, mag, tolerance(lenX)) {
			t.Fatalf("%s: y[%d] = %v, want %v", name, i, got, w)
		}
	}
	for i := range y {
		if !touched[i] && math.Float32bits(y[i]) != math.Float32bits(y0[i]) {
			t.Fatalf("%s: slot %d of y between elements changed", name, i)
		}
	}
}

func TestSgerAgree(t *testing.T) {
	eachBackend(t, func(t *testing.T, impl Backend) {
		rng := rand.New(rand.NewPCG(20261101, 3))
		for _, s := range []struct{ m, n int }{{1, 1}, {1, 9}, {7, 1}, {13, 29}, {300, 170}} {
			for _, inc := range [][2]int{{1, 1}, {2, -3}, {-1, 2}} {
				for _, alpha := range []float32{1, -0.75, 0} {
					m, n, lda := s.m, s.n, s.n+2
					x, atX := strided(rng, m, inc[0])
					y, atY := strided(rng, n, inc[1])
					a := randSlice(rng, (m-1)*lda+n)
					for i := 0; i < m-1; i++ {
						a[i*lda+n], a[i*lda+n+1] = nan32(), nan32()
					}
					a0 := append([]float32(nil), a...)
					name := fmt.Sprintf("M=%d_N=%d/incX=%d_incY=%d/alpha=%g", m, n, inc[0], inc[1], alpha)
					impl.Sger(m, n, alpha, x, inc[0], y, inc[1], a, lda)
					for i := 0; i < m; i++ {
						for j := 0; j < lda && i*lda+j < len(a); j++ {
							idx := i*lda + j
							if j >= n {
								if math.Float32bits(a[idx]) != math.Float32bits(a0[idx]) {
									t.Fatalf("%s: padding A[%d,%d] changed", name, i, j)
								}
								continue
							}
							p := float64(alpha) * float64(x[atX(i)]) * float64(y[atY(j)])
							w := float64(a0[idx]) + p
							if !within(a[idx], w, math.Abs(float64(a0[idx]))+math.Abs(p), tolerance(1)) {
								t.Fatalf("%s: A[%d,%d] = %v, want %v", name, i, j, a[idx], w)
							}
						}
					}
				}
			}
		}
	})
}

func TestSscalAgree(t *testing.T) {
	eachBackend(t, func(t *testing.T, impl Backend) {
		rng := rand.New(rand.NewPCG(20261101, 4))
		for _, n := range []int{1, 5, 4097} {
			for _, inc := range []int{1, 3, -2} {
				for _, alpha := range []float32{0.5, -3, 0, 1} {
					x, at := strided(rng, n, max(inc, -inc))
					if alpha == 0 {
						x[at(0)] = nan32() // gonum zeroes x for alpha 0, NaN included.
					}
					x0 := append([]float32(nil), x...)
					name := fmt.Sprintf("N=%d/incX=%d/alpha=%g", n, inc, alpha)
					impl.Sscal(n, alpha, x, inc)
					if inc < 0 {
						// gonum does nothing for a negative increment.
						if !sameBits(x, x0) {
							t.Fatalf("%s: x changed", name)
						}
						continue
					}
					touched := make(map[int]bool)
					for i := 0; i < n; i++ {
						touched[at(i)] = true
						w := float64(alpha) * float64(x0[at(i)])
						if alpha == 0 {
							w = 0
						}
						if !within(x[at(i)], w, math.Abs(w), tolerance(0)) {
							t.Fatalf("%s: x[%d] = %v, want %v", name, i, x[at(i)], w)
						}
					}
					for i := range x {
						if !touched[i] && math.Float32bits(x[i]) != math.Float32bits(x0[i]) {
							t.Fatalf("%s: slot %d between elements changed", name, i)
						}
					}
				}
			}
		}
	})
}

// TestZeroSizes calls the forwarded routines with empty and nil slices
// where the sizes allow them: nothing may panic or reach C with a nil
// pointer it would dereference.
func TestZeroSizes(t *testing.T) {
	eachBackend(t, func(t *testing.T, impl Backend) {
		impl.Sgemm(blas.NoTrans, blas.NoTrans, 0, 0, 0, 1, nil, 1, nil, 1, 0, nil, 1)
		impl.Sgemm(blas.NoTrans, blas.Trans, 0, 5, 3, 1, nil, 3, make([]float32, 15), 3, 0, nil, 5)
		impl.Sgemm(blas.Trans, blas.NoTrans, 4, 0, 3, 1, make([]float32, 12), 4, nil, 1, 0, nil, 1)
		// k == 0: C = beta C, A and B never read.
		c := []float32{1, 2, 3, 4}
		impl.Sgemm(blas.NoTrans, blas.NoTrans, 1, 4, 0, 1, nil, 1, nil, 4, 2, c, 4)
		if want := []float32{2, 4, 6, 8}; !sameBits(c, want) {
			t.Errorf("k=0: C = %v, want %v", c, want)
		}
		impl.Sgemv(blas.NoTrans, 0, 3, 1, nil, 3, nil, 1, 0, nil, 1)
		impl.Sgemv(blas.Trans, 3, 0, 1, nil, 1, nil, 1, 0, nil, 1)
		impl.Sger(0, 3, 1, nil, 1, nil, 1, nil, 3)
		impl.Sscal(0, 2, nil, 1)
		impl.Sscal(3, 2, nil, -1)
		if got := impl.Sdot(0, nil, 1, nil, 1); got != 0 {
			t.Errorf("Sdot of nothing = %v", got)
		}
		impl.Saxpy(0, 1, nil, 1, nil, 1)
	})
}
