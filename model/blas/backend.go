package blas

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// EnvVar names the environment variable that chooses the backend of
// Default: "go", "openblas", or empty (or unset) for OpenBLAS when it loads
// and pure Go otherwise.
const EnvVar = "CLAPP_BLAS"

// Backend names, as accepted by Select and reported by Backend.Name.
const (
	NameGo       = "go"
	NameOpenBLAS = "openblas"
)

var (
	// ErrUnknownBackend is returned by Select for a name that is neither
	// NameGo, NameOpenBLAS nor empty.
	ErrUnknownBackend = errors.New("blas: unknown backend")
	// ErrOpenBLASUnavailable is returned when OpenBLAS is asked for and
	// cannot be loaded or is not usable.
	ErrOpenBLASUnavailable = errors.New("blas: OpenBLAS unavailable")
)

// Backend is a single precision BLAS implementation chosen at run time.
// Every Backend is safe for concurrent use by several goroutines.
type Backend interface {
	blas.Float32

	// Name is NameGo or NameOpenBLAS.
	Name() string

	// Threads reports how many threads one call may use.
	Threads() int

	// SetThreads sets how many threads one call may use; n < 1 restores
	// the number the backend started with. The setting is process-wide
	// and should be made before goroutines start calling the backend.
	SetThreads(n int)
}

// PureGo is the pure Go backend: gonum's implementation, always available.
type PureGo struct {
	gonum.Implementation
}

var _ Backend = PureGo{}

// Name returns NameGo.
func (PureGo) Name() string { return NameGo }

// Threads returns GOMAXPROCS: gonum spreads a large Sgemm over that many
// goroutines.
func (PureGo) Threads() int { return runtime.GOMAXPROCS(0) }

// SetThreads does nothing. gonum's goroutines are multiplexed by the Go
// scheduler onto GOMAXPROCS threads shared by all callers, so concurrent
// callers never oversubscribe the cores and there is nothing to tune.
func (PureGo) SetThreads(int) {}

// Select returns the backend with the given name: NameGo, NameOpenBLAS, or
// empty for OpenBLAS when it loads and PureGo otherwise. Names are matched
// without regard to case or surrounding space. Asking for NameOpenBLAS when
// it cannot be loaded is an error wrapping ErrOpenBLASUnavailable that says
// how to install it; an unknown name is an error wrapping ErrUnknownBackend.
func Select(name string) (Backend, error) {
	switch n := strings.TrimSpace(name); {
	case n == "":
		if o, err := LoadOpenBLAS(); err == nil {
			return o, nil
		}
		return PureGo{}, nil
	case strings.EqualFold(n, NameGo):
		return PureGo{}, nil
	case strings.EqualFold(n, NameOpenBLAS):
		o, err := LoadOpenBLAS()
		if err != nil {
			return nil, err
		}
		return o, nil
	default:
		return nil, fmt.Errorf("%w %q: want %q, %q, or empty for OpenBLAS when it loads and %q otherwise",
			ErrUnknownBackend, name, NameGo, NameOpenBLAS, NameGo)
	}
}

// FromEnv returns Select(os.Getenv(EnvVar)), with errors naming EnvVar.
// Unlike Default it selects afresh on every call and does not log.
func FromEnv() (Backend, error) {
	b, err := Select(os.Getenv(EnvVar))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvVar, err)
	}
	return b, nil
}

var defaultBackend struct {
	once sync.Once
	b    Backend
	err  error
}

// Default returns the process-wide backend, chosen once by FromEnv on the
// first call and logged with log/slog (backend, threads, OpenBLAS build).
//
// If EnvVar asks for a backend that cannot be had (OpenBLAS is not
// installed, or the value is unknown), Default logs the error at level
// Error and returns PureGo, so the process still computes correct results,
// only slower. DefaultErr returns that error: a program that must not run
// on the wrong backend checks it once at start-up.
func Default() Backend {
	initDefault()
	return defaultBackend.b
}

// DefaultErr returns why Default is not the backend EnvVar asked for, or nil
// when it is. It selects the default backend if that has not happened yet.
func DefaultErr() error {
	initDefault()
	return defaultBackend.err
}

func initDefault() {
	defaultBackend.once.Do(func() {
		b, err := FromEnv()
		if err != nil {
			slog.Error("blas: cannot use the requested backend; falling back to pure Go",
				"err", err, "backend", NameGo)
			b = PureGo{}
		}
		defaultBackend.b, defaultBackend.err = b, err
		logBackend(b, os.Getenv(EnvVar))
	})
}

// logBackend logs the chosen backend once, with why OpenBLAS was not taken
// when the choice was automatic.
func logBackend(b Backend, requested string) {
	attrs := []any{"backend", b.Name(), "threads", b.Threads(), "env", EnvVar + "=" + requested}
	if o, ok := b.(*OpenBLAS); ok {
		attrs = append(attrs, "openblas_config", o.Config())
	} else if strings.TrimSpace(requested) == "" {
		if _, err := LoadOpenBLAS(); err != nil {
			attrs = append(attrs, "openblas", err.Error())
		}
	}
	slog.Info("blas: backend selected", attrs...)
}
