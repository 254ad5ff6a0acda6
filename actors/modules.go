package actors

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"clapp/model"
	"clapp/stream/frame"
)

// ModuleConfig configures a ModulePipeline: the baselines of the paper's
// Tables 1 and 5, where gradients flow through the layers of a module
// (end-to-end CPC or hinge-CPC with one module, Greedy InfoMax with six).
// Modules learn synchronously on batches of windows cut from the streams,
// as Greedy InfoMax does; they have no day and night.
type ModuleConfig struct {
	Encoder *model.Encoder
	// Sizes are the modules' numbers of layers, bottom first.
	Sizes []int
	Loss  model.LossKind
	// Negatives per positive for InfoNCE (10).
	Negatives int
	// Terms: both (CLAPP-s, hinge-CPC) or a coin per context (CLAPP).
	Terms     model.ModuleTerms
	Optimizer string
	LR        float64
	Optim     []*model.OptimState
	Seed      uint64
	// Window is the number of samples per window (20480), Batch the
	// windows per step (8).
	Window, Batch int
	Credits       int
	Logger        *slog.Logger
}

// ModulePipeline is a chain of module actors fed with batches of windows.
type ModulePipeline struct {
	cfg    ModuleConfig
	sys    *actor.ActorSystem
	pids   []*actor.PID
	links  []*link
	cores  []*moduleCore
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	pending map[string][]float32 // samples of each stream not yet windowed
	batch   [][]float32
	closed  bool
}

type moduleMsg struct {
	xs    [][]float32
	tin   int
	born  time.Time
	drain func(module int)
	snap  func(moduleSnapshot)
}

func (*moduleMsg) flow() {}

type moduleSnapshot struct {
	index  int
	params [][]float32
	optim  model.OptimState
	steps  int64
}

type moduleCore struct {
	index int
	m     *model.Module
	optim model.Optimizer
	grads model.Grads
	rng   *rand.Rand
	terms model.ModuleTerms
	stats *statsBox
	in    *link
	send  func(flowMsg) error
	steps int64
	k     int
	log   *slog.Logger
}

type moduleActor struct{ c *moduleCore }

func (a *moduleActor) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*moduleMsg)
	if !ok {
		return
	}
	c := a.c
	c.in.release()
	switch {
	case m.snap != nil:
		ps := c.m.Params()
		s := moduleSnapshot{index: c.index, params: make([][]float32, len(ps)), steps: c.steps}
		for i, p := range ps {
			s.params[i] = append([]float32(nil), p.Data...)
		}
		st := c.optim.State()
		s.optim = model.OptimState{Kind: st.Kind, Cycles: st.Cycles, Tensors: map[string][]float32{}}
		for k, v := range st.Tensors {
			s.optim.Tensors[k] = append([]float32(nil), v...)
		}
		m.snap(s)
	case m.drain != nil:
		m.drain(c.index)
	default:
		for _, x := range m.xs {
			if !model.Finite(x) {
				c.stats.update(func(s *LayerStats) { s.BadInput++ })
				return
			}
		}
		pos, neg, outs := c.m.Learn(m.xs, m.tin, c.terms, c.rng, c.grads)
		if err := c.optim.Apply(c.grads); err != nil {
			c.stats.update(func(s *LayerStats) { s.Refused++ })
		}
		c.grads.Zero()
		_ = c.optim.EndCycle()
		c.steps++
		rows := 0
		if len(outs) > 0 {
			rows = c.m.OutLen(m.tin)
		}
		c.stats.frames(rows*len(outs), m.born)
		c.stats.terms(c.k, pos, neg)
		c.stats.update(func(s *LayerStats) { s.Learned++; s.Cycles = c.steps })
		if c.send != nil && len(outs) > 0 {
			m = &moduleMsg{xs: outs, tin: rows, born: m.born}
		}
	}
	if c.send != nil {
		if err := c.send(m); err != nil {
			c.log.Debug("module: downstream gone", "err", err)
		}
	}
}

// NewModules builds the module pipeline.
func NewModules(cfg ModuleConfig) (*ModulePipeline, error) {
	if cfg.Encoder == nil {
		return nil, fmt.Errorf("%w: no encoder", ErrConfig)
	}
	if cfg.Window <= 0 {
		cfg.Window = 20480
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 8
	}
	if cfg.Negatives <= 0 {
		cfg.Negatives = 10
	}
	if cfg.LR <= 0 {
		cfg.LR = 2e-4
	}
	if cfg.Credits <= 0 {
		cfg.Credits = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mods, err := cfg.Encoder.Modules(cfg.Sizes, cfg.Loss, cfg.Negatives)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log.With("lib", "protoactor") }))
	ctx, cancel := context.WithCancel(context.Background())
	mp := &ModulePipeline{cfg: cfg, sys: sys, ctx: ctx, cancel: cancel, pending: map[string][]float32{}}
	top := 0
	for i, m := range mods {
		top += cfg.Sizes[i]
		opt := model.Optimizer(model.NewAdam(m.Params(), cfg.LR))
		if cfg.Optimizer == "sgd" {
			opt = model.NewSGD(m.Params(), cfg.LR)
		}
		if st := mergeStates(cfg.Optim, m.First, cfg.Sizes[i], m.Params()); st != nil {
			if err := opt.SetState(*st); err != nil {
				cancel()
				return nil, fmt.Errorf("module %d: %w", i+1, err)
			}
		}
		c := &moduleCore{index: i, m: m, optim: opt, grads: model.NewGrads(m.Params()),
			rng: rand.New(rand.NewPCG(cfg.Seed, uint64(100+i))), terms: cfg.Terms, stats: &statsBox{},
			in: newLink(cfg.Credits), k: cfg.Encoder.Config.K, log: log}
		c.stats.s.Layer = top
		mp.cores = append(mp.cores, c)
		mp.links = append(mp.links, c.in)
		mp.pids = append(mp.pids, sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &moduleActor{c: c} })))
	}
	for i := 0; i+1 < len(mp.cores); i++ {
		mp.cores[i].send = sendFunc(ctx, sys.Root, mp.pids[i+1], mp.links[i+1])
	}
	return mp, nil
}

// mergeStates assembles a module's optimiser state from the per-layer
// states of a checkpoint, nil when there is none.
func mergeStates(states []*model.OptimState, first, size int, ps []*model.Param) *model.OptimState {
	out := &model.OptimState{Tensors: map[string][]float32{}}
	found := false
	for l := first; l < first+size && l < len(states); l++ {
		st := states[l]
		if st == nil {
			continue
		}
		found = true
		out.Kind, out.Cycles = st.Kind, st.Cycles
		for k, v := range st.Tensors {
			out.Tensors[k] = v
		}
	}
	if !found {
		return nil
	}
	for _, p := range ps {
		for _, s := range []string{".m", ".v", ".g"} {
			if _, ok := out.Tensors[p.Name+s]; !ok {
				out.Tensors[p.Name+s] = make([]float32, len(p.Data))
			}
		}
	}
	return out
}

func (mp *ModulePipeline) send(ctx context.Context, m *moduleMsg) error {
	ctx, cancel := mergeCtx(ctx, mp.ctx)
	defer cancel()
	if err := mp.links[0].acquire(ctx); err != nil {
		return err
	}
	mp.sys.Root.Send(mp.pids[0], m)
	return nil
}

// Feed takes audio blocks, cuts each stream into consecutive windows and
// sends every Batch windows to the first module.
func (mp *ModulePipeline) Feed(ctx context.Context, b frame.Block, born time.Time) error {
	if b.Layer != frame.AudioLayer {
		return nil
	}
	if !model.Finite(b.Data) {
		return fmt.Errorf("%w: NaN or Inf in stream %s", errBadBlock, b.Stream)
	}
	mp.mu.Lock()
	buf := append(mp.pending[b.Stream], b.Data...)
	W := mp.cfg.Window
	var ready [][]float32
	for len(buf) >= W {
		mp.batch = append(mp.batch, append([]float32(nil), buf[:W]...))
		buf = buf[W:]
		if len(mp.batch) == mp.cfg.Batch {
			ready, mp.batch = mp.batch, nil
		}
	}
	if b.End {
		delete(mp.pending, b.Stream)
	} else {
		mp.pending[b.Stream] = append([]float32(nil), buf...)
	}
	mp.mu.Unlock()
	if ready != nil {
		return mp.send(ctx, &moduleMsg{xs: ready, tin: W, born: born})
	}
	return nil
}

// Drain waits until every batch sent has passed every module.
func (mp *ModulePipeline) Drain(ctx context.Context) error {
	done := make(chan struct{})
	last := len(mp.cores) - 1
	if err := mp.send(ctx, &moduleMsg{drain: func(i int) {
		if i == last {
			close(done)
		}
	}}); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats reports each module under its top layer.
func (mp *ModulePipeline) Stats() []LayerStats {
	out := make([]LayerStats, len(mp.cores))
	for i, c := range mp.cores {
		out[i] = c.stats.get()
		out[i].Backlog = c.in.waiting()
	}
	return out
}

// Snapshot is a consistent checkpoint of every module.
func (mp *ModulePipeline) Snapshot(ctx context.Context) (*model.Checkpoint, []LayerCounters, error) {
	parts := make(chan moduleSnapshot, len(mp.cores))
	if err := mp.send(ctx, &moduleMsg{snap: func(s moduleSnapshot) { parts <- s }}); err != nil {
		return nil, nil, err
	}
	e, err := model.NewEncoder(mp.cfg.Encoder.Config, 0)
	if err != nil {
		return nil, nil, err
	}
	// Heads of layers inside a module are not trained: keep their values.
	for l := 1; l <= e.Layers(); l++ {
		for i, q := range e.LayerParams(l) {
			copy(q.Data, mp.cfg.Encoder.LayerParams(l)[i].Data)
		}
	}
	mods, _ := e.Modules(mp.cfg.Sizes, mp.cfg.Loss, mp.cfg.Negatives)
	ck := &model.Checkpoint{Encoder: e, Optim: make([]*model.OptimState, e.Layers())}
	counters := make([]LayerCounters, e.Layers())
	for range mp.cores {
		var s moduleSnapshot
		select {
		case s = <-parts:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		m := mods[s.index]
		for i, q := range m.Params() {
			copy(q.Data, s.params[i])
		}
		// Per layer: the module's state for the layer's tensors, zeros for
		// tensors the module does not train (inner heads).
		for l := m.First; l < m.First+mp.cfg.Sizes[s.index]; l++ {
			st := &model.OptimState{Kind: s.optim.Kind, Cycles: s.optim.Cycles, Tensors: map[string][]float32{}}
			for _, p := range e.LayerParams(l + 1) {
				for _, suf := range []string{".m", ".v", ".g"} {
					v, ok := s.optim.Tensors[p.Name+suf]
					if !ok {
						v = make([]float32, len(p.Data))
					}
					st.Tensors[p.Name+suf] = v
				}
			}
			ck.Optim[l] = st
			counters[l] = LayerCounters{Blocks: s.steps, Learned: s.steps, Cycles: s.steps}
		}
	}
	return ck, counters, nil
}

// Close stops the actors.
func (mp *ModulePipeline) Close() {
	mp.mu.Lock()
	if mp.closed {
		mp.mu.Unlock()
		return
	}
	mp.closed = true
	mp.mu.Unlock()
	mp.cancel()
	for _, pid := range mp.pids {
		_ = mp.sys.Root.PoisonFuture(pid).Wait()
	}
	mp.sys.Shutdown()
}
