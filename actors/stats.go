package actors

import (
	"sort"
	"sync"
	"time"

	"clapp/model"
)

// LayerStats is what a layer reports about itself.
type LayerStats struct {
	Layer int `json:"layer"`
	// Blocks and Frames count what the layer produced; FramesPerSec is the
	// recent rate.
	Blocks       int64   `json:"blocks"`
	Frames       int64   `json:"frames"`
	FramesPerSec float64 `json:"frames_per_sec"`
	// LossPos and LossNeg are recent means of the hinge per scored pair;
	// ActivePos and ActiveNeg the fractions of pairs whose hinge was
	// active (the gate open).
	LossPos   float64 `json:"loss_pos"`
	LossNeg   float64 `json:"loss_neg"`
	ActivePos float64 `json:"active_pos"`
	ActiveNeg float64 `json:"active_neg"`
	// Lag is how long ago the audio of the last block entered the
	// pipeline; Backlog the blocks waiting in front of the layer.
	Lag     time.Duration `json:"lag_ns"`
	Backlog int64         `json:"backlog"`
	// Learned counts blocks learned from, Skipped blocks forwarded without
	// learning because the layer was behind, Frozen blocks not learned
	// because learning was frozen.
	Learned int64 `json:"learned"`
	Skipped int64 `json:"skipped"`
	Frozen  int64 `json:"frozen_blocks"`
	// The negative memory: bytes and records held, capacity, records
	// dropped when full, and records replayed by nights.
	MemoryBytes    int64 `json:"memory_bytes"`
	MemoryRecords  int64 `json:"memory_records"`
	MemoryCapacity int64 `json:"memory_capacity"`
	MemoryDropped  int64 `json:"memory_dropped"`
	Replayed       int64 `json:"replayed"`
	// BadInput counts blocks rejected (wrong shape, NaN or Inf) or lost to
	// a panic; Refused counts updates refused because they would have
	// made a weight NaN or Inf; Restarts counts supervisor restarts.
	BadInput int64 `json:"bad_input"`
	Refused  int64 `json:"refused"`
	Restarts int64 `json:"restarts"`
	// Night reports a night in progress; Nights and Cycles count them and
	// the optimiser's cycles.
	Night       bool  `json:"night"`
	Nights      int64 `json:"nights"`
	Cycles      int64 `json:"cycles"`
	FrozenNow   bool  `json:"frozen"`
	Streams     int   `json:"streams"`
	RecordBytes int64 `json:"record_bytes"`
	// LatencyP50 and LatencyP99 are, for the last layer, the delay from
	// audio entering the pipeline to its frames leaving this layer.
	LatencyP50 time.Duration `json:"latency_p50_ns,omitempty"`
	LatencyP99 time.Duration `json:"latency_p99_ns,omitempty"`
}

// statsBox is a LayerStats under a lock, with the running estimates.
type statsBox struct {
	mu    sync.Mutex
	s     LayerStats
	rateT time.Time
	rateN int64
	lat   []time.Duration
	latAt int
	nPos  int
	nNeg  int
}

const ema = 0.05

func (b *statsBox) terms(k int, pos, neg model.Terms) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Running means: exact averages for the first 1/ema updates, then
	// exponential, so early values are not biased towards zero.
	if pos.Pairs > 0 {
		b.nPos++
		a := max(ema, 1/float64(b.nPos))
		b.s.LossPos += a * (pos.Loss*float64(k)/pos.Pairs - b.s.LossPos)
		b.s.ActivePos += a * (pos.ActiveFraction() - b.s.ActivePos)
	}
	if neg.Pairs > 0 {
		b.nNeg++
		a := max(ema, 1/float64(b.nNeg))
		b.s.LossNeg += a * (neg.Loss*float64(k)/neg.Pairs - b.s.LossNeg)
		b.s.ActiveNeg += a * (neg.ActiveFraction() - b.s.ActiveNeg)
	}
}

func (b *statsBox) frames(rows int, born time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.s.Blocks++
	b.s.Frames += int64(rows)
	if !born.IsZero() {
		b.s.Lag = now.Sub(born)
	}
	if b.rateT.IsZero() {
		b.rateT = now
	}
	b.rateN += int64(rows)
	if dt := now.Sub(b.rateT); dt >= time.Second {
		b.s.FramesPerSec = float64(b.rateN) / dt.Seconds()
		b.rateT, b.rateN = now, 0
	}
}

func (b *statsBox) latency(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	const keep = 4096
	if len(b.lat) < keep {
		b.lat = append(b.lat, d)
		return
	}
	b.lat[b.latAt] = d
	b.latAt = (b.latAt + 1) % keep
}

func (b *statsBox) update(f func(s *LayerStats)) {
	b.mu.Lock()
	f(&b.s)
	b.mu.Unlock()
}

func (b *statsBox) get() LayerStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.s
	if len(b.lat) > 0 {
		l := append([]time.Duration(nil), b.lat...)
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		s.LatencyP50 = l[len(l)/2]
		s.LatencyP99 = l[min(len(l)-1, len(l)*99/100)]
	}
	return s
}
