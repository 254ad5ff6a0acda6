package actors

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"clapp/model/probe"
	"clapp/stream/frame"
	"clapp/stream/labels"
)

// ProbeConfig configures online probes.
type ProbeConfig struct {
	// Layers lists the layers to read out (all of the pipeline's if empty).
	Layers []int
	// Classes is the number of label classes.
	Classes int
	// LR is the probes' Adam learning rate (1e-3).
	LR float64
	// Queue bounds the blocks waiting for a probe; beyond it blocks are
	// dropped (and counted), never slowing the layer (64).
	Queue  int
	Logger *slog.Logger
}

// Probes are online linear readouts: one actor per layer, each learning a
// softmax regression from the layer's frames to the labels that flow with
// the input while the encoder learns, so accuracy per layer can be watched
// as training goes. A frame's label is the one of the 10 ms grid cell that
// holds the centre of its receptive field; frames of faster layers are
// averaged per cell.
type Probes struct {
	sys    *actor.ActorSystem
	probes map[int]*probeCore
	pids   map[int]*actor.PID
	remove []func()
}

type probeCore struct {
	layer   int
	field   labels.Field
	p       *probe.Probe
	classes int
	width   int
	// Per stream: labels so far, the cell being pooled, and its sum.
	streams map[string]*probeStream
	mu      sync.Mutex
	acc     float64
	frames  int
	steps   int
	dropped int64
	queued  chan struct{}
	log     *slog.Logger
}

type probeStream struct {
	labels []int
	ended  bool
	cell   int
	sum    []float32
	n      int
	xs     []float32
	ys     []int
	frames bool // frames ended
}

type probeBlock struct{ b *frame.Block }

// NewProbes attaches probes to p's layers and to the labels fed to it.
func NewProbes(p *Pipeline, cfg ProbeConfig) (*Probes, error) {
	if cfg.Classes < 2 {
		return nil, fmt.Errorf("%w: probes need at least 2 classes, got %d", ErrConfig, cfg.Classes)
	}
	if cfg.LR <= 0 {
		cfg.LR = 1e-3
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	first, last := p.Layers()
	if len(cfg.Layers) == 0 {
		for n := first; n <= last; n++ {
			cfg.Layers = append(cfg.Layers, n)
		}
	}
	e := p.cfg.Encoder
	var convs []labels.Conv
	for _, c := range e.Config.Convs {
		convs = append(convs, labels.Conv{Kernel: c.Kernel, Stride: c.Stride, Padding: c.Padding})
	}
	convs = append(convs, labels.Conv{Kernel: 1, Stride: 1})
	geo, err := labels.NewGeometry(convs)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	ps := &Probes{sys: actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log.With("lib", "protoactor") })),
		probes: map[int]*probeCore{}, pids: map[int]*actor.PID{}}
	for _, n := range cfg.Layers {
		if n < first || n > last {
			ps.Close()
			return nil, fmt.Errorf("%w: probe of layer %d outside the pipeline's %d-%d", ErrConfig, n, first, last)
		}
		w := e.Config.Width(n)
		c := &probeCore{layer: n, field: geo.Field(n), classes: cfg.Classes, width: w,
			p:       probe.New(w, cfg.Classes, probe.Config{LearningRate: cfg.LR, Standardize: true, Seed: uint64(n)}),
			streams: map[string]*probeStream{}, queued: make(chan struct{}, cfg.Queue), log: log}
		ps.probes[n] = c
		pid := ps.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &probeActor{c: c} }))
		ps.pids[n] = pid
		send := func(b *frame.Block) {
			select {
			case c.queued <- struct{}{}:
				ps.sys.Root.Send(pid, &probeBlock{b: b})
			default:
				c.mu.Lock()
				c.dropped++
				c.mu.Unlock()
			}
		}
		rm, err := p.Tap(n, func(b *frame.Block, _ time.Time) { send(b) })
		if err != nil {
			ps.Close()
			return nil, err
		}
		ps.remove = append(ps.remove, rm)
		// Labels never drop: they are small and every probe needs them.
		ps.remove = append(ps.remove, p.TapLabels(func(b *frame.Block, _ time.Time) {
			ps.sys.Root.Send(pid, &probeBlock{b: b})
		}))
	}
	return ps, nil
}

type probeActor struct{ c *probeCore }

func (a *probeActor) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*probeBlock)
	if !ok {
		return
	}
	c := a.c
	b := m.b
	st := c.streams[b.Stream]
	if st == nil {
		st = &probeStream{cell: -1}
		c.streams[b.Stream] = st
	}
	if b.Layer == frame.LabelLayer {
		for _, v := range b.Data {
			st.labels = append(st.labels, int(v))
		}
		st.ended = b.End
	} else {
		<-c.queued
		c.pool(st, b)
	}
	c.learn(st)
	if st.ended && st.frames {
		delete(c.streams, b.Stream)
	}
}

// pool pools the block's frames per grid cell.
func (c *probeCore) pool(st *probeStream, b *frame.Block) {
	if st.sum == nil {
		st.sum = make([]float32, c.width)
	}
	for i := 0; i < b.Rows; i++ {
		cell := c.field.Cell(int(b.First) + i)
		if cell != st.cell {
			c.closeCell(st)
			st.cell = cell
		}
		row := b.Data[i*c.width : (i+1)*c.width]
		for j, v := range row {
			st.sum[j] += v
		}
		st.n++
	}
	if b.End {
		c.closeCell(st)
		st.frames = true
	}
}

func (c *probeCore) closeCell(st *probeStream) {
	if st.n == 0 || st.cell < 0 {
		st.n = 0
		for j := range st.sum {
			st.sum[j] = 0
		}
		return
	}
	inv := 1 / float32(st.n)
	for j := range st.sum {
		st.xs = append(st.xs, st.sum[j]*inv)
		st.sum[j] = 0
	}
	st.ys = append(st.ys, st.cell)
	st.n = 0
}

// learn takes one step on the cells whose label has arrived.
func (c *probeCore) learn(st *probeStream) {
	n := 0
	for n < len(st.ys) && st.ys[n] < len(st.labels) {
		n++
	}
	if n == 0 {
		if st.ended && len(st.ys) > 0 {
			st.xs, st.ys = st.xs[:0], st.ys[:0] // cells past the labels: no class
		}
		return
	}
	ys := make([]int, n)
	for i := 0; i < n; i++ {
		ys[i] = st.labels[st.ys[i]]
		if ys[i] >= c.classes {
			ys[i] = -1
		}
	}
	x := probe.Matrix{Rows: n, Cols: c.width, Data: st.xs[:n*c.width]}
	if _, err := c.p.Step(x, ys); err != nil {
		c.log.Warn("probe: block rejected", "layer", c.layer, "err", err)
	}
	st.xs = append(st.xs[:0], st.xs[n*c.width:]...)
	st.ys = append(st.ys[:0], st.ys[n:]...)
	acc, frames := c.p.RecentAccuracy()
	c.mu.Lock()
	c.acc, c.frames, c.steps = acc, frames, c.p.Steps()
	c.mu.Unlock()
}

// Accuracy returns each layer's recent accuracy (on frames predicted
// before the probe learned from them); layers with no labelled frame yet
// are absent.
func (ps *Probes) Accuracy() map[int]float64 {
	out := map[int]float64{}
	for n, c := range ps.probes {
		c.mu.Lock()
		if c.frames > 0 {
			out[n] = c.acc
		}
		c.mu.Unlock()
	}
	return out
}

// Dropped returns the frame blocks each probe dropped because it was
// behind.
func (ps *Probes) Dropped() map[int]int64 {
	out := map[int]int64{}
	for n, c := range ps.probes {
		c.mu.Lock()
		out[n] = c.dropped
		c.mu.Unlock()
	}
	return out
}

// Close detaches and stops the probes.
func (ps *Probes) Close() {
	for _, rm := range ps.remove {
		rm()
	}
	for _, pid := range ps.pids {
		_ = ps.sys.Root.PoisonFuture(pid).Wait()
	}
	ps.sys.Shutdown()
}
