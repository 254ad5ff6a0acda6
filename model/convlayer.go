package model

import (
	"fmt"
	"math/rand/v2"
)

// ConvLayer is one convolutional layer of the encoder (convolution, ReLU
// and its CLAPP head) as it runs over streams: frames arrive in blocks,
// outputs leave as soon as their window is complete, and the layer learns
// from its own input, output and gates only.
type ConvLayer struct {
	Conv *Conv1d
	Head *Head
	// Every is the context subsampling: contexts are the frames t with
	// t % Every == the stream's phase.
	Every int
	// Norm, when set, normalises the input (x - Norm[0]) / Norm[1] before
	// padding: the first layer's treatment of raw samples.
	Norm *[2]float32
	// Prefix names the parameters, e.g. "layers.0.".
	Prefix string
}

// Params returns conv.weight, conv.bias, pred.weight (and pred_c.weight),
// the order of the layer's Grads.
func (l *ConvLayer) Params() []*Param {
	return append(l.Conv.Params(l.Prefix+"conv."), l.Head.Params(l.Prefix)...)
}

// ConvWindow is a span of a stream's output frames with the padded input
// rows that produced them: what a layer needs to learn from those frames.
type ConvWindow struct {
	// XP holds the input rows from the first frame's window on.
	XP []float32
	// Rows is the number of output frames, First the index of the first.
	Rows  int
	First int64
	// A and Z are the pre-activations and outputs (Rows x Cout), nil in a
	// stored record until recomputed with the weights of the time.
	A, Z []float32
	// NewFrom is the first frame whose targets have not been scored yet:
	// contexts pair only with targets at or after it.
	NewFrom int64
	// Phase selects the contexts (t % Every == Phase).
	Phase int
	// Compact marks a window that holds only its contexts (it may hold
	// none): Patches the input window of each context (one row of
	// Kernel*Cin values each), Rows32 their rows in the full window. A
	// night replays negatives from it; see CaptureContexts.
	Compact bool
	Patches []float32
	Rows32  []int32
}

// ConvStream is a layer's state for one stream.
type ConvStream struct {
	in             []float32 // padded input rows from padded row inBase
	inBase         int64
	started, ended bool
	nOut           int64
	win            ConvWindow // rows [win.First, nOut), A and Z set
}

// NewStream returns the state of a new stream whose contexts use the
// given phase (0 <= phase < Every).
func (l *ConvLayer) NewStream(phase int) *ConvStream {
	if phase < 0 || phase >= l.Every {
		panic(fmt.Sprintf("model: context phase %d outside [0, %d)", phase, l.Every))
	}
	return &ConvStream{win: ConvWindow{Phase: phase}}
}

// Frames returns the number of output frames produced so far.
func (s *ConvStream) Frames() int64 { return s.nOut }

// Ended reports whether the stream's end was seen.
func (s *ConvStream) Ended() bool { return s.ended }

// Window returns the stream's current learning window (aliases the
// stream's buffers, valid until the next Forward).
func (s *ConvStream) Window() *ConvWindow { return &s.win }

// Forward feeds rows input frames (rows x Cin) of the stream; end marks
// the stream's last block. It returns the new output frames (aliasing the
// stream's window: copy them before the next Forward). The learning window
// then spans the new frames and the K before them, whose contexts pair with
// the new targets.
func (l *ConvLayer) Forward(s *ConvStream, x []float32, rows int, end bool) []float32 {
	c := l.Conv
	if s.ended {
		panic("model: Forward after the end of the stream")
	}
	if len(x) < rows*c.Cin {
		panic(fmt.Sprintf("model: Forward: %d values for %d rows of %d", len(x), rows, c.Cin))
	}
	K := int64(l.Head.K)
	// Drop what no future pair needs: frames before nOut-K and their input.
	w0 := max(0, s.nOut-K)
	if drop := int(w0 - s.win.First); drop > 0 {
		C := c.Cout
		n := s.win.Rows - drop
		copy(s.win.A, s.win.A[drop*C:(drop+n)*C])
		copy(s.win.Z, s.win.Z[drop*C:(drop+n)*C])
		s.win.A, s.win.Z = s.win.A[:n*C], s.win.Z[:n*C]
		s.win.Rows, s.win.First = n, w0
	}
	if dropIn := int(w0*int64(c.Stride) - s.inBase); dropIn > 0 {
		keep := len(s.in) - dropIn*c.Cin
		copy(s.in, s.in[dropIn*c.Cin:])
		s.in = s.in[:keep]
		s.inBase += int64(dropIn)
	}
	if !s.started {
		s.in = appendZeros(s.in, c.Padding*c.Cin)
		s.started = true
	}
	at := len(s.in)
	s.in = appendPooled(s.in, x[:rows*c.Cin]...)
	if l.Norm != nil {
		m, sd := l.Norm[0], l.Norm[1]
		for i := at; i < len(s.in); i++ {
			s.in[i] = (s.in[i] - m) / sd
		}
	}
	if end {
		s.in = appendZeros(s.in, c.Padding*c.Cin)
		s.ended = true
	}
	avail := s.inBase + int64(len(s.in)/c.Cin)
	nmax := int64(c.PaddedOutLen(int(avail)))
	n := int(nmax - s.nOut)
	s.win.NewFrom = s.nOut
	if n <= 0 {
		s.win.XP = s.in[int(s.win.First*int64(c.Stride)-s.inBase)*c.Cin:]
		return nil
	}
	C := c.Cout
	off := int(s.nOut*int64(c.Stride)-s.inBase) * c.Cin
	old := s.win.Rows * C
	s.win.A = extendPooled(s.win.A, old+n*C)
	s.win.Z = extendPooled(s.win.Z, old+n*C)
	c.Forward(s.in[off:], n, s.win.A[old:])
	ReLU(s.win.A[old:], s.win.Z[old:])
	s.win.Rows += n
	s.nOut = nmax
	s.win.XP = s.in[int(s.win.First*int64(c.Stride)-s.inBase)*c.Cin:]
	return s.win.Z[old:]
}

// Release gives the buffers of a stream that is done with (ended, its
// window learned from and no longer used as a partner) to the next
// streams. s and every window and frame slice it returned must not be used
// afterwards.
func (l *ConvLayer) Release(s *ConvStream) {
	recycle(s.in)
	recycle(s.win.A)
	recycle(s.win.Z)
	*s = ConvStream{}
}

// Capture copies the input of the stream's learning window: a record from
// which the window's frames can be recomputed later with other weights.
func (l *ConvLayer) Capture(w *ConvWindow) *ConvWindow {
	if w.Compact { // copy it as it is
		return &ConvWindow{Rows: w.Rows, First: w.First, NewFrom: w.NewFrom, Phase: w.Phase, Compact: true,
			Patches: append([]float32(nil), w.Patches...), Rows32: append([]int32(nil), w.Rows32...)}
	}
	c := l.Conv
	span := ((w.Rows-1)*c.Stride + c.Kernel) * c.Cin
	if w.Rows == 0 {
		span = 0
	}
	return &ConvWindow{XP: append([]float32(nil), w.XP[:span]...), Rows: w.Rows, First: w.First, NewFrom: w.NewFrom, Phase: w.Phase}
}

// CompactContexts reports whether a window's contexts are sparse enough
// for CaptureContexts to pay: their input windows do not overlap.
func (l *ConvLayer) CompactContexts() bool {
	return l.Every > 1 && l.Every*l.Conv.Stride >= l.Conv.Kernel
}

// CaptureContexts copies only what the negatives of window w need on its
// own side: the input windows of its contexts (the night recomputes their
// frames, scores them against a partner's frames and back-propagates
// through them alone). For the paper's second layer, contexts every 8
// frames, that is a quarter of the window's input, and an eighth of its
// convolution.
func (l *ConvLayer) CaptureContexts(w *ConvWindow) *ConvWindow {
	c := l.Conv
	kc := c.Kernel * c.Cin
	out := &ConvWindow{Rows: w.Rows, First: w.First, NewFrom: w.NewFrom, Phase: w.Phase, Compact: true}
	last := w.First + int64(w.Rows)
	first := w.First + int64(((w.Phase-int(w.First%int64(l.Every)))+l.Every)%l.Every)
	for t := first; t < last-1; t += int64(l.Every) {
		if t+int64(l.Head.K) < w.NewFrom {
			continue
		}
		r := int(t - w.First)
		out.Rows32 = append(out.Rows32, int32(r))
		out.Patches = append(out.Patches, w.XP[r*c.Stride*c.Cin:r*c.Stride*c.Cin+kc]...)
	}
	return out
}

// ReplayNegatives scores the contexts of a compact window (CaptureContexts)
// against the frames of partner, both recomputed with the layer's current
// weights, and accumulates the negative terms' gradient into g. It is
// Learn's negative half, for the contexts alone.
func (l *ConvLayer) ReplayNegatives(w, partner *ConvWindow, g Grads, sc *LearnScratch) Terms {
	c, h := l.Conv, l.Head
	C, K, kc := c.Cout, h.K, c.Kernel*c.Cin
	n := len(w.Rows32)
	if n == 0 || partner.Rows == 0 {
		return Terms{}
	}
	l.Recompute(partner)
	// The contexts' frames from their input windows.
	sc.ctx = grow(sc.ctx, n*C)
	a := make([]float32, n*C)
	for i := 0; i < n; i++ {
		copy(a[i*C:(i+1)*C], c.B)
	}
	gemm(false, true, n, C, kc, 1, w.Patches, kc, c.W, kc, 1, a, C)
	ReLU(a, sc.ctx)
	sc.neg = sc.neg[:0]
	last := w.First + int64(w.Rows)
	for i, r := range w.Rows32 {
		t := w.First + int64(r)
		for k := 1; k <= K; k++ {
			tt := t + int64(k)
			if tt < w.NewFrom || tt >= last {
				continue
			}
			sc.neg = append(sc.neg, Pair{C: int32(i), Z: (r + int32(k)) % int32(partner.Rows), K: int32(k)})
		}
	}
	sc.weights = grow(sc.weights, K)
	for k := range sc.weights {
		sc.weights[k] = 1 / float32(K)
	}
	h.Score(sc.ctx[:n*C], n, &sc.sc)
	sc.dzn = growZero(sc.dzn, partner.Rows*C)
	terms := sc.sc.Hinge(partner.Z, sc.neg, Negative, sc.weights, sc.dzn)
	sc.dctx = growZero(sc.dctx, n*C)
	var dWc []float32
	if h.Split() {
		dWc = g[3]
	}
	sc.sc.Backward(sc.dctx, g[2], dWc)
	ReLUGrad(a, sc.dctx[:n*C])
	gemm(true, false, C, kc, n, 1, sc.dctx, C, w.Patches, kc, 1, g[0], kc)
	colsum(sc.dctx, n, C, g[1])
	l.Backprop(partner, sc.dzn, g)
	partner.A, partner.Z = nil, nil
	return terms
}

// Recompute fills w.A and w.Z from w.XP with the layer's current weights.
func (l *ConvLayer) Recompute(w *ConvWindow) {
	C := l.Conv.Cout
	w.A = grow(w.A, w.Rows*C)
	w.Z = grow(w.Z, w.Rows*C)
	l.Conv.Forward(w.XP, w.Rows, w.A)
	ReLU(w.A, w.Z)
}

// Bytes returns the memory a captured window holds.
func (w *ConvWindow) Bytes() int {
	return 4*(cap(w.XP)+cap(w.A)+cap(w.Z)+cap(w.Patches)) + 4*cap(w.Rows32)
}

// Learning selects the terms a Learn call scores.
type Learning struct {
	// Positive scores each context against its own future.
	Positive bool
	// Negative, when set, scores each context against the frames of
	// another window at the same relative positions (another stream, or
	// another time of the same stream).
	Negative *ConvWindow
	// Coin, when set, picks for every context either its positive or its
	// negative terms with equal probability (the paper's CLAPP, as
	// opposed to CLAPP-s which applies both).
	Coin *rand.Rand
	// Weight is the weight of every pair; 0 means 1/K.
	Weight float32
	// DZ and NegDZ, when not nil, receive (are added) the gradients that
	// reach the frames of the window and of the negative window (Rows x
	// Cout each), which Learn then does not back-propagate: the caller
	// calls Backprop once a window has gathered all of its gradient, one
	// weight gradient per window rather than one per use.
	DZ, NegDZ []float32
}

// window is what pairing needs of a learning window: its first frame, its
// rows, the first frame whose targets are new, and its context phase.
type window struct {
	first   int64
	rows    int
	newFrom int64
	phase   int
}

// pairs lists the contexts of w (frames t with t % every == phase that
// have at least one new target among the next K) into sc.rows, and their
// positive pairs (targets in w) and negative pairs (the frames at the same
// positions of a window of negRows frames; none when negRows is 0) into
// sc.pos and sc.neg. With coin set each context gets either its positive
// or its negative pairs, with equal probability.
func (sc *LearnScratch) pairs(w window, every, K int, positive bool, negRows int, coin *rand.Rand) {
	sc.rows = sc.rows[:0]
	sc.pos, sc.neg = sc.pos[:0], sc.neg[:0]
	last := w.first + int64(w.rows)
	first := w.first + int64(((w.phase-int(w.first%int64(every)))+every)%every)
	for t := first; t < last-1; t += int64(every) {
		if t+int64(K) < w.newFrom {
			continue
		}
		usePos, useNeg := positive, negRows > 0
		if coin != nil && usePos && useNeg {
			if coin.IntN(2) == 0 {
				useNeg = false
			} else {
				usePos = false
			}
		}
		if !usePos && !useNeg {
			continue
		}
		ci := int32(len(sc.rows))
		r := int32(t - w.first)
		sc.rows = append(sc.rows, r)
		for k := 1; k <= K; k++ {
			tt := t + int64(k)
			if tt < w.newFrom || tt >= last {
				continue
			}
			if usePos {
				sc.pos = append(sc.pos, Pair{C: ci, Z: r + int32(k), K: int32(k)})
			}
			if useNeg {
				sc.neg = append(sc.neg, Pair{C: ci, Z: (r + int32(k)) % int32(negRows), K: int32(k)})
			}
		}
	}
}

// LearnScratch holds buffers reused across Learn calls.
type LearnScratch struct {
	sc        Scorer
	ctx, dctx []float32
	dz, dzn   []float32
	rows      []int32
	pos, neg  []Pair
	weights   []float32
}

// Learn accumulates into g (shaped like Params) the gradient of the chosen
// hinge terms of window w: the contexts of w paired with the targets of w
// at or after w.NewFrom (positives) and with the frames of lr.Negative at
// the same positions (negatives). w.A and w.Z must be current. The
// gradient of a negative reaches the layer through the negative window's
// frames too (symmetric and split rules alike: the target half).
func (l *ConvLayer) Learn(w *ConvWindow, lr Learning, g Grads, sc *LearnScratch) (pos, neg Terms) {
	c, h := l.Conv, l.Head
	C, K := c.Cout, h.K
	negw := lr.Negative
	negRows := 0
	if negw != nil {
		negRows = negw.Rows
	}
	sc.pairs(window{first: w.First, rows: w.Rows, newFrom: w.NewFrom, phase: w.Phase}, l.Every, K, lr.Positive, negRows, lr.Coin)
	n := len(sc.rows)
	if n == 0 {
		return
	}
	sc.ctx = grow(sc.ctx, n*C)
	for i, r := range sc.rows {
		copy(sc.ctx[i*C:(i+1)*C], w.Z[int(r)*C:int(r+1)*C])
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
	dz := lr.DZ
	if dz == nil {
		sc.dz = growZero(sc.dz, w.Rows*C)
		dz = sc.dz
	}
	if len(sc.pos) > 0 {
		pos = sc.sc.Hinge(w.Z, sc.pos, Positive, sc.weights, dz)
	}
	dzn := lr.NegDZ
	if len(sc.neg) > 0 {
		if dzn == nil {
			sc.dzn = growZero(sc.dzn, negw.Rows*C)
			dzn = sc.dzn
		}
		neg = sc.sc.Hinge(negw.Z, sc.neg, Negative, sc.weights, dzn)
	}
	sc.dctx = growZero(sc.dctx, n*C)
	var dWc []float32
	if h.Split() {
		dWc = g[3]
	}
	sc.sc.Backward(sc.dctx, g[2], dWc)
	for i, r := range sc.rows {
		axpy(1, sc.dctx[i*C:(i+1)*C], dz[int(r)*C:int(r+1)*C])
	}
	if lr.DZ == nil {
		l.Backprop(w, dz, g)
	}
	if len(sc.neg) > 0 && lr.NegDZ == nil {
		l.Backprop(negw, dzn, g)
	}
	return
}

// Backprop turns the gradient dz reaching the frames of window w (Rows x
// Cout, overwritten) into the gradient of the convolution's weights. w's
// pre-activations must be those its frames were scored with.
func (l *ConvLayer) Backprop(w *ConvWindow, dz []float32, g Grads) {
	ReLUGrad(w.A, dz[:w.Rows*l.Conv.Cout])
	l.Conv.WeightGrad(w.XP, w.Rows, dz, g[0], g[1])
}
