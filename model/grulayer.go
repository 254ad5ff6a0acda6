package model

import (
	"fmt"
	"math/rand/v2"
)

// GRULayer is the recurrent top layer as it runs over streams. Its
// contexts are the GRU's outputs, its targets the frames of the layer
// below (its own input), which by default do not learn from this loss.
// It learns with e-prop (forward in time, no back-propagation through time)
// or, as the paper's baseline, with BPTT truncated to each learning window.
type GRULayer struct {
	GRU  *GRU
	Head *Head
	// Every is the context subsampling (1 at 100 Hz).
	Every int
	// BPTT selects back-propagation through time over each learning window
	// instead of e-prop.
	BPTT bool
	// Warm is the number of frames before a stored window that a night
	// replay runs first, so that its recomputed hidden state and traces
	// are not cold at the first context.
	Warm   int
	Prefix string
	// acc collects e-prop gradients absorbed outside Learn (when a block is
	// forwarded without learning); Learn hands them on.
	acc *GRUGrads
}

// Params returns the GRU's four tensors, pred.weight (and pred_c.weight),
// the order of the layer's Grads.
func (l *GRULayer) Params() []*Param {
	return append(l.GRU.Params(l.Prefix+"gru."), l.Head.Params(l.Prefix)...)
}

// GRUWindow is a span of a stream at the GRU layer: the input frames (which
// are also the targets) and the outputs, with what a replay needs to
// recompute them.
type GRUWindow struct {
	// X holds input frames [First-Lead, First+Rows), Lead of them before
	// the window for warm-up.
	X    []float32
	Lead int
	Rows int
	// First is the index of the window's first frame.
	First int64
	// H0 is the hidden state before X's first row.
	H0 []float32
	// Hs are the outputs of the window's rows (nil in a stored record).
	Hs      []float32
	NewFrom int64
	Phase   int
}

// Targets returns the window's target frames (Rows x Cin).
func (w *GRUWindow) Targets(cin int) []float32 { return w.X[w.Lead*cin:] }

// Bytes returns the memory a captured window holds.
func (w *GRUWindow) Bytes() int { return 4 * (cap(w.X) + cap(w.H0) + cap(w.Hs)) }

// GRUStream is the GRU layer's state for one stream.
type GRUStream struct {
	ep    *EpropStream
	h     []float32 // BPTT mode: current hidden state
	nOut  int64
	ended bool
	// Retained rows [r0, nOut) of inputs and outputs, h before r0.
	r0      int64
	x, hs   []float32
	hBefore []float32
	win     GRUWindow
	tape    GRUTape
	infer   bool // forward only (NewInferenceStream)
}

// NewInferenceStream starts a stream that only runs forward: no traces,
// no learning window. Learn must not be called with it.
func (l *GRULayer) NewInferenceStream() *GRUStream {
	return &GRUStream{h: make([]float32, l.GRU.H), hBefore: make([]float32, l.GRU.H), infer: true}
}

// Resume returns a learning stream that continues the inference stream s
// from its hidden state: learning starts there as if the stream had begun
// with that state (e-prop traces from zero, windows from the next frame
// on). s must not be used afterwards.
func (l *GRULayer) Resume(s *GRUStream, phase int) *GRUStream {
	if !s.infer {
		panic("model: Resume of a stream that already learns")
	}
	n := l.NewStream(phase)
	copy(n.hBefore, s.h)
	if n.ep != nil {
		copy(n.ep.h, s.h)
	} else {
		copy(n.h, s.h)
	}
	n.ended = s.ended
	return n
}

// NewStream starts a stream at h = 0 with the given context phase.
func (l *GRULayer) NewStream(phase int) *GRUStream {
	if phase < 0 || phase >= l.Every {
		panic(fmt.Sprintf("model: context phase %d outside [0, %d)", phase, l.Every))
	}
	H := l.GRU.H
	s := &GRUStream{hBefore: make([]float32, H), win: GRUWindow{Phase: phase}}
	if l.BPTT {
		s.h = make([]float32, H)
	} else {
		s.ep = l.GRU.NewEpropStream(nil)
	}
	return s
}

// Frames returns the number of frames produced so far.
func (s *GRUStream) Frames() int64 { return s.nOut }

// Ended reports whether the stream's end was seen.
func (s *GRUStream) Ended() bool { return s.ended }

// Window returns the current learning window (aliases the stream's
// buffers, valid until the next Forward).
func (s *GRUStream) Window() *GRUWindow { return &s.win }

func (l *GRULayer) sink() *GRUGrads {
	if l.acc == nil {
		l.acc = l.GRU.NewGrads()
	}
	return l.acc
}

// Forward runs rows input frames (rows x Cin) of the stream and returns the
// outputs (aliasing the stream's buffers until the next Forward); end
// marks the stream's last block.
func (l *GRULayer) Forward(s *GRUStream, x []float32, rows int, end bool) []float32 {
	g := l.GRU
	cin, H := g.Cin, g.H
	if s.ended {
		panic("model: Forward after the end of the stream")
	}
	if len(x) < rows*cin {
		panic(fmt.Sprintf("model: Forward: %d values for %d rows of %d", len(x), rows, cin))
	}
	if s.infer {
		s.tape.X = nil
		g.Forward(x, rows, s.h, &s.tape)
		if rows > 0 {
			copy(s.h, s.tape.Hs[(rows-1)*H:rows*H])
		}
		s.nOut += int64(rows)
		s.ended = end
		return s.tape.Hs[:rows*H]
	}
	K := int64(l.Head.K)
	if s.ep != nil {
		// Steps before nOut-K have had all their targets.
		s.ep.Absorb(s.nOut-K, l.sink())
	}
	w0 := max(0, s.nOut-K)
	r0 := max(0, w0-int64(l.Warm))
	if drop := int(r0 - s.r0); drop > 0 {
		copy(s.hBefore, s.hs[(drop-1)*H:drop*H])
		n := int(s.nOut-s.r0) - drop
		copy(s.x, s.x[drop*cin:(drop+n)*cin])
		copy(s.hs, s.hs[drop*H:(drop+n)*H])
		s.x, s.hs = s.x[:n*cin], s.hs[:n*H]
		s.r0 = r0
	}
	old := int(s.nOut - s.r0)
	s.x = append(s.x, x[:rows*cin]...)
	s.hs = extend(s.hs, (old+rows)*H)
	out := s.hs[old*H:]
	if s.ep != nil {
		s.ep.Forward(x, rows, out)
	} else {
		g.Forward(x, rows, s.h, &s.tape)
		copy(out, s.tape.Hs[:rows*H])
		if rows > 0 {
			copy(s.h, out[(rows-1)*H:])
		}
	}
	s.win.NewFrom = s.nOut
	s.nOut += int64(rows)
	s.ended = end
	lead := int(w0 - s.r0)
	s.win.X, s.win.Lead, s.win.First = s.x, lead, w0
	s.win.Rows = int(s.nOut - w0)
	s.win.H0 = s.hBefore
	s.win.Hs = s.hs[lead*H:]
	return out[:rows*H]
}

// Capture copies a window for a later replay.
func (l *GRULayer) Capture(w *GRUWindow) *GRUWindow {
	cin := l.GRU.Cin
	return &GRUWindow{X: append([]float32(nil), w.X[:(w.Lead+w.Rows)*cin]...), Lead: w.Lead, Rows: w.Rows,
		First: w.First, H0: append([]float32(nil), w.H0...), NewFrom: w.NewFrom, Phase: w.Phase}
}

// GRULearning selects the terms of a GRU layer's Learn call.
type GRULearning struct {
	Positive bool
	// Negative, when set, provides negative targets: the frames of another
	// window at the same relative positions.
	Negative *GRUWindow
	Coin     *rand.Rand
	Weight   float32
	// Replay recomputes the window from its stored input with the current
	// weights (a night replay) instead of using the stream's live state.
	Replay bool
	// DTargets, when not nil, receives the gradient with respect to the
	// window's target frames (Rows x Cin): the paper's option of letting
	// this loss update the layer below.
	DTargets []float32
}

// Learn accumulates into g (shaped like Params) the gradient of the chosen
// terms of window w. For a live window (s not nil) the e-prop signals go
// into the stream's traces and reach g as the traces absorb them; with
// BPTT, or for a replay (s nil, lr.Replay), the window is recomputed from
// its stored input and the gradient is complete on return.
func (l *GRULayer) Learn(s *GRUStream, w *GRUWindow, lr GRULearning, g Grads, sc *LearnScratch) (pos, neg Terms) {
	gru, h := l.GRU, l.Head
	cin, H, K := gru.Cin, gru.H, h.K
	negw := lr.Negative
	negRows := 0
	if negw != nil {
		negRows = negw.Rows
	}
	sc.pairs(window{first: w.First, rows: w.Rows, newFrom: w.NewFrom, phase: w.Phase}, l.Every, K, lr.Positive, negRows, lr.Coin)
	gr := &GRUGrads{Wih: g[0], Whh: g[1], Bih: g[2], Bhh: g[3]}
	if s != nil && l.acc != nil {
		// Hand on what the traces absorbed since the last call.
		axpy(1, l.acc.Wih, gr.Wih)
		axpy(1, l.acc.Whh, gr.Whh)
		axpy(1, l.acc.Bih, gr.Bih)
		axpy(1, l.acc.Bhh, gr.Bhh)
		for _, b := range [][]float32{l.acc.Wih, l.acc.Whh, l.acc.Bih, l.acc.Bhh} {
			zero(b)
		}
	}
	n := len(sc.rows)
	if n == 0 {
		if s != nil && s.ep != nil && s.ended {
			s.ep.Flush(gr)
		}
		return
	}
	// Outputs of the window: live, or recomputed now.
	var ep *EpropStream
	hs := w.Hs
	recompute := s == nil || lr.Replay || l.BPTT
	if recompute {
		total := w.Lead + w.Rows
		var tape *GRUTape
		if l.BPTT {
			tape = &GRUTape{}
			if s != nil {
				tape = &s.tape
			}
			gru.Forward(w.X, total, w.H0, tape)
			hs = tape.Hs[w.Lead*H:]
		} else {
			ep = gru.NewEpropStream(w.H0)
			all := make([]float32, total*H)
			ep.Forward(w.X, total, all)
			hs = all[w.Lead*H:]
			// The lead steps only warm the traces up; no signal reaches them.
		}
		defer func() {
			if l.BPTT {
				dh := make([]float32, total*H)
				copy(dh[w.Lead*H:], sc.dz)
				gru.Backward(tape, dh, gr, nil, false)
			} else {
				ep.Flush(gr)
			}
		}()
	}
	sc.ctx = grow(sc.ctx, n*H)
	for i, r := range sc.rows {
		copy(sc.ctx[i*H:(i+1)*H], hs[int(r)*H:int(r+1)*H])
	}
	wt := lr.Weight
	if wt == 0 {
		wt = 1 / float32(K)
	}
	sc.weights = grow(sc.weights, K)
	for k := range sc.weights {
		sc.weights[k] = wt
	}
	h.Score(sc.ctx, n, &sc.sc)
	if len(sc.pos) > 0 {
		pos = sc.sc.Hinge(w.Targets(cin), sc.pos, Positive, sc.weights, lr.DTargets)
	}
	if len(sc.neg) > 0 {
		neg = sc.sc.Hinge(negw.Targets(cin), sc.neg, Negative, sc.weights, nil)
	}
	sc.dctx = growZero(sc.dctx, n*H)
	var dWc []float32
	if h.Split() {
		dWc = g[5]
	}
	sc.sc.Backward(sc.dctx, g[4], dWc)
	// dL/dh per window row.
	sc.dz = growZero(sc.dz, w.Rows*H)
	for i, r := range sc.rows {
		axpy(1, sc.dctx[i*H:(i+1)*H], sc.dz[int(r)*H:int(r+1)*H])
	}
	switch {
	case recompute && ep != nil:
		for r := 0; r < w.Rows; r++ {
			ep.Signal(int64(w.Lead+r), sc.dz[r*H:(r+1)*H])
		}
	case !recompute:
		for r := 0; r < w.Rows; r++ {
			s.ep.Signal(w.First+int64(r), sc.dz[r*H:(r+1)*H])
		}
		if s.ended {
			s.ep.Flush(gr)
		}
	}
	return
}
