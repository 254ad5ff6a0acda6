package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"clapp/model"
	"clapp/stream/frame"
)

// Messages that flow down the pipeline, each taking a credit of the link
// it crosses.
type flowMsg interface{ flow() }

// blockMsg carries one block. born is when its newest audio entered the
// pipeline, for lag and latency.
type blockMsg struct {
	b    frame.Block
	born time.Time
	// exclusive marks b.Data as a framePool buffer that only the receiver
	// holds (no tap saw it): a receiver whose unit copies its input
	// returns it to the pool after Forward.
	exclusive bool
}

// framePools recycle the buffers of blocks passed from one layer to the
// next, one pool per producing layer (its blocks have one size but for a
// stream's last): a paper-size layer 1 emits 6.5 MB per second of audio,
// and fresh buffers that size cost page faults and zeroing.
var framePools [16]sync.Pool

// frameBuffer returns a buffer of n values for a block of the given layer,
// from that layer's pool when the buffer there is large enough.
func frameBuffer(layer, n int) []float32 {
	if layer >= 0 && layer < len(framePools) {
		if p, _ := framePools[layer].Get().(*[]float32); p != nil && cap(*p) >= n {
			return (*p)[:n]
		}
	}
	return make([]float32, n)
}

// releaseFrames returns an exclusive block's buffer to its layer's pool.
func releaseFrames(b *frame.Block) {
	if b.Layer >= 0 && b.Layer < len(framePools) {
		data := b.Data[:0]
		framePools[b.Layer].Put(&data)
	}
}

// snapshotMsg travels down the pipeline like a block: each layer copies
// its state when the marker arrives, so the copies together reflect
// exactly the blocks that came before it, without stopping the stream.
type snapshotMsg struct {
	collect func(layerSnapshot)
}

// barrierMsg is passed on by every layer once everything before it is
// done; pass is called by each layer with its number.
type barrierMsg struct {
	pass func(layer int)
}

// roundMsg closes a round of streams (deterministic mode): every stream
// fed before it has ended. Each layer applies what it has gathered, runs
// the night of the round (day/night policies), closes the cycle and
// forgets its partner, so a checkpoint taken now holds everything that
// shapes what comes next.
type roundMsg struct {
	pass func(layer int)
}

func (*blockMsg) flow()    {}
func (*snapshotMsg) flow() {}
func (*barrierMsg) flow()  {}
func (*roundMsg) flow()    {}

// nightMsg starts a night: replay the negatives stored so far.
type nightMsg struct{}

// nightSlice replays the next records of the night in progress. It is a
// message to self, so day blocks queued meanwhile are served between
// slices and frames keep flowing while the layer dreams.
type nightSlice struct{}

// dreamMsg brings the negative gradient of some records, computed by a
// dreamer on a copy of the weights, back to its layer.
type dreamMsg struct {
	g     model.Grads
	terms model.Terms
	n     int
	last  bool
	gen   int64
	// quit reports a dreamer that panicked: the layer replays the rest.
	quit any
}

// freezeMsg freezes or unfreezes the layer's learning.
type freezeMsg struct{ frozen bool }

// layerSnapshot is one layer's part of a consistent snapshot.
type layerSnapshot struct {
	layer  int
	params [][]float32 // copies, in the order of the layer's Params
	optim  model.OptimState
	meta   LayerCounters
}

// LayerCounters are what a checkpoint keeps of a layer besides its
// weights and optimiser state: counters, and the state of its random
// choices, so that a deterministic run resumes exactly.
type LayerCounters struct {
	Blocks  int64 `json:"blocks"`
	Learned int64 `json:"learned"`
	Nights  int64 `json:"nights"`
	Cycles  int64 `json:"cycles"`
	// RNG is the layer's random generator (math/rand/v2 PCG, binary).
	RNG []byte `json:"rng,omitempty"`
}

// layerOptions configure one layer actor.
type layerOptions struct {
	n       int
	inRate  float64
	outRate float64
	policy  NightPolicy
	batch   int
	memory  int64
	slice   int
	skipAt  int64 // backlog at which learning is skipped; 0 never skips
	seed    uint64
	det     bool
	version string
	log     *slog.Logger
	paused  *atomic.Bool // the global third factor
	k       int
	inspect func(layer int, b *frame.Block)
	// last marks the pipeline's last layer, which records the latency from
	// audio entering the pipeline to its frames leaving.
	last bool
	// dreamer replays nights in a goroutine of their own on a copy of the
	// weights taken when the night starts, instead of in slices between
	// day blocks with the current weights (a measured alternative).
	dreamer bool
}

// layerCore is the part of a layer that survives a restart: weights,
// optimiser, counters, the negative memory. The actor is a thin shell the
// supervisor replaces after a panic.
type layerCore[S, W any] struct {
	opt   layerOptions
	u     unit[S, W]
	optim model.Optimizer
	grads model.Grads
	dirty bool
	rng   *rand.Rand
	pcg   *rand.PCG
	stats *statsBox
	in    *link
	// send hands a message to the next layer, waiting for a credit; nil
	// for the last layer.
	send func(m flowMsg) error
	taps *tapSet

	streams map[string]*streamEntry[S, W]
	// retired holds ended streams whose buffers wait to be recycled until
	// neither the partner nor the pending gradient refers to them.
	retired []retiredStream[S]
	current string
	renamed map[string]string
	ends    []frame.Block // End blocks owed downstream after a restart
	partner partnerRef[W]
	// pend is the last learned window whose frame gradient is still
	// gathering: the next block's negatives score against its frames, and
	// one weight gradient then serves both uses.
	pend    pendingGrad[W]
	memory  *memory[W]
	frozen  atomic.Bool
	batched int // blocks learned since the last optimiser step
	day     int // day blocks since the last night
	night   *nightState[W]
	dreams  int64
	counts  LayerCounters
}

type streamEntry[S, W any] struct {
	s     S
	first int64
	// prev copies the stream's last window: its partner when it is the
	// only stream (negatives from another time of the same stream).
	prev    W
	hasPrev bool
	// inferOnly marks a stream started while learning was frozen, not yet
	// resumed; phase is its context phase.
	inferOnly bool
	phase     int
}

// learning reports whether the layer learns now (neither it nor the whole
// pipeline frozen).
func (c *layerCore[S, W]) learning() bool {
	return !c.frozen.Load() && (c.opt.paused == nil || !c.opt.paused.Load())
}

type retiredStream[S any] struct {
	id string
	s  S
}

// releaseRetired recycles the buffers of the ended streams that nothing
// refers to any more.
func (c *layerCore[S, W]) releaseRetired() {
	keep := c.retired[:0]
	for _, r := range c.retired {
		if (c.partner.ok && c.partner.stream == r.id) || (c.pend.ok && c.pend.stream == r.id) {
			keep = append(keep, r)
			continue
		}
		c.u.Release(r.s)
	}
	clear(c.retired[len(keep):])
	c.retired = keep
}

type partnerRef[W any] struct {
	stream string
	w      W
	ok     bool
}

type pendingGrad[W any] struct {
	stream string
	w      W
	dz     []float32
	ok     bool
}

// flushPend back-propagates the gathered gradient of the pending window.
func (c *layerCore[S, W]) flushPend() {
	if !c.pend.ok {
		return
	}
	c.u.Backprop(c.pend.w, c.pend.dz, c.grads)
	c.pend = pendingGrad[W]{}
}

type nightState[W any] struct {
	records []record[W]
	at      int
	// gen tells a dreamer's messages for this night from stale ones.
	gen int64
	// stop asks this night's dreamer to quit; done is closed when it has.
	stop *atomic.Bool
	done chan struct{}
}

func newLayerCore[S, W any](o layerOptions, u unit[S, W], optim model.Optimizer, in *link, taps *tapSet) *layerCore[S, W] {
	pcg := rand.NewPCG(o.seed, uint64(o.n))
	c := &layerCore[S, W]{opt: o, u: u, optim: optim, grads: model.NewGrads(u.Params()), pcg: pcg,
		rng: rand.New(pcg), stats: &statsBox{}, in: in, taps: taps,
		streams: map[string]*streamEntry[S, W]{}, renamed: map[string]string{}, memory: newMemory[W](o.memory)}
	c.stats.s.Layer = o.n
	c.stats.s.MemoryCapacity = o.memory
	return c
}

// layerActor is the protoactor shell around a core.
type layerActor[S, W any] struct{ c *layerCore[S, W] }

func (a *layerActor[S, W]) Receive(ctx actor.Context) { a.c.handle(ctx, ctx.Message()) }

// handle processes one message. With ctx nil (the layer driven directly,
// not as an actor) nights run to their end at once.
func (c *layerCore[S, W]) handle(ctx actor.Context, msg any) {
	switch m := msg.(type) {
	case *blockMsg:
		c.in.release()
		c.flushEnds()
		c.current = m.b.Stream
		c.block(ctx, m)
		c.current = ""
	case *snapshotMsg:
		c.in.release()
		c.flushEnds()
		m.collect(c.snapshot())
		c.forward(m)
	case *barrierMsg:
		c.in.release()
		c.flushEnds()
		// A night in progress is part of "everything before": finish it.
		c.finishNight(ctx)
		c.apply()
		m.pass(c.opt.n)
		c.forward(m)
	case *roundMsg:
		c.in.release()
		c.flushEnds()
		c.endRound()
		m.pass(c.opt.n)
		c.forward(m)
	case *nightMsg:
		c.startNight(ctx)
	case *nightSlice:
		c.nightSlice(ctx)
	case *dreamMsg:
		c.dream(m)
	case *freezeMsg:
		c.frozen.Store(m.frozen)
		c.stats.update(func(s *LayerStats) { s.FrozenNow = m.frozen })
	case *actor.Restarting:
		c.restarted()
	}
}

func (c *layerCore[S, W]) forward(m flowMsg) {
	if c.send == nil {
		return
	}
	if err := c.send(m); err != nil {
		c.opt.log.Debug("layer: downstream gone", "layer", c.opt.n, "err", err)
	}
}

var errBadBlock = errors.New("actors: bad block")

// check validates an input block before it can reach a weight.
func (c *layerCore[S, W]) check(b *frame.Block) error {
	w := c.u.InWidth()
	switch {
	case b.Cols != w:
		return fmt.Errorf("%w: %d channels, layer %d takes %d", errBadBlock, b.Cols, c.opt.n, w)
	case b.Rows < 0 || len(b.Data) != b.Rows*b.Cols:
		return fmt.Errorf("%w: %d values for %d x %d", errBadBlock, len(b.Data), b.Rows, b.Cols)
	case b.Rate != 0 && math.Abs(b.Rate-c.opt.inRate) > 1e-6*c.opt.inRate:
		return fmt.Errorf("%w: rate %g, layer %d takes %g", errBadBlock, b.Rate, c.opt.n, c.opt.inRate)
	case !model.Finite(b.Data):
		return fmt.Errorf("%w: NaN or Inf in stream %s at %d", errBadBlock, b.Stream, b.First)
	}
	return nil
}

func (c *layerCore[S, W]) block(ctx actor.Context, m *blockMsg) {
	b := &m.b
	if c.opt.inspect != nil {
		c.opt.inspect(c.opt.n, b)
	}
	id := b.Stream
	if r, ok := c.renamed[id]; ok {
		id = r
	}
	if err := c.check(b); err != nil {
		c.stats.update(func(s *LayerStats) { s.BadInput++ })
		c.opt.log.Warn("layer: input rejected", "layer", c.opt.n, "stream", b.Stream, "err", err)
		if !b.End {
			return
		}
		// Keep the stream's boundary: end it with no new rows.
		b = &frame.Block{Stream: b.Stream, End: true, Cols: c.u.InWidth(), First: b.First}
	}
	if c.pend.ok && c.pend.stream == id {
		c.flushPend() // Forward is about to reuse the window's buffers
	}
	e := c.streams[id]
	if e == nil {
		phase := 0
		if ev := c.u.Every(); ev > 1 {
			phase = c.rng.IntN(ev)
		}
		// A stream that starts while the layer is frozen runs without
		// learning state until learning resumes.
		learning := c.learning()
		e = &streamEntry[S, W]{s: c.u.NewStream(phase, learning), inferOnly: !learning, phase: phase}
		c.streams[id] = e
	} else if e.inferOnly && c.learning() {
		e.s, e.inferOnly = c.u.Resume(e.s, e.phase), false
	}
	out := c.u.Forward(e.s, b.Data, b.Rows, b.End)
	w := c.u.OutWidth()
	rows := len(out) / w
	if m.exclusive && b == &m.b && c.u.CopiesInput() {
		releaseFrames(&m.b) // Forward has copied what it keeps
	}
	data := frameBuffer(c.opt.n, len(out))
	copy(data, out)
	ob := frame.Block{Stream: id, Layer: c.opt.n, First: e.first, Rows: rows, Cols: w,
		Data: data, Rate: c.opt.outRate, End: b.End, Model: c.opt.version}
	e.first += int64(rows)
	c.stats.frames(rows, m.born)
	if c.opt.last && !m.born.IsZero() && rows > 0 {
		c.stats.latency(time.Since(m.born))
	}
	// Inference first: the next layer works while this one learns.
	tapped := c.taps.emit(&ob, m.born)
	c.forward(&blockMsg{b: ob, born: m.born, exclusive: !tapped})
	c.learn(ctx, id, e)
	if b.End {
		c.retired = append(c.retired, retiredStream[S]{id, e.s})
		delete(c.streams, id)
		delete(c.renamed, b.Stream)
	}
	c.releaseRetired()
	c.stats.update(func(s *LayerStats) { s.Streams = len(c.streams); s.Backlog = c.in.waiting() })
}

func (c *layerCore[S, W]) learn(ctx actor.Context, id string, e *streamEntry[S, W]) {
	if e.inferOnly || !c.learning() {
		c.stats.update(func(s *LayerStats) { s.Frozen++ })
		return
	}
	if c.opt.skipAt > 0 && c.in.waiting() >= c.opt.skipAt {
		c.stats.update(func(s *LayerStats) { s.Skipped++ })
		return
	}
	w := c.u.Window(e.s)
	var partner W
	hasPartner := false
	switch {
	case c.partner.ok && c.partner.stream != id:
		partner, hasPartner = c.partner.w, true
	case e.hasPrev:
		partner, hasPartner = e.prev, true
	}
	var pos, neg model.Terms
	switch c.opt.policy.Kind {
	case NightNever, NightAlternate:
		var coin *rand.Rand
		if c.opt.policy.Kind == NightAlternate {
			coin = c.rng
		}
		dz := c.u.NewDz(w)
		var negDz []float32
		immediate := false
		if hasPartner && dz != nil {
			if c.pend.ok && c.partner.ok && c.partner.stream == c.pend.stream && c.partner.stream != id {
				negDz = c.pend.dz
			} else {
				negDz, immediate = c.u.NewDz(partner), true
			}
		}
		pos, neg = c.u.Learn(e.s, true, partnerOrZero(partner, hasPartner), coin, c.grads, dz, negDz)
		if immediate {
			c.u.Backprop(partner, negDz, c.grads)
		}
		c.flushPend()
		if dz != nil {
			c.pend = pendingGrad[W]{stream: id, w: w, dz: dz, ok: true}
		}
	default:
		var none W
		pos, _ = c.u.Learn(e.s, true, none, nil, c.grads, nil, nil)
		if hasPartner && c.u.Rows(w) > 0 && c.u.Rows(partner) > 0 {
			r := record[W]{w: c.u.CaptureContexts(w), partner: c.u.Capture(partner)}
			r.bytes = int64(c.u.Bytes(r.w) + c.u.Bytes(r.partner))
			c.memory.push(r)
			c.stats.update(func(s *LayerStats) { s.RecordBytes = r.bytes })
		}
	}
	c.dirty = true
	c.counts.Learned++
	c.stats.terms(c.opt.k, pos, neg)
	c.stats.update(func(s *LayerStats) {
		s.Learned++
		s.MemoryBytes, s.MemoryRecords, s.MemoryDropped = c.memory.used, int64(c.memory.len()), c.memory.dropped
	})
	// Partners for the next blocks.
	c.partner = partnerRef[W]{stream: id, w: w, ok: true}
	if len(c.streams) == 1 {
		e.prev, e.hasPrev = c.u.Snapshot(w), true
	} else {
		var zero W
		e.prev, e.hasPrev = zero, false
	}
	c.batched++
	if c.batched >= c.opt.batch {
		c.apply()
		c.batched = 0
		if !c.opt.policy.dayNight() {
			c.endCycle()
		}
	}
	if c.opt.policy.Kind == NightEvery {
		c.day++
		if c.day >= c.opt.policy.Every {
			c.day = 0
			// The night must keep up with the day: if the last one is still
			// going when the next is due, finish it now (day blocks wait)
			// rather than let the memory fill and drop negatives.
			c.finishNight(nil)
			c.startNight(ctx)
		}
	}
}

func partnerOrZero[W any](w W, ok bool) W {
	if ok {
		return w
	}
	var zero W
	return zero
}

// apply hands the accumulated gradient to the optimiser.
func (c *layerCore[S, W]) apply() {
	c.flushPend()
	if !c.dirty {
		return
	}
	if err := c.optim.Apply(c.grads); err != nil {
		c.stats.update(func(s *LayerStats) { s.Refused++ })
		c.opt.log.Warn("layer: update refused", "layer", c.opt.n, "err", err)
	}
	c.grads.Zero()
	c.dirty = false
}

func (c *layerCore[S, W]) endCycle() {
	if err := c.optim.EndCycle(); err != nil {
		c.stats.update(func(s *LayerStats) { s.Refused++ })
	}
	c.counts.Cycles++
	c.stats.update(func(s *LayerStats) { s.Cycles = c.counts.Cycles })
}

func (c *layerCore[S, W]) startNight(ctx actor.Context) {
	if !c.opt.policy.dayNight() || c.night != nil {
		return
	}
	c.apply() // the day's positives
	recs := c.memory.take()
	c.night = &nightState[W]{records: recs}
	c.stats.update(func(s *LayerStats) { s.Night = true; s.MemoryBytes, s.MemoryRecords = 0, 0 })
	if c.opt.det || ctx == nil {
		for c.night != nil {
			c.nightSlice(nil)
		}
		return
	}
	if c.opt.dreamer {
		c.startDreamer(ctx)
		return
	}
	ctx.Send(ctx.Self(), &nightSlice{})
}

// startDreamer replays the night's records in a goroutine on a copy of
// the weights and sends their gradients back slice by slice.
func (c *layerCore[S, W]) startDreamer(ctx actor.Context) {
	clone := c.u.Clone()
	recs := c.night.records
	c.dreams++
	c.night.gen = c.dreams
	gen := c.dreams
	self, sys := ctx.Self(), ctx.ActorSystem()
	slice := max(c.opt.slice, 1)
	stop, done := &atomic.Bool{}, make(chan struct{})
	c.night.stop, c.night.done = stop, done
	go func() {
		defer func() {
			if r := recover(); r != nil {
				sys.Root.Send(self, &dreamMsg{gen: gen, quit: r})
			}
			close(done)
		}()
		for at := 0; at < len(recs) || at == 0; at += slice {
			end := min(len(recs), at+slice)
			g := model.NewGrads(clone.Params())
			var t model.Terms
			for _, r := range recs[at:end] {
				if stop.Load() {
					return
				}
				t.Add(clone.Replay(r.w, r.partner, g))
			}
			sys.Root.Send(self, &dreamMsg{g: g, terms: t, n: end - at, last: end >= len(recs), gen: gen})
			if end >= len(recs) {
				return
			}
		}
	}()
}

// dream applies a dreamer's gradients; the last closes the night.
func (c *layerCore[S, W]) dream(m *dreamMsg) {
	if c.night == nil || c.night.gen != m.gen {
		return // the night was finished here, or dropped by a restart
	}
	if m.quit != nil {
		// The rest is replayed here, under the supervisor: a record that
		// panics again restarts the layer and is dropped with its night.
		c.opt.log.Error("layer: the dreamer panicked; the night goes on in the layer", "layer", c.opt.n, "reason", m.quit)
		c.finishNight(nil)
		return
	}
	c.night.at += m.n
	if err := c.optim.Apply(m.g); err != nil {
		c.stats.update(func(s *LayerStats) { s.Refused++ })
	}
	c.stats.terms(c.opt.k, model.Terms{}, m.terms)
	if !m.last {
		return
	}
	replayed := int64(len(c.night.records))
	c.night = nil
	c.counts.Nights++
	c.endCycle()
	c.stats.update(func(s *LayerStats) { s.Night = false; s.Nights = c.counts.Nights; s.Replayed += replayed })
}

// nightSlice replays the next slice of records with the current weights;
// with ctx nil it runs without yielding.
func (c *layerCore[S, W]) nightSlice(ctx actor.Context) {
	n := c.night
	if n == nil {
		return
	}
	end := min(len(n.records), n.at+max(c.opt.slice, 1))
	var neg model.Terms
	for ; n.at < end; n.at++ {
		r := n.records[n.at]
		neg.Add(c.u.Replay(r.w, r.partner, c.grads))
		c.dirty = true
		var zero record[W]
		n.records[n.at] = zero
	}
	c.stats.terms(c.opt.k, model.Terms{}, neg)
	c.apply()
	if n.at < len(n.records) {
		if ctx != nil {
			ctx.Send(ctx.Self(), &nightSlice{})
		}
		return
	}
	replayed := int64(len(n.records))
	c.night = nil
	c.counts.Nights++
	c.endCycle()
	c.stats.update(func(s *LayerStats) { s.Night = false; s.Nights = c.counts.Nights; s.Replayed += replayed })
}

func (c *layerCore[S, W]) snapshot() layerSnapshot {
	ps := c.u.Params()
	snap := layerSnapshot{layer: c.opt.n, params: make([][]float32, len(ps)), meta: c.counts}
	for i, p := range ps {
		snap.params[i] = append([]float32(nil), p.Data...)
	}
	st := c.optim.State()
	snap.optim = model.OptimState{Kind: st.Kind, Cycles: st.Cycles, Tensors: map[string][]float32{}}
	for k, v := range st.Tensors {
		snap.optim.Tensors[k] = append([]float32(nil), v...)
	}
	snap.meta.Blocks = c.stats.get().Blocks
	snap.meta.RNG, _ = c.pcg.MarshalBinary()
	return snap
}

// restore takes up counters and random state from a checkpoint.
func (c *layerCore[S, W]) restore(lc LayerCounters) error {
	if len(lc.RNG) > 0 {
		if err := c.pcg.UnmarshalBinary(lc.RNG); err != nil {
			return fmt.Errorf("layer %d: random state: %w", c.opt.n, err)
		}
	}
	lc.RNG = nil
	c.counts = lc
	c.stats.update(func(s *LayerStats) { s.Nights, s.Cycles = lc.Nights, lc.Cycles })
	return nil
}

// finishNight completes the night in progress before returning: slices
// here, or, with a dreamer, the rest of the records replayed here on the
// current weights (the dreamer's late messages are then ignored).
func (c *layerCore[S, W]) finishNight(ctx actor.Context) {
	if n := c.night; n != nil && n.done != nil {
		// What the dreamer has not sent yet is replayed here; its late
		// messages no longer match the night. It recomputes frames into
		// the records' windows, so it must have quit before they are
		// touched here.
		n.gen = -1
		n.stop.Store(true)
		<-n.done
	}
	for c.night != nil {
		c.nightSlice(nil)
	}
}

// endRound closes a round of streams (see roundMsg).
func (c *layerCore[S, W]) endRound() {
	c.finishNight(nil)
	if c.opt.policy.dayNight() {
		c.startNight(nil) // applies the day, replays the round's negatives, closes the cycle
	} else {
		c.apply()
		if c.batched > 0 {
			c.endCycle()
		}
	}
	c.batched, c.day = 0, 0
	c.partner = partnerRef[W]{}
	c.releaseRetired()
	for _, e := range c.streams {
		var zero W
		e.prev, e.hasPrev = zero, false
	}
}

// restarted runs on the failed instance before the supervisor replaces
// it: the stream being processed is dropped (its state may be half
// updated) and continues downstream under a new name; the partial batch
// gradient is discarded; weights and optimiser state are kept.
func (c *layerCore[S, W]) restarted() {
	c.stats.update(func(s *LayerStats) { s.Restarts++; s.BadInput++ })
	c.opt.log.Error("layer: restarted after a panic", "layer", c.opt.n, "stream", c.current)
	c.grads.Zero()
	c.dirty = false
	c.night = nil
	c.pend = pendingGrad[W]{}
	if id := c.current; id != "" {
		name := id
		if r, ok := c.renamed[id]; ok {
			name = r
		}
		if e, ok := c.streams[name]; ok {
			c.ends = append(c.ends, frame.Block{Stream: name, Layer: c.opt.n, First: e.first, Cols: c.u.OutWidth(), Rate: c.opt.outRate, End: true, Model: c.opt.version})
			delete(c.streams, name)
		}
		if c.partner.stream == name {
			c.partner = partnerRef[W]{}
		}
		c.renamed[id] = fmt.Sprintf("%s~%d", id, c.stats.get().Restarts)
	}
	c.current = ""
}

// flushEnds sends the End blocks a restart owes downstream.
func (c *layerCore[S, W]) flushEnds() {
	for _, b := range c.ends {
		c.taps.emit(&b, time.Time{})
		c.forward(&blockMsg{b: b})
	}
	c.ends = c.ends[:0]
}

// sendFunc returns a send function that takes a credit of l and delivers
// to pid.
func sendFunc(ctx context.Context, root *actor.RootContext, pid *actor.PID, l *link) func(flowMsg) error {
	return func(m flowMsg) error {
		if err := l.acquire(ctx); err != nil {
			return err
		}
		root.Send(pid, m)
		return nil
	}
}
