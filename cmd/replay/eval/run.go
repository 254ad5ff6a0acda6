package eval

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
	gonumblas "gonum.org/v1/gonum/blas/gonum"

	"clapp/model"
	"clapp/model/blas"
)

var blasOnce sync.Once

// ensureBLAS is the one place where this package chooses a BLAS: if nobody
// chose one before (model.BLAS is still gonum's implementation that the
// model package starts with), it installs blas.Default() (OpenBLAS when it
// loads, see CLAPP_BLAS) with one thread per call when several workers
// run products side by side. A command that called model.SetBLAS itself
// keeps its choice.
func ensureBLAS(cfg Config) {
	blasOnce.Do(func() {
		if _, untouched := model.BLAS().(gonumblas.Implementation); !untouched {
			return
		}
		b := blas.Default()
		if cfg.Workers > 1 {
			b.SetThreads(1)
		}
		model.SetBLAS(b)
		cfg.Logger.Debug("eval: BLAS chosen", "backend", b.Name(), "threads", b.Threads())
	})
}

// bar is a progress bar on a terminal, or nothing.
type bar struct {
	pb *progressbar.ProgressBar
	mu sync.Mutex
}

func newBar(cfg Config, total int, what string) *bar {
	w := cfg.Progress
	if w == nil {
		w = os.Stderr
	}
	if cfg.Quiet || !isTerminal(w) {
		return &bar{}
	}
	return &bar{pb: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(time.Duration(defaultProgressSeconds*float64(time.Second))),
		progressbar.OptionOnCompletion(func() { io.WriteString(w, "\n") }),
	)}
}

func (b *bar) add(n int) {
	if b.pb == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pb.Add(n)
}

func (b *bar) describe(s string) {
	if b.pb == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pb.Describe(s)
}

func (b *bar) finish() {
	if b.pb == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pb.Finish()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
