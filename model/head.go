package model

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Head is the prediction part of a CLAPP layer: one matrix W_k per
// prediction step k = 1..K, scoring the context c[t] against the target
// z[t+k] as u = z[t+k] . (W_k c[t]).
//
// With the split, weight-transport-free rule (the paper's Appendix C,
// Eq. 10) the head has a second stack Wc: the target half scores with W
// and teaches the layer through its targets only, the context half scores
// with Wc and teaches it through its contexts only, each half gated by its
// own score and weighted 1/2.
type Head struct {
	K, Cz, Cc int
	// W is pred.weight, K x Cz x Cc.
	W []float32
	// Wc is pred_c.weight (same orientation as W), nil for the symmetric rule.
	Wc []float32
}

// NewHead returns a head initialised as PyTorch's bias-free nn.Linear from
// Cc to Cz for every step: uniform in +-1/sqrt(Cc).
func NewHead(k, cz, cc int, split bool, rng *rand.Rand) *Head {
	if k <= 0 || cz <= 0 || cc <= 0 {
		panic(fmt.Sprintf("model: bad Head geometry K=%d Cz=%d Cc=%d", k, cz, cc))
	}
	h := &Head{K: k, Cz: cz, Cc: cc, W: make([]float32, k*cz*cc)}
	bound := 1 / math.Sqrt(float64(cc))
	uniform(rng, h.W, bound)
	if split {
		h.Wc = make([]float32, k*cz*cc)
		uniform(rng, h.Wc, bound)
	}
	return h
}

// Split reports whether the head uses the weight-transport-free rule.
func (h *Head) Split() bool { return h.Wc != nil }

// Params returns pred.weight (and pred_c.weight) under prefix.
func (h *Head) Params(prefix string) []*Param {
	ps := []*Param{{Name: prefix + "pred.weight", Shape: []int{h.K, h.Cz, h.Cc}, Data: h.W}}
	if h.Wc != nil {
		ps = append(ps, &Param{Name: prefix + "pred_c.weight", Shape: []int{h.K, h.Cz, h.Cc}, Data: h.Wc})
	}
	return ps
}

// Pair names one scored (context, target) pair: rows of the context and
// target matrices and the prediction step, 1..K.
type Pair struct {
	C, Z int32
	K    int32
}

// Kind is the sign of a hinge term.
type Kind int

const (
	// Positive terms relu(1 - u) pull the score of a true future up.
	Positive Kind = iota
	// Negative terms relu(1 + u) push the score of another sequence down.
	Negative
)

func (k Kind) String() string {
	if k == Positive {
		return "positive"
	}
	return "negative"
}

// Terms summarises a set of hinge terms.
type Terms struct {
	// Loss is the weighted sum of the hinges.
	Loss float64
	// Active counts the pairs whose hinge is active (the gate is open),
	// Pairs all the pairs scored. For the split rule both halves count
	// half a pair each.
	Active, Pairs float64
}

// Add accumulates o into t.
func (t *Terms) Add(o Terms) {
	t.Loss += o.Loss
	t.Active += o.Active
	t.Pairs += o.Pairs
}

// ActiveFraction returns Active/Pairs, or 0 with no pairs.
func (t Terms) ActiveFraction() float64 {
	if t.Pairs == 0 {
		return 0
	}
	return t.Active / t.Pairs
}

// Scorer holds the predictions W_k c for a set of contexts under the head's
// weights at the time Score was called, and accumulates the gradient of
// the hinge terms scored against them. One Scorer serves the positive and
// the negative terms of the same contexts; Backward turns what was
// accumulated into gradients of the contexts and of the head.
type Scorer struct {
	h     *Head
	c     []float32
	n     int
	pred  []float32 // n x K*Cz: W_k c
	predc []float32 // split: Wc_k c
	dpred []float32 // dL/d(W_k c)
	dpc   []float32 // dL/d(Wc_k c)
}

// Score prepares s for the n contexts in c (n x Cc), which must not change
// until Backward. s's buffers are reused.
func (h *Head) Score(c []float32, n int, s *Scorer) {
	if len(c) < n*h.Cc {
		panic(fmt.Sprintf("model: Score: %d context values for %d x %d", len(c), n, h.Cc))
	}
	kz := h.K * h.Cz
	s.h, s.c, s.n = h, c, n
	s.pred = grow(s.pred, n*kz)
	gemm(false, true, n, kz, h.Cc, 1, c, h.Cc, h.W, h.Cc, 0, s.pred, kz)
	s.dpred = growZero(s.dpred, n*kz)
	if h.Wc != nil {
		s.predc = grow(s.predc, n*kz)
		gemm(false, true, n, kz, h.Cc, 1, c, h.Cc, h.Wc, h.Cc, 0, s.predc, kz)
		s.dpc = growZero(s.dpc, n*kz)
	}
}

// Hinge scores pairs of the contexts against rows of the targets z
// (rows x Cz) and accumulates the gradient of
//
//	sum over pairs of weight[k-1] * hinge(u)
//
// where hinge is relu(1-u) for positives and relu(1+u) for negatives. The
// gradient reaching the targets is added to dz (same shape as z) unless dz
// is nil, which treats the targets as constants. Only pairs with an active
// hinge contribute: the gate is the third factor of the rule.
func (s *Scorer) Hinge(z []float32, pairs []Pair, kind Kind, weight []float32, dz []float32) Terms {
	h := s.h
	if len(weight) < h.K {
		panic(fmt.Sprintf("model: Hinge: %d weights for K=%d", len(weight), h.K))
	}
	sign := float32(-1) // dL/du of an active positive hinge
	if kind == Negative {
		sign = 1
	}
	var t Terms
	cz, kz := h.Cz, h.K*h.Cz
	half := float32(1)
	if h.Wc != nil {
		half = 0.5
	}
	for _, p := range pairs {
		if p.K < 1 || int(p.K) > h.K || int(p.C) >= s.n {
			panic(fmt.Sprintf("model: Hinge: bad pair %+v for K=%d and %d contexts", p, h.K, s.n))
		}
		k := int(p.K) - 1
		w := weight[k]
		zr := z[int(p.Z)*cz : int(p.Z)*cz+cz]
		off := int(p.C)*kz + k*cz
		pr := s.pred[off : off+cz]
		u := dot(zr, pr)
		if hl := 1 + sign*u; hl > 0 {
			// Symmetric: the gradient flows into the context (through
			// dpred, later times W) and into the target. Split: this is
			// the target half, which reaches the layer through z only.
			g := sign * w * half
			t.Loss += float64(w*half) * float64(hl)
			t.Active += float64(half)
			axpy(g, zr, s.dpred[off:off+cz])
			if dz != nil {
				axpy(g, pr, dz[int(p.Z)*cz:int(p.Z)*cz+cz])
			}
		}
		t.Pairs += float64(half)
		if h.Wc == nil {
			continue
		}
		pc := s.predc[off : off+cz]
		uc := dot(zr, pc)
		if hl := 1 + sign*uc; hl > 0 {
			// Context half: the target is blocked, Wc and the context learn.
			g := sign * w * half
			t.Loss += float64(w*half) * float64(hl)
			t.Active += float64(half)
			axpy(g, zr, s.dpc[off:off+cz])
		}
		t.Pairs += float64(half)
	}
	return t
}

// Backward adds the accumulated gradient to the contexts (dc, n x Cc,
// skipped when nil) and to the head's weights (dW, and dWc for the split
// rule; dW may be nil to leave the head's gradient out).
func (s *Scorer) Backward(dc []float32, dW, dWc []float32) {
	h := s.h
	kz := h.K * h.Cz
	if h.Wc == nil {
		if dc != nil {
			gemm(false, false, s.n, h.Cc, kz, 1, s.dpred, kz, h.W, h.Cc, 1, dc, h.Cc)
		}
		if dW != nil {
			gemm(true, false, kz, h.Cc, s.n, 1, s.dpred, kz, s.c, h.Cc, 1, dW, h.Cc)
		}
		return
	}
	if dc != nil {
		gemm(false, false, s.n, h.Cc, kz, 1, s.dpc, kz, h.Wc, h.Cc, 1, dc, h.Cc)
	}
	if dW != nil {
		gemm(true, false, kz, h.Cc, s.n, 1, s.dpred, kz, s.c, h.Cc, 1, dW, h.Cc)
	}
	if dWc != nil {
		gemm(true, false, kz, h.Cc, s.n, 1, s.dpc, kz, s.c, h.Cc, 1, dWc, h.Cc)
	}
}
