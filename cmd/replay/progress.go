package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"clapp/actors"
)

// progress shows training as people expect it: a bar of audio learned
// (or of wall time), audio seconds per wall second, every layer's losses
// and active-hinge fractions, and day or night. With --log-format json, or
// when stderr is not a terminal, it writes a log record now and then
// instead.
type progress struct {
	bar        *progressbar.ProgressBar
	log        bool
	last       time.Time
	budgetA    float64
	budgetW    time.Duration
	startAudio float64
}

func newProgress(mode, logFormat string, w io.Writer, budgetAudio float64, budgetWall time.Duration, startAudio float64) *progress {
	p := &progress{budgetA: budgetAudio, budgetW: budgetWall, startAudio: startAudio}
	on := mode == "on"
	if mode == "auto" {
		f, ok := w.(*os.File)
		on = ok && term.IsTerminal(int(f.Fd())) && logFormat == "text"
	}
	if !on {
		p.log = mode != "off"
		return p
	}
	max := int64(-1)
	switch {
	case budgetAudio > 0:
		max = int64(budgetAudio)
	case budgetWall > 0:
		max = int64(budgetWall.Seconds())
	}
	p.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(250*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionClearOnFinish(),
	)
	return p
}

func (p *progress) update(audio float64, wall time.Duration, audioSession float64, st []actors.LayerStats) {
	speed := audioSession / wall.Seconds()
	night := "day"
	for _, s := range st {
		if s.Night {
			night = "night"
		}
	}
	if p.bar == nil {
		if p.log && time.Since(p.last) >= 10*time.Second {
			p.last = time.Now()
			slog.Info("training", "audio_hours", audio/3600, "audio_s_per_s", speed, "state", night, "losses", losses(st))
		}
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%.2fh audio %.1fx %s |", audio/3600, speed, night)
	for _, s := range st {
		fmt.Fprintf(&b, " L%d %.2f/%.2f", s.Layer, s.LossPos, s.LossNeg)
	}
	p.bar.Describe(b.String())
	switch {
	case p.budgetA > 0:
		_ = p.bar.Set64(int64(audio))
	case p.budgetW > 0:
		_ = p.bar.Set64(int64(wall.Seconds()))
	default:
		_ = p.bar.Set64(int64(audio))
	}
}

func losses(st []actors.LayerStats) string {
	var b strings.Builder
	for i, s := range st {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "L%d:%.3f/%.3f,%.2f/%.2f", s.Layer, s.LossPos, s.LossNeg, s.ActivePos, s.ActiveNeg)
	}
	return b.String()
}

func (p *progress) close() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
