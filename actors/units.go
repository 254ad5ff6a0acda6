package actors

import (
	"math/rand/v2"

	"clapp/model"
)

// unit adapts one of model's streaming layers to the layer actor: S is its
// per-stream state, W a learning window (live, or captured for the night).
type unit[S, W any] interface {
	Params() []*model.Param
	InWidth() int
	OutWidth() int
	// NewStream starts a stream; one that will not learn (the layer is
	// frozen when it starts) may skip what only learning needs.
	NewStream(phase int, learn bool) S
	// Resume makes a stream started without learning state learn from its
	// next block on, continuing its state.
	Resume(s S, phase int) S
	Forward(s S, x []float32, rows int, end bool) []float32
	// CopiesInput reports whether Forward keeps nothing of x (the actor
	// then recycles x's buffer).
	CopiesInput() bool
	// Release recycles the buffers of an ended stream whose window is no
	// longer used.
	Release(s S)
	Frames(s S) int64
	Window(s S) W
	// Learn scores the live window of s: positives, and negatives against
	// partner when it is not nil (partner's frames must be current). With
	// dz (and negDz) not nil, the gradient reaching the frames of the
	// window (and of the partner) is added there instead of being
	// back-propagated: Backprop does that once a window has all of it.
	Learn(s S, pos bool, partner W, coin *rand.Rand, g model.Grads, dz, negDz []float32) (p, n model.Terms)
	// NewDz returns a zeroed gradient buffer for the frames of w, or nil
	// when the layer's frames take no gradient from its loss elsewhere (the
	// GRU's targets are constants).
	NewDz(w W) []float32
	Backprop(w W, dz []float32, g model.Grads)
	// Capture copies a window for a later replay; CaptureContexts copies
	// only what the window's own side of its negatives needs; Rows of a
	// window.
	Capture(w W) W
	CaptureContexts(w W) W
	Rows(w W) int
	// Replay recomputes a stored window and its partner with the current
	// weights and scores the negative terms.
	Replay(w, partner W, g model.Grads) model.Terms
	// Snapshot makes a live window usable as a partner after the stream's
	// next Forward (a copy with its frames).
	Snapshot(w W) W
	Bytes(w W) int
	Every() int
	// Clone copies the unit's weights: a dreamer replays on the copy.
	Clone() unit[S, W]
}

type convUnit struct {
	l  *model.ConvLayer
	sc model.LearnScratch
}

func (u *convUnit) Params() []*model.Param                        { return u.l.Params() }
func (u *convUnit) InWidth() int                                  { return u.l.Conv.Cin }
func (u *convUnit) OutWidth() int                                 { return u.l.Conv.Cout }
func (u *convUnit) NewStream(phase int, _ bool) *model.ConvStream { return u.l.NewStream(phase) }

// Resume: a convolution's stream is the same with and without learning.
func (u *convUnit) Resume(s *model.ConvStream, _ int) *model.ConvStream { return s }
func (u *convUnit) Frames(s *model.ConvStream) int64                    { return s.Frames() }
func (u *convUnit) Window(s *model.ConvStream) *model.ConvWindow        { return s.Window() }
func (u *convUnit) Rows(w *model.ConvWindow) int                        { return w.Rows }
func (u *convUnit) Bytes(w *model.ConvWindow) int                       { return w.Bytes() }
func (u *convUnit) Every() int                                          { return u.l.Every }

func (u *convUnit) Forward(s *model.ConvStream, x []float32, rows int, end bool) []float32 {
	return u.l.Forward(s, x, rows, end)
}

// CopiesInput: ConvLayer.Forward appends x to the stream's own input.
func (u *convUnit) CopiesInput() bool { return true }

func (u *convUnit) Release(s *model.ConvStream) { u.l.Release(s) }

func (u *convUnit) Learn(s *model.ConvStream, pos bool, partner *model.ConvWindow, coin *rand.Rand, g model.Grads, dz, negDz []float32) (model.Terms, model.Terms) {
	return u.l.Learn(s.Window(), model.Learning{Positive: pos, Negative: partner, Coin: coin, DZ: dz, NegDZ: negDz}, g, &u.sc)
}

func (u *convUnit) NewDz(w *model.ConvWindow) []float32 {
	return make([]float32, w.Rows*u.l.Conv.Cout)
}

func (u *convUnit) Backprop(w *model.ConvWindow, dz []float32, g model.Grads) { u.l.Backprop(w, dz, g) }

func (u *convUnit) Capture(w *model.ConvWindow) *model.ConvWindow { return u.l.Capture(w) }

func (u *convUnit) CaptureContexts(w *model.ConvWindow) *model.ConvWindow {
	if u.l.CompactContexts() {
		return u.l.CaptureContexts(w)
	}
	return u.l.Capture(w)
}

func (u *convUnit) Snapshot(w *model.ConvWindow) *model.ConvWindow {
	c := u.l.Capture(w)
	c.A = append([]float32(nil), w.A...)
	c.Z = append([]float32(nil), w.Z...)
	return c
}

func (u *convUnit) Replay(w, partner *model.ConvWindow, g model.Grads) model.Terms {
	if w.Compact {
		return u.l.ReplayNegatives(w, partner, g, &u.sc)
	}
	u.l.Recompute(w)
	u.l.Recompute(partner)
	_, n := u.l.Learn(w, model.Learning{Negative: partner}, g, &u.sc)
	// The recomputed frames are not kept: a record holds only its input.
	w.A, w.Z, partner.A, partner.Z = nil, nil, nil, nil
	return n
}

func (u *convUnit) Clone() unit[*model.ConvStream, *model.ConvWindow] {
	return &convUnit{l: u.l.Clone()}
}

type gruUnit struct {
	l  *model.GRULayer
	sc model.LearnScratch
}

func (u *gruUnit) Params() []*model.Param { return u.l.Params() }
func (u *gruUnit) InWidth() int           { return u.l.GRU.Cin }
func (u *gruUnit) OutWidth() int          { return u.l.GRU.H }
func (u *gruUnit) NewStream(phase int, learn bool) *model.GRUStream {
	if !learn {
		return u.l.NewInferenceStream() // no e-prop traces: an eighth of inference
	}
	return u.l.NewStream(phase)
}

func (u *gruUnit) Resume(s *model.GRUStream, phase int) *model.GRUStream { return u.l.Resume(s, phase) }
func (u *gruUnit) Frames(s *model.GRUStream) int64                       { return s.Frames() }
func (u *gruUnit) Window(s *model.GRUStream) *model.GRUWindow            { return s.Window() }
func (u *gruUnit) Rows(w *model.GRUWindow) int                           { return w.Rows }
func (u *gruUnit) Bytes(w *model.GRUWindow) int                          { return w.Bytes() }
func (u *gruUnit) Every() int                                            { return u.l.Every }

func (u *gruUnit) Forward(s *model.GRUStream, x []float32, rows int, end bool) []float32 {
	return u.l.Forward(s, x, rows, end)
}

// CopiesInput is false: GRU.Forward's tape keeps x for back-propagation
// through time. (Its input, 100 frames a second, is small anyway.)
func (u *gruUnit) CopiesInput() bool { return false }

// Release does nothing: a GRU stream's buffers are small.
func (u *gruUnit) Release(*model.GRUStream) {}

func (u *gruUnit) Learn(s *model.GRUStream, pos bool, partner *model.GRUWindow, coin *rand.Rand, g model.Grads, _, _ []float32) (model.Terms, model.Terms) {
	return u.l.Learn(s, s.Window(), model.GRULearning{Positive: pos, Negative: partner, Coin: coin}, g, &u.sc)
}

func (u *gruUnit) NewDz(*model.GRUWindow) []float32                  { return nil }
func (u *gruUnit) Backprop(*model.GRUWindow, []float32, model.Grads) {}

func (u *gruUnit) Capture(w *model.GRUWindow) *model.GRUWindow         { return u.l.Capture(w) }
func (u *gruUnit) CaptureContexts(w *model.GRUWindow) *model.GRUWindow { return u.l.Capture(w) }
func (u *gruUnit) Snapshot(w *model.GRUWindow) *model.GRUWindow        { return u.l.Capture(w) }

func (u *gruUnit) Replay(w, partner *model.GRUWindow, g model.Grads) model.Terms {
	_, n := u.l.Learn(nil, w, model.GRULearning{Negative: partner, Replay: true}, g, &u.sc)
	return n
}

func (u *gruUnit) Clone() unit[*model.GRUStream, *model.GRUWindow] { return &gruUnit{l: u.l.Clone()} }
