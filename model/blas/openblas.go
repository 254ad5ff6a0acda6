package blas

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// LibEnvVar names an environment variable that, when set, is the one file
// name or path OpenBLAS is loaded from, instead of the usual names
// (libopenblas.so.0 first): for a build of OpenBLAS outside the linker's
// search path, or for another Debian variant such as
// /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0.
const LibEnvVar = "CLAPP_OPENBLAS_LIB"

// CBLAS enumerations (cblas.h).
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// Below these sizes a call stays in gonum: a purego call costs 1-2 µs,
// more than OpenBLAS saves on a small problem. The crossovers were measured
// on a 2-core Zen machine with BenchmarkCrossover (Sgemm near 16×16×16,
// Sgemv and Sger near 256×256, Sscal between 2048 and 4096 elements). Saxpy and Sdot
// are not forwarded at all: gonum's assembly for them is as fast as
// OpenBLAS at every size up to 1M elements, where both are memory-bound.
// Tests set these to 0 to exercise the C path at every size.
var (
	minSgemmWork = 16 * 16 * 16 // m*n*k
	minSgemvWork = 256 * 256    // m*n, also for Sger
	minSscalLen  = 4096         // n
)

// OpenBLAS is the backend that calls the OpenBLAS shared library, loaded at
// run time with purego (no cgo). It embeds gonum's implementation, which
// serves every routine that is not forwarded to OpenBLAS and the calls too
// small to be worth crossing into C. The forwarded routines are Sgemm,
// Sgemv, Sger and Sscal; their arguments are checked exactly as gonum checks them,
// with the same panics, before OpenBLAS sees them.
//
// There is one OpenBLAS per process, returned by LoadOpenBLAS; its thread
// count is process-wide. The zero value is not usable.
type OpenBLAS struct {
	gonum.Implementation
	lib *openblasLib
}

var _ Backend = (*OpenBLAS)(nil)

// openblasLib holds the library's functions. CBLAS takes 32-bit ints in
// the LP64 builds bind accepts.
type openblasLib struct {
	path         string
	config       string
	startThreads int

	sgemm func(order, tA, tB, m, n, k int32, alpha float32, a []float32, lda int32, b []float32, ldb int32, beta float32, c []float32, ldc int32)
	sgemv func(order, tA, m, n int32, alpha float32, a []float32, lda int32, x []float32, incX int32, beta float32, y []float32, incY int32)
	sger  func(order, m, n int32, alpha float32, x []float32, incX int32, y []float32, incY int32, a []float32, lda int32)
	sscal func(n int32, alpha float32, x []float32, incX int32)

	setNumThreads func(n int32)
	getNumThreads func() int32
	getConfig     func() string
}

var openblasOnce struct {
	sync.Once
	o   *OpenBLAS
	err error
}

// LoadOpenBLAS loads OpenBLAS on the first call and returns the process's
// one OpenBLAS backend, or an error wrapping ErrOpenBLASUnavailable that
// says what was tried and how to install the library. Later calls return
// the same result.
func LoadOpenBLAS() (*OpenBLAS, error) {
	openblasOnce.Do(func() {
		lib, err := loadOpenBLAS()
		if err != nil {
			openblasOnce.err = fmt.Errorf("%w: %w; install Debian's libopenblas0 (apt-get install libopenblas0) or set %s=%s",
				ErrOpenBLASUnavailable, err, EnvVar, NameGo)
			return
		}
		openblasOnce.o = &OpenBLAS{lib: lib}
	})
	return openblasOnce.o, openblasOnce.err
}

func loadOpenBLAS() (*openblasLib, error) {
	names := libraryNames()
	if lib := os.Getenv(LibEnvVar); lib != "" {
		names = []string{lib}
	}
	var errs []string
	for _, name := range names {
		h, err := dlopen(name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		lib, err := bind(h, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return lib, nil
	}
	// dlerror's messages name the file.
	return nil, errors.New(strings.Join(errs, "; "))
}

// bind looks up the functions clapp uses in the library h.
func bind(h uintptr, path string) (*openblasLib, error) {
	lib := &openblasLib{path: path}
	syms := []struct {
		fptr any
		name string
	}{
		{&lib.sgemm, "cblas_sgemm"},
		{&lib.sgemv, "cblas_sgemv"},
		{&lib.sger, "cblas_sger"},
		{&lib.sscal, "cblas_sscal"},
		{&lib.setNumThreads, "openblas_set_num_threads"},
		{&lib.getNumThreads, "openblas_get_num_threads"},
		{&lib.getConfig, "openblas_get_config"},
	}
	for _, s := range syms {
		if err := register(s.fptr, h, s.name); err != nil {
			return nil, err
		}
	}
	lib.config = strings.TrimSpace(lib.getConfig())
	// An ILP64 build takes 64-bit ints where the functions above pass
	// 32-bit ones.
	if strings.Contains(lib.config, "USE64BITINT") {
		return nil, fmt.Errorf("%q is a 64-bit integer (ILP64) build; clapp needs the 32-bit integer interface", lib.config)
	}
	lib.startThreads = int(lib.getNumThreads())
	return lib, nil
}

// Name returns NameOpenBLAS.
func (*OpenBLAS) Name() string { return NameOpenBLAS }

// Config returns OpenBLAS's description of its build, such as
// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
func (o *OpenBLAS) Config() string { return o.lib.config }

// Path returns the name the library was loaded by.
func (o *OpenBLAS) Path() string { return o.lib.path }

// Threads returns the number of threads OpenBLAS uses for one call.
func (o *OpenBLAS) Threads() int { return int(o.lib.getNumThreads()) }

// SetThreads sets the number of threads OpenBLAS uses for one call, for the
// whole process; n < 1 restores the number it started with (from
// OPENBLAS_NUM_THREADS or the number of cores). When several goroutines
// call Sgemm at once, SetThreads(1) gives more total throughput than the
// default. OpenBLAS does not expect the count to change while it is
// computing: set it before the callers start.
func (o *OpenBLAS) SetThreads(n int) {
	if n < 1 {
		n = o.lib.startThreads
	}
	o.lib.setNumThreads(int32(min(n, math.MaxInt32)))
}

// fitsInt32 reports whether all of v can be passed as a C int.
func fitsInt32(v ...int) bool {
	for _, x := range v {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return false
		}
	}
	return true
}

func cblasTranspose(t blas.Transpose) int32 {
	if t == blas.NoTrans {
		return cblasNoTrans
	}
	// Trans and ConjTrans are the same for real matrices; checks have
	// rejected anything else.
	return cblasTrans
}

// Sgemm performs one of the matrix-matrix operations
//
//	C = alpha * op(A) * op(B) + beta * C
//
// where op(X) is X or Xᵀ as tA and tB say, A is m×k or k×m, B is k×n or
// n×k and C is m×n, all row-major. When beta is zero, C is not read.
// See gonum.Implementation.Sgemm.
func (o *OpenBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 || k == 0 || alpha == 0 ||
		float64(m)*float64(n)*float64(k) < float64(minSgemmWork) ||
		!fitsInt32(m, n, k, lda, ldb, ldc) {
		o.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	o.lib.sgemm(cblasRowMajor, cblasTranspose(tA), cblasTranspose(tB), int32(m), int32(n), int32(k),
		alpha, a, int32(lda), b, int32(ldb), beta, c, int32(ldc))
}

// Sgemv performs one of the matrix-vector operations
//
//	y = alpha * A * x + beta * y   if tA == blas.NoTrans
//	y = alpha * Aᵀ * x + beta * y  if tA == blas.Trans or blas.ConjTrans
//
// where A is an m×n row-major matrix. When beta is zero, y is not read.
// See gonum.Implementation.Sgemv.
func (o *OpenBLAS) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	checkSgemv(tA, m, n, a, lda, x, incX, y, incY)
	if m == 0 || n == 0 || alpha == 0 ||
		float64(m)*float64(n) < float64(minSgemvWork) ||
		!fitsInt32(m, n, lda, incX, incY) {
		o.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	o.lib.sgemv(cblasRowMajor, cblasTranspose(tA), int32(m), int32(n),
		alpha, a, int32(lda), x, int32(incX), beta, y, int32(incY))
}

// Sger performs the rank-one operation
//
//	A += alpha * x * yᵀ
//
// where A is an m×n row-major matrix. See gonum.Implementation.Sger; small
// calls go to the fixed version PureGo.Sger uses.
func (o *OpenBLAS) Sger(m, n int, alpha float32, x []float32, incX int, y []float32, incY int, a []float32, lda int) {
	checkSger(m, n, x, incX, y, incY, a, lda)
	if m == 0 || n == 0 || alpha == 0 ||
		float64(m)*float64(n) < float64(minSgemvWork) ||
		!fitsInt32(m, n, incX, incY, lda) {
		sger(m, n, alpha, x, incX, y, incY, a, lda)
		return
	}
	o.lib.sger(cblasRowMajor, int32(m), int32(n), alpha, x, int32(incX), y, int32(incY), a, int32(lda))
}

// Sscal computes
//
//	x = alpha * x
//
// for the n elements of x at increment incX; it does nothing for incX < 0.
// See gonum.Implementation.Sscal.
func (o *OpenBLAS) Sscal(n int, alpha float32, x []float32, incX int) {
	if !checkSscal(n, x, incX) {
		return
	}
	// alpha == 0 stays in gonum, which sets x to zero, whatever this
	// OpenBLAS version makes of 0*NaN.
	if alpha == 0 || n < minSscalLen || !fitsInt32(n, incX) {
		o.Implementation.Sscal(n, alpha, x, incX)
		return
	}
	o.lib.sscal(int32(n), alpha, x, int32(incX))
}
