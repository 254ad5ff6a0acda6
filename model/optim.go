package model

import (
	"errors"
	"fmt"
	"math"
)

// ErrNonFinite reports an update refused because it would make a weight
// NaN or infinite. Nothing was applied.
var ErrNonFinite = errors.New("model: update would make a weight NaN or Inf")

// Optimizer applies gradients to a fixed set of parameters in cycles.
//
// Learning in clapp is split in time: positive terms are applied by day as
// they arrive, negative terms by night, or both at once (CLAPP-s). One
// optimiser state serves all of them the same way: every gradient is
// applied through Apply as soon as it is computed, and EndCycle closes a
// cycle (one block in the synchronous and alternating modes, a day and its
// night otherwise). Apply is additive within a cycle: applying a positive
// part and then a negative part moves the weights exactly as applying
// their sum, so the modes differ only in when terms are applied.
type Optimizer interface {
	// Apply applies gradient g (shaped like the parameters) now. A g that
	// would make any weight NaN or Inf is refused with ErrNonFinite.
	Apply(g Grads) error
	// EndCycle closes the current cycle.
	EndCycle() error
	// State returns the optimiser's tensors (named after the parameters)
	// and counters, for checkpoints; SetState restores them.
	State() OptimState
	SetState(OptimState) error
}

// OptimState is the serialisable state of an optimiser.
type OptimState struct {
	Kind string `json:"kind"`
	// Cycles is the number of cycles closed.
	Cycles int64 `json:"cycles"`
	// Tensors maps "<param>.m", "<param>.v", "<param>.g" to values in the
	// parameter's own memory layout.
	Tensors map[string][]float32 `json:"-"`
}

// SGD is plain stochastic gradient descent: theta -= LR * g.
type SGD struct {
	LR     float64
	params []*Param
	cycles int64
	delta  Grads
}

// NewSGD returns SGD over params.
func NewSGD(params []*Param, lr float64) *SGD {
	return &SGD{LR: lr, params: params, delta: NewGrads(params)}
}

func (o *SGD) Apply(g Grads) error {
	lr := float32(o.LR)
	for i, p := range o.params {
		d := o.delta[i]
		for j, v := range g[i] {
			d[j] = p.Data[j] - lr*v
		}
		if !finite(d) {
			return fmt.Errorf("%w (%s)", ErrNonFinite, p.Name)
		}
	}
	for i, p := range o.params {
		copy(p.Data, o.delta[i])
	}
	return nil
}

func (o *SGD) EndCycle() error { o.cycles++; return nil }

func (o *SGD) State() OptimState {
	return OptimState{Kind: "sgd", Cycles: o.cycles, Tensors: map[string][]float32{}}
}

func (o *SGD) SetState(s OptimState) error {
	if s.Kind != "sgd" {
		return fmt.Errorf("model: optimiser state is %q, not sgd", s.Kind)
	}
	o.cycles = s.Cycles
	return nil
}

// Adam is Adam (Kingma and Ba) made additive within a cycle. The step of a
// cycle is Adam's step on the cycle's summed gradient g, except that, once
// warmed up, its second moment is the one of the cycles before (lagged by
// one cycle):
//
//	theta -= lr/(1-b1^t) * (b1*m + (1-b1)*g) / (sqrt(v/(1-b2^(t-1))) + floor + eps)
//
// The momentum part is applied when the cycle opens, the gradient part as
// each piece of g arrives, and m and v take g when the cycle closes.
//
// A lagged moment is only as good as its estimate, so:
//   - for the first Warmup cycles, and for a weight whose second moment is
//     still zero, the gradient is held and stepped as plain Adam when the
//     cycle closes (plain Adam bounds a step by the current gradient; a
//     lagged moment of one or two samples does not);
//   - the floor, a hundredth of the tensor's mean sqrt(v), keeps a weight
//     whose gradient was tiny so far from a huge step on a sudden large one;
//   - a piece that would still move a weight by more than Clip*lr is
//     clipped there and counted (Clipped): a safety net, never reached by
//     gradients of ordinary size, where additivity is given up.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	params                []*Param
	m, v, acc             Grads
	t                     int64 // cycles closed
	scratch               Grads
	// den is the preconditioner's denominator for the open cycle, 0 for
	// weights that wait for the close.
	den Grads
	// Warmup is the number of cycles stepped as plain Adam (100).
	Warmup int64
	// Clip bounds one applied piece, in units of LR (10).
	Clip float32
	// Clipped counts the weights clipped so far.
	Clipped int64
}

// FloorFraction is the fraction of a tensor's mean sqrt(v) below which no
// weight's denominator may fall.
const FloorFraction = 1e-2

// NewAdam returns Adam over params with the usual betas (0.9, 0.999) and
// eps 1e-8; the paper's lr is 2e-4.
func NewAdam(params []*Param, lr float64) *Adam {
	o := &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, params: params,
		m: NewGrads(params), v: NewGrads(params), acc: NewGrads(params),
		scratch: NewGrads(params), den: NewGrads(params), Warmup: 100, Clip: 10}
	o.open()
	return o
}

// open prepares the cycle t+1: its denominators, then its momentum part.
func (o *Adam) open() error {
	if o.t < o.Warmup {
		for _, den := range o.den {
			zero(den)
		}
		return nil
	}
	t := float64(o.t + 1)
	vCorr := 1 - math.Pow(o.Beta2, t-1)
	lrT := o.LR / (1 - math.Pow(o.Beta1, t))
	iv := float32(1 / vCorr)
	scale := float32(-lrT * o.Beta1)
	limit := o.Clip * float32(o.LR)
	var clipped int64
	for i, p := range o.params {
		v, den, m, w := o.v[i], o.den[i], o.m[i], p.Data
		mean := 0.0
		for _, x := range v {
			mean += float64(sqrt32(x * iv))
		}
		if len(v) > 0 {
			mean /= float64(len(v))
		}
		floor := float32(FloorFraction*mean + o.Eps)
		for j, x := range v {
			if x == 0 {
				den[j] = 0
				continue
			}
			d := sqrt32(x*iv) + floor
			den[j] = d
			s := scale * m[j] / d
			if s > limit {
				s, clipped = limit, clipped+1
			} else if s < -limit {
				s, clipped = -limit, clipped+1
			}
			w[j] += s
		}
	}
	o.Clipped += clipped
	return nil
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// step adds scale*x/den to the weights (weights with den 0 wait for the
// close). Every piece is clipped to Clip*lr, so finite x keeps the
// weights finite and the update can be made in place.
func (o *Adam) step(x Grads, scale float32) {
	limit := o.Clip * float32(o.LR)
	var clipped int64
	for i, p := range o.params {
		den, w := o.den[i], p.Data
		for j, xv := range x[i] {
			d := den[j]
			if d == 0 {
				continue
			}
			s := scale * xv / d
			if s > limit {
				s, clipped = limit, clipped+1
			} else if s < -limit {
				s, clipped = -limit, clipped+1
			}
			w[j] += s
		}
	}
	o.Clipped += clipped
}

// Apply applies the gradient part of the open cycle's step for g. A g
// with a NaN or Inf is refused whole with ErrNonFinite.
func (o *Adam) Apply(g Grads) error {
	if !g.Finite() {
		return fmt.Errorf("%w (gradient)", ErrNonFinite)
	}
	if o.t >= o.Warmup {
		lrT := o.LR / (1 - math.Pow(o.Beta1, float64(o.t+1)))
		o.step(g, float32(-lrT*(1-o.Beta1)))
	}
	o.acc.Add(1, g)
	return nil
}

// EndCycle closes the cycle: moments take the cycle's gradient, weights
// that waited take their plain Adam step, and the next cycle opens with
// its momentum part. The gradient gathered by Apply is finite, so these
// steps are made in place.
func (o *Adam) EndCycle() error {
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	o.t++
	t := float64(o.t)
	lrT := float32(o.LR / (1 - math.Pow(o.Beta1, t)))
	iv := float32(1 / (1 - math.Pow(o.Beta2, t)))
	eps := float32(o.Eps)
	for i, p := range o.params {
		m, v, g, den, w := o.m[i], o.v[i], o.acc[i], o.den[i], p.Data
		for j, gv := range g {
			mj := b1*m[j] + (1-b1)*gv
			vj := b2*v[j] + (1-b2)*gv*gv
			m[j], v[j], g[j] = mj, vj, 0
			if den[j] == 0 && vj != 0 {
				w[j] -= lrT * mj / (sqrt32(vj*iv) + eps)
			}
		}
	}
	return o.open()
}

// State returns m, v and the open cycle's accumulated gradient.
func (o *Adam) State() OptimState {
	s := OptimState{Kind: "adam", Cycles: o.t, Tensors: map[string][]float32{}}
	for i, p := range o.params {
		s.Tensors[p.Name+".m"] = o.m[i]
		s.Tensors[p.Name+".v"] = o.v[i]
		s.Tensors[p.Name+".g"] = o.acc[i]
	}
	return s
}

// SetState restores a state taken by State, in the middle of a cycle too:
// the weights restored with it already carry the open cycle's momentum
// part, so it is not applied again.
func (o *Adam) SetState(s OptimState) error {
	if s.Kind != "adam" {
		return fmt.Errorf("model: optimiser state is %q, not adam", s.Kind)
	}
	for i, p := range o.params {
		for _, suffix := range []string{".m", ".v", ".g"} {
			dst := map[string][]float32{".m": o.m[i], ".v": o.v[i], ".g": o.acc[i]}[suffix]
			src, ok := s.Tensors[p.Name+suffix]
			if !ok {
				return fmt.Errorf("model: optimiser state has no %s%s", p.Name, suffix)
			}
			if len(src) != len(dst) {
				return fmt.Errorf("model: optimiser state %s%s has %d values, want %d", p.Name, suffix, len(src), len(dst))
			}
			copy(dst, src)
		}
	}
	o.t = s.Cycles
	// Recompute the open cycle's denominators without its momentum step.
	saved := o.m
	o.m = NewGrads(o.params)
	err := o.open()
	o.m = saved
	return err
}
