package eval

import (
	"io"
	"log/slog"
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

// bar is a progress bar on a terminal; elsewhere (a log file, CI) it logs
// a line at most every logEvery instead, unless Config.Quiet.
type bar struct {
	pb *progressbar.ProgressBar
	mu sync.Mutex
	// Without a terminal:
	log         *slog.Logger
	what        string
	total, done int
	start, last time.Time
}

const logEvery = 30 * time.Second

func newBar(cfg Config, total int, what string) *bar {
	if cfg.Quiet {
		return &bar{}
	}
	w := cfg.Progress
	if w == nil {
		w = os.Stderr
	}
	if !isTerminal(w) {
		now := time.Now()
		return &bar{log: cfg.Logger, what: what, total: total, start: now, last: now}
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
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pb != nil {
		b.pb.Add(n)
		return
	}
	if b.log == nil {
		return
	}
	b.done += n
	if now := time.Now(); now.Sub(b.last) >= logEvery {
		b.last = now
		b.log.Info("eval: progress", "what", b.what, "done", b.done, "of", b.total,
			"elapsed", now.Sub(b.start).Round(time.Second))
	}
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
