package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"clapp/model"
	"clapp/stream/frame"
)

// Source is where a pipeline's input comes from: audio blocks (or, for a
// pipeline that starts above layer 1, the frames of the layer below), and
// label blocks for the probes. Next returns io.EOF when nothing remains.
type Source interface {
	Next(ctx context.Context) (frame.Block, error)
}

// Config configures a Pipeline. Zero fields take the defaults in their
// comments.
type Config struct {
	// Encoder holds the weights; the pipeline's layers learn in place, so
	// do not read or write it while the pipeline runs (use Snapshot).
	Encoder *model.Encoder
	// First and Last select the layers to run (1-based, inclusive): 0
	// means all. A pipeline from layer 4 takes layer 3's frames as input.
	First, Last int
	// Night is the day/night policy; by default a night after every
	// Batch blocks (every:Batch), so the optimiser closes its cycles at the
	// pace of the synchronous mode.
	Night NightPolicy
	// Batch is the number of blocks whose gradient one optimiser step
	// applies (8, the paper's batch of interleaved streams).
	Batch int
	// MemoryBytes bounds each layer's store of negatives (256 MiB).
	MemoryBytes int64
	// NightSlice is the number of records a night replays before serving
	// the day blocks queued meanwhile (4).
	NightSlice int
	// Optimizer is "adam" (default) or "sgd"; LR its learning rate (2e-4).
	Optimizer string
	LR        float64
	// Optim restores optimiser states, layer n at index n-1; Counters the
	// layers' counters and random state (from a Snapshot).
	Optim    []*model.OptimState
	Counters []LayerCounters
	// Credits bounds the blocks in flight between two stages (4).
	Credits int
	// SkipBacklog, when positive, lets a layer skip learning (inference
	// goes on) when that many blocks wait in front of it: for live input,
	// which cannot wait. Zero never skips: a slow layer slows the source.
	SkipBacklog int64
	// Deterministic runs nights at fixed points (never interleaved with
	// day blocks by timing), so a run is reproducible bit for bit.
	Deterministic bool
	// Seed seeds each layer's random choices (context phases, coins).
	Seed uint64
	// Version names the model in the frames it produces.
	Version string
	// Logger (slog.Default()).
	Logger *slog.Logger
	// Dreamer replays each night in a goroutine on a copy of the weights
	// taken when the night starts, instead of in slices between day blocks
	// with the current weights. It is the measured alternative to the
	// default (see the package documentation).
	Dreamer bool
	// BLASThreads is the number of threads one BLAS call may use while the
	// pipeline runs. The layers already compute in parallel, and OpenBLAS
	// threads of concurrent calls fight over the cores (a pipeline ran
	// three times slower than one goroutine with two threads per call): New
	// sets it process-wide, 1 unless given; -1 leaves it alone.
	BLASThreads int
	// Inspect, when set, sees every block a layer takes before the layer
	// does, on the layer's goroutine. A panic in it is a panic of the
	// layer: tests use it to stand for a bug, and the supervisor restarts
	// the layer.
	Inspect func(layer int, b *frame.Block)
}

func (c *Config) defaults() error {
	if c.Encoder == nil {
		return fmt.Errorf("%w: no encoder", ErrConfig)
	}
	L := c.Encoder.Layers()
	if c.First == 0 {
		c.First = 1
	}
	if c.Last == 0 {
		c.Last = L
	}
	if c.First < 1 || c.Last > L || c.First > c.Last {
		return fmt.Errorf("%w: layers %d-%d of an encoder of %d", ErrConfig, c.First, c.Last, L)
	}
	if c.Batch <= 0 {
		c.Batch = 8
	}
	if c.Night == (NightPolicy{}) {
		c.Night = NightPolicy{Kind: NightEvery, Every: c.Batch}
	}
	if c.MemoryBytes <= 0 {
		c.MemoryBytes = 256 << 20
	}
	if c.NightSlice <= 0 {
		c.NightSlice = 4
	}
	if c.Optimizer == "" {
		c.Optimizer = "adam"
	}
	if c.Optimizer != "adam" && c.Optimizer != "sgd" {
		return fmt.Errorf("%w: optimizer %q: want adam or sgd", ErrConfig, c.Optimizer)
	}
	if c.LR <= 0 {
		c.LR = 2e-4
	}
	if c.Credits <= 0 {
		c.Credits = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BLASThreads == 0 {
		c.BLASThreads = 1
	}
	return nil
}

// layerHandle is what the pipeline needs of a layer of any kind.
type layerHandle struct {
	stats  *statsBox
	frozen *atomic.Bool
}

// Pipeline is a chain of layer actors, source -> layer First -> ... ->
// layer Last, each learning from the stream passing through it.
type Pipeline struct {
	cfg    Config
	sys    *actor.ActorSystem
	sup    *actor.PID
	pids   []*actor.PID
	links  []*link
	taps   []*tapSet
	layers []layerHandle
	paused atomic.Bool
	labels tapSet

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // serialises markers (snapshots, barriers)
	closed atomic.Bool

	fed      atomic.Int64
	lastIn   atomic.Int64 // unix nanos of the last input block
	lastLoud atomic.Int64 // unix nanos of the last block above the silence level
}

// supervisor is the parent of the layer actors: it restarts a layer that
// panics, keeping the layer's core (weights, optimiser state).
type supervisor struct{}

type spawnReq struct {
	props *actor.Props
	reply chan *actor.PID
}

func (s *supervisor) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*spawnReq); ok {
		m.reply <- ctx.Spawn(m.props)
	}
}

// New builds the pipeline and starts its actors.
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if t, ok := model.BLAS().(interface{ SetThreads(int) }); ok && cfg.BLASThreads > 0 {
		t.SetThreads(cfg.BLASThreads)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return log.With("lib", "protoactor")
	}))
	strategy := actor.NewOneForOneStrategy(1000, time.Minute, func(reason any) actor.Directive {
		log.Error("layer panicked", "reason", fmt.Sprint(reason))
		return actor.RestartDirective
	})
	sup := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &supervisor{} }, actor.WithSupervisor(strategy)))
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pipeline{cfg: cfg, sys: sys, sup: sup, ctx: ctx, cancel: cancel}
	n := cfg.Last - cfg.First + 1
	p.links = make([]*link, n)
	p.taps = make([]*tapSet, n)
	cores := make([]layerRunner, n)
	for i := 0; i < n; i++ {
		p.links[i] = newLink(cfg.Credits)
		p.taps[i] = &tapSet{}
	}
	for i := 0; i < n; i++ {
		r, h, err := newLayer(cfg, cfg.First+i, p.links[i], p.taps[i], &p.paused)
		if err != nil {
			cancel()
			return nil, err
		}
		reply := make(chan *actor.PID, 1)
		sys.Root.Send(sup, &spawnReq{props: r.props(), reply: reply})
		p.pids = append(p.pids, <-reply)
		p.layers = append(p.layers, h)
		cores[i] = r
	}
	for i := 0; i+1 < n; i++ {
		cores[i].setSend(sendFunc(ctx, sys.Root, p.pids[i+1], p.links[i+1]))
	}
	return p, nil
}

// layerRunner is a layer core of either kind.
type layerRunner interface {
	handle(ctx actor.Context, msg any)
	setSend(f func(flowMsg) error)
	props() *actor.Props
}

func (c *layerCore[S, W]) setSend(f func(flowMsg) error) { c.send = f }

func (c *layerCore[S, W]) props() *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &layerActor[S, W]{c: c} })
}

// newLayer builds layer n's core from the configuration.
func newLayer(cfg Config, layer int, in *link, taps *tapSet, paused *atomic.Bool) (layerRunner, layerHandle, error) {
	e := cfg.Encoder
	o := layerOptions{n: layer, inRate: e.Config.FrameRate(layer - 1), outRate: e.Config.FrameRate(layer),
		policy: cfg.Night, batch: cfg.Batch, memory: cfg.MemoryBytes, slice: cfg.NightSlice,
		skipAt: cfg.SkipBacklog, seed: cfg.Seed, det: cfg.Deterministic, version: cfg.Version,
		log: cfg.Logger, paused: paused, k: e.Config.K, inspect: cfg.Inspect, last: layer == cfg.Last, dreamer: cfg.Dreamer}
	if layer == 1 {
		o.inRate = model.SampleRate
	}
	var st *model.OptimState
	if layer-1 < len(cfg.Optim) {
		st = cfg.Optim[layer-1]
	}
	var lc *LayerCounters
	if layer-1 < len(cfg.Counters) {
		lc = &cfg.Counters[layer-1]
	}
	if layer <= len(e.Convs) {
		return buildCore(cfg, o, unit[*model.ConvStream, *model.ConvWindow](&convUnit{l: e.Convs[layer-1]}), st, lc, in, taps)
	}
	return buildCore(cfg, o, unit[*model.GRUStream, *model.GRUWindow](&gruUnit{l: e.Top}), st, lc, in, taps)
}

func buildCore[S, W any](cfg Config, o layerOptions, u unit[S, W], st *model.OptimState, lc *LayerCounters, in *link, taps *tapSet) (layerRunner, layerHandle, error) {
	opt, err := newOptimizer(cfg, u.Params(), st)
	if err != nil {
		return nil, layerHandle{}, fmt.Errorf("layer %d: %w", o.n, err)
	}
	c := newLayerCore(o, u, opt, in, taps)
	if lc != nil {
		if err := c.restore(*lc); err != nil {
			return nil, layerHandle{}, err
		}
	}
	return c, layerHandle{stats: c.stats, frozen: &c.frozen}, nil
}

func newOptimizer(cfg Config, ps []*model.Param, st *model.OptimState) (model.Optimizer, error) {
	var o model.Optimizer
	if cfg.Optimizer == "sgd" {
		o = model.NewSGD(ps, cfg.LR)
	} else {
		o = model.NewAdam(ps, cfg.LR)
	}
	if st != nil {
		if err := o.SetState(*st); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// ErrClosed is returned by a pipeline after Close.
var ErrClosed = errors.New("actors: pipeline closed")

// InputLayer returns the layer number of the blocks the pipeline takes.
func (p *Pipeline) InputLayer() int { return p.cfg.First - 1 }

// Feed hands one input block to the first layer, waiting for a credit.
func (p *Pipeline) Feed(ctx context.Context, b frame.Block, born time.Time) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if b.Layer == frame.LabelLayer {
		p.labels.emit(&b, born)
		return nil
	}
	if b.Layer != p.InputLayer() {
		return fmt.Errorf("%w: layer %d block fed to a pipeline that takes layer %d", errBadBlock, b.Layer, p.InputLayer())
	}
	if err := p.send(ctx, &blockMsg{b: b, born: born}); err != nil {
		return err
	}
	now := time.Now().UnixNano()
	p.fed.Add(1)
	p.lastIn.Store(now)
	if b.Layer == frame.AudioLayer && rms(b.Data) > silenceRMS {
		p.lastLoud.Store(now)
	}
	return nil
}

// silenceRMS is the level (about -50 dBFS) below which audio counts as
// silence for the idle night policy.
const silenceRMS = 0.003

func rms(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func (p *Pipeline) send(ctx context.Context, m flowMsg) error {
	l := p.links[0]
	ctx, cancel := mergeCtx(ctx, p.ctx)
	defer cancel()
	if err := l.acquire(ctx); err != nil {
		if p.closed.Load() {
			return ErrClosed
		}
		return err
	}
	p.sys.Root.Send(p.pids[0], m)
	return nil
}

func mergeCtx(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}

// Run feeds src into the pipeline until it is exhausted (then waits for
// every layer to finish what it was given) or ctx ends. With the idle
// night policy it also watches the input for silence and idleness.
func (p *Pipeline) Run(ctx context.Context, src Source) error {
	if p.cfg.Night.Kind == NightIdle {
		stop := p.watchIdle(ctx)
		defer stop()
	}
	for {
		b, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return p.Drain(ctx)
		}
		if err != nil {
			return err
		}
		if err := p.Feed(ctx, b, time.Now()); err != nil {
			if errors.Is(err, errBadBlock) {
				p.cfg.Logger.Warn("pipeline: input block rejected", "err", err)
				continue
			}
			return err
		}
	}
}

// watchIdle starts a night whenever the input has been idle or silent for
// the policy's duration (once per idle period).
func (p *Pipeline) watchIdle(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		d := p.cfg.Night.Idle
		t := time.NewTicker(d / 4)
		defer t.Stop()
		var fired int64
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			last := max(p.lastLoud.Load(), fired)
			if last != 0 && time.Since(time.Unix(0, last)) >= d {
				fired = time.Now().UnixNano()
				p.Night()
			}
		}
	}()
	return cancel
}

// Drain returns once every layer has processed every block fed before
// the call, nights in progress included, and applied its gradients.
func (p *Pipeline) Drain(ctx context.Context) error {
	return p.passThrough(ctx, func(pass func(int)) flowMsg { return &barrierMsg{pass: pass} })
}

// EndRound closes a round of streams: call it when every stream fed so far
// has ended. Each layer applies what it gathered, runs the round's night
// (day/night policies) and closes its cycle; EndRound returns when the
// last layer has. In deterministic mode a Snapshot taken right after it
// resumes bit for bit.
func (p *Pipeline) EndRound(ctx context.Context) error {
	return p.passThrough(ctx, func(pass func(int)) flowMsg { return &roundMsg{pass: pass} })
}

// passThrough sends a marker down the pipeline and waits until the last
// layer has passed it.
func (p *Pipeline) passThrough(ctx context.Context, marker func(pass func(layer int)) flowMsg) error {
	done := make(chan struct{})
	last := p.cfg.Last
	if err := p.send(ctx, marker(func(n int) {
		if n == last {
			close(done)
		}
	})); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ctx.Done():
		return ErrClosed
	}
}

// Night starts a night in every layer now (a control message).
func (p *Pipeline) Night() {
	for _, pid := range p.pids {
		p.sys.Root.Send(pid, &nightMsg{})
	}
}

// Freeze freezes (or unfreezes) learning of layer n, or of every layer
// with n = 0 (the global third factor); inference goes on.
func (p *Pipeline) Freeze(n int, frozen bool) error {
	if n == 0 {
		p.paused.Store(frozen)
		return nil
	}
	i := n - p.cfg.First
	if i < 0 || i >= len(p.pids) {
		return fmt.Errorf("%w: layer %d is not in this pipeline (%d-%d)", ErrConfig, n, p.cfg.First, p.cfg.Last)
	}
	p.sys.Root.Send(p.pids[i], &freezeMsg{frozen: frozen})
	return nil
}

// Paused reports whether learning is frozen globally.
func (p *Pipeline) Paused() bool { return p.paused.Load() }

// Stats returns every layer's statistics.
func (p *Pipeline) Stats() []LayerStats {
	out := make([]LayerStats, len(p.layers))
	for i, h := range p.layers {
		out[i] = h.stats.get()
		out[i].Backlog = p.links[i].waiting()
	}
	return out
}

// Layers returns the first and last layer the pipeline runs.
func (p *Pipeline) Layers() (first, last int) { return p.cfg.First, p.cfg.Last }

// Tap registers f on layer n's output; call the returned func to remove it.
func (p *Pipeline) Tap(n int, f Tap) (remove func(), err error) {
	i := n - p.cfg.First
	if i < 0 || i >= len(p.taps) {
		return nil, fmt.Errorf("%w: layer %d is not in this pipeline (%d-%d)", ErrConfig, n, p.cfg.First, p.cfg.Last)
	}
	return p.taps[i].add(f), nil
}

// TapLabels registers f on the label blocks fed to the pipeline.
func (p *Pipeline) TapLabels(f Tap) (remove func()) { return p.labels.add(f) }

// Snapshot takes a consistent checkpoint of every layer without stopping
// the stream: a marker travels down the pipeline behind the blocks fed so
// far, and each layer copies its weights, optimiser state and counters as
// the marker passes. Layers outside the pipeline keep the encoder's values.
func (p *Pipeline) Snapshot(ctx context.Context) (*model.Checkpoint, []LayerCounters, error) {
	n := len(p.pids)
	parts := make(chan layerSnapshot, n)
	if err := p.send(ctx, &snapshotMsg{collect: func(s layerSnapshot) { parts <- s }}); err != nil {
		return nil, nil, err
	}
	got := make([]layerSnapshot, 0, n)
	for len(got) < n {
		select {
		case s := <-parts:
			got = append(got, s)
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-p.ctx.Done():
			return nil, nil, ErrClosed
		}
	}
	src := p.cfg.Encoder
	e, err := model.NewEncoder(src.Config, 0)
	if err != nil {
		return nil, nil, err
	}
	// Layers not run here are not written by any actor: copy them as they are.
	for l := 1; l <= e.Layers(); l++ {
		if l >= p.cfg.First && l <= p.cfg.Last {
			continue
		}
		for i, q := range e.LayerParams(l) {
			copy(q.Data, src.LayerParams(l)[i].Data)
		}
	}
	ck := &model.Checkpoint{Encoder: e, Optim: make([]*model.OptimState, e.Layers())}
	counters := make([]LayerCounters, e.Layers())
	for _, s := range got {
		for i, q := range e.LayerParams(s.layer) {
			copy(q.Data, s.params[i])
		}
		st := s.optim
		ck.Optim[s.layer-1] = &st
		counters[s.layer-1] = s.meta
	}
	return ck, counters, nil
}

// Close stops the actors. Blocks still queued are dropped; call Drain
// first to finish them.
func (p *Pipeline) Close() {
	if p.closed.Swap(true) {
		return
	}
	p.cancel()
	for _, pid := range p.pids {
		_ = p.sys.Root.PoisonFuture(pid).Wait()
	}
	_ = p.sys.Root.PoisonFuture(p.sup).Wait()
	p.sys.Shutdown()
}
