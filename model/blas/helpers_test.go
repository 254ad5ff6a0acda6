package blas

import (
	"math"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// openblasRequired reports whether the environment demands OpenBLAS, as CI
// does on its second run, after installing libopenblas0.
func openblasRequired() bool {
	return strings.EqualFold(strings.TrimSpace(os.Getenv(EnvVar)), NameOpenBLAS)
}

// openblasForTest returns the OpenBLAS backend, skips the test when it
// cannot be loaded, and fails it instead when EnvVar says openblas.
func openblasForTest(t testing.TB) *OpenBLAS {
	t.Helper()
	o, err := LoadOpenBLAS()
	if err != nil {
		if openblasRequired() {
			t.Fatalf("%s=%s, but: %v", EnvVar, NameOpenBLAS, err)
		}
		t.Skipf("OpenBLAS half skipped, library not loadable (set %s=%s to make this a failure): %v", EnvVar, NameOpenBLAS, err)
	}
	return o
}

// forceC makes every call of the OpenBLAS backend go to C, however small,
// until the test ends.
func forceC(t testing.TB) {
	t.Helper()
	gemm, gemv, scal := minSgemmWork, minSgemvWork, minSscalLen
	minSgemmWork, minSgemvWork, minSscalLen = 0, 0, 0
	t.Cleanup(func() { minSgemmWork, minSgemvWork, minSscalLen = gemm, gemv, scal })
}

// backends returns the backends to test: gonum always, OpenBLAS (forced
// through C at every size) unless skipped by openblasForTest, which is
// then run as a subtest so that only that half is skipped.
func eachBackend(t *testing.T, f func(t *testing.T, impl Backend)) {
	t.Run("backend="+NameGo, func(t *testing.T) { f(t, PureGo{}) })
	t.Run("backend="+NameOpenBLAS, func(t *testing.T) {
		o := openblasForTest(t)
		forceC(t)
		f(t, o)
	})
}

// transposes maps the three gonum transposes to whether the operand is
// transposed.
var transposes = []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}

func isTrans(t blas.Transpose) bool { return t != blas.NoTrans }

func nan32() float32 { return float32(math.NaN()) }

// sameBits reports whether a and b hold the same bit patterns, so that NaN
// garbage that must be left alone compares equal to itself.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// within reports whether got is within tol·mag of want, false for NaN.
func within(got float32, want, mag, tol float64) bool {
	return math.Abs(float64(got)-want) <= tol*mag+1e-30
}

// tolerance is the relative error allowed for a float32 sum of k products:
// a few units in the last place for each term, far below what a wrong
// index, transpose or stride produces.
func tolerance(k int) float64 {
	return 4 * float64(k+2) * math.Pow(2, -24)
}
