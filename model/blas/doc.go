// Package blas provides the single precision BLAS that clapp's model does
// its heavy arithmetic with: gonum's blas.Float32 interface
// (gonum.org/v1/gonum/blas), implemented by one of two backends chosen at
// run time.
//
//   - PureGo is gonum's pure Go implementation. It is always available.
//   - OpenBLAS calls the OpenBLAS shared library, loaded when first asked
//     for with purego: no cgo, no build tag, and nothing to install for
//     building. It embeds gonum's implementation and forwards Sgemm (the
//     hot path), Sgemv, Sger and Sscal to OpenBLAS when the call is large
//     enough for that to pay (a call into C costs 1-2 µs); everything else
//     is gonum's. Every forwarded call's arguments are checked in Go
//     exactly as gonum checks them, with gonum's panics, so a shape bug
//     panics in Go instead of letting C read or write past a slice.
//
// # Choosing a backend
//
// Default returns the process-wide backend, chosen once from the
// environment variable CLAPP_BLAS and logged with log/slog:
//
//	CLAPP_BLAS=go        pure Go
//	CLAPP_BLAS=openblas  OpenBLAS, or an error if it cannot be loaded
//	CLAPP_BLAS unset     OpenBLAS if it loads, otherwise pure Go
//
// OpenBLAS is looked for as libopenblas.so.0, which Debian's libopenblas0
// package installs, then under a few other usual names; CLAPP_OPENBLAS_LIB
// names a file to use instead. A value of CLAPP_BLAS that cannot be
// honoured (openblas without the library, or an unknown name) does not
// stop the process: Default logs the error and returns PureGo, which gives
// the same results, slower. DefaultErr returns that error; a command that
// must not run on the wrong backend checks it at start-up:
//
//	if err := blas.DefaultErr(); err != nil {
//		return err
//	}
//	impl := blas.Default() // a gonum blas.Float32
//
// Select and FromEnv choose without caching or logging, for tests and for
// programs that pick a backend from a flag.
//
// # Threads
//
// OpenBLAS's thread count is process-wide. It starts at
// OPENBLAS_NUM_THREADS, or the number of cores. One call with all cores is
// the fastest way to do a single large product. When several goroutines
// (layer actors) run products at the same time, give OpenBLAS one thread
// per call instead, before they start:
//
//	blas.Default().SetThreads(1) // or OPENBLAS_NUM_THREADS=1
//
// The calls then run side by side on the cores rather than each spreading
// over all of them and queueing behind one another, which on the 2-core
// machine of the record gives more total throughput (see
// BenchmarkSgemmConcurrent). SetThreads(0) restores the starting count.
// PureGo has nothing to tune: gonum's goroutines share GOMAXPROCS with all
// other callers.
//
// # Measuring
//
// MeasureSgemm measures the Sgemm rate of a backend in the running
// process; other benchmarks report their GFLOP/s as a fraction of it,
// which keeps their figures comparable across machines and across load
// from other processes.
//
// # A gonum bug worked around
//
// gonum v0.17.0's amd64 assembly for Sger leaves A unchanged when an
// increment is negative (https://github.com/gonum/gonum/issues/2105).
// Both backends here route such calls through a correct path built on
// Saxpy; other gonum routines are used as they are.
package blas
