package model

import (
	"fmt"
	"math/rand/v2"
)

// LossKind selects the contrastive loss of a module.
type LossKind int

const (
	// Hinge is the CLAPP / hinge-CPC loss: relu(1-u_pos) + relu(1+u_neg),
	// one negative per positive from another sequence at the same position.
	Hinge LossKind = iota
	// InfoNCE is the CPC / Greedy InfoMax loss with Negatives negatives
	// drawn uniformly over all frames of all sequences of the batch.
	InfoNCE
)

// Module is a stack of consecutive layers trained as one: the loss sits at
// its top, and gradients are back-propagated through its layers but never
// below it. Six one-layer modules are layer-wise training (Greedy InfoMax
// or CLAPP); one module of all six layers is end-to-end CPC or hinge-CPC;
// the splits in between are the paper's Table 5. Modules learn on batches
// of windows, as Greedy InfoMax does, not on streams.
type Module struct {
	Convs []*Conv1d
	// GRU tops the module when not nil; its targets are then the output of
	// the module's last convolution, or the module's input if it has none.
	GRU  *GRU
	Head *Head
	Loss LossKind
	// Negatives is the number of InfoNCE negatives per positive (GIM: 10).
	Negatives int
	// Every subsamples the contexts of the top layer.
	Every int
	// Norm normalises the input when the module starts at the first layer.
	Norm *[2]float32
	// First is the 0-based index of the module's first layer, for names.
	First int
}

// Params returns the parameters of every layer of the module and of its
// head, in order.
func (m *Module) Params() []*Param {
	var ps []*Param
	for i, c := range m.Convs {
		ps = append(ps, c.Params(fmt.Sprintf("layers.%d.conv.", m.First+i))...)
	}
	top := m.First + len(m.Convs) - 1
	if m.GRU != nil {
		top++
		ps = append(ps, m.GRU.Params(fmt.Sprintf("layers.%d.gru.", top))...)
	}
	return append(ps, m.Head.Params(fmt.Sprintf("layers.%d.", top))...)
}

// InWidth returns the number of channels of the module's input.
func (m *Module) InWidth() int {
	if len(m.Convs) > 0 {
		return m.Convs[0].Cin
	}
	return m.GRU.Cin
}

// OutLen returns the number of frames the module makes of tin input frames.
func (m *Module) OutLen(tin int) int {
	for _, c := range m.Convs {
		tin = c.OutLen(tin)
	}
	return tin
}

// ModuleTerms selects the terms of a module's step.
type ModuleTerms struct {
	Positive, Negative bool
	// Coin applies either the positive or the negative terms of each
	// context (the paper's CLAPP); hinge only.
	Coin bool
}

// Learn runs the windows xs (each tin x InWidth) forward, scores the loss at
// the top with the pair weights of the paper (mean over the pairs of each
// step, mean over steps), back-propagates through the module and
// accumulates the gradient into g (shaped like Params). It returns the
// terms and the module's outputs (one tout x width matrix per window), the
// input of the next module.
func (m *Module) Learn(xs [][]float32, tin int, which ModuleTerms, rng *rand.Rand, g Grads) (pos, neg Terms, outs [][]float32) {
	B := len(xs)
	if B == 0 {
		return
	}
	type convTape struct{ xp, a, z []float32 }
	tapes := make([][]convTape, B)
	tops := make([][]float32, B) // targets per window
	var T int
	for b, x := range xs {
		cur, n := x, tin
		if m.Norm != nil {
			nx := make([]float32, len(x[:tin*m.InWidth()]))
			for i := range nx {
				nx[i] = (x[i] - m.Norm[0]) / m.Norm[1]
			}
			cur = nx
		}
		for _, c := range m.Convs {
			xp := c.Pad(cur, n, nil)
			t := c.OutLen(n)
			a := make([]float32, t*c.Cout)
			z := make([]float32, t*c.Cout)
			c.Forward(xp, t, a)
			ReLU(a, z)
			tapes[b] = append(tapes[b], convTape{xp, a, z})
			cur, n = z, t
		}
		tops[b], T = cur, n
	}
	// Contexts: the top layer's outputs.
	cz := m.Head.Cz
	var grus []GRUTape
	ctxOf := tops
	if m.GRU != nil {
		grus = make([]GRUTape, B)
		ctxOf = make([][]float32, B)
		for b := range xs {
			m.GRU.Forward(tops[b], T, nil, &grus[b])
			ctxOf[b] = grus[b].Hs
		}
	}
	cc := m.Head.Cc
	K := m.Head.K
	every := max(m.Every, 1)
	// Targets of all windows stacked, contexts gathered.
	Z := make([]float32, B*T*cz)
	for b := range xs {
		copy(Z[b*T*cz:], tops[b][:T*cz])
	}
	var rows []int32 // context -> b*T+t
	var ps, ns []Pair
	var negRows []int32
	counts := make([]int, K)
	for b := 0; b < B; b++ {
		phase := 0
		if every > 1 {
			phase = rng.IntN(every)
		}
		for t := phase; t < T-1; t += every {
			usePos, useNeg := which.Positive, which.Negative
			if which.Coin && usePos && useNeg {
				if rng.IntN(2) == 0 {
					useNeg = false
				} else {
					usePos = false
				}
			}
			ci := int32(len(rows))
			rows = append(rows, int32(b*T+t))
			for k := 1; k <= K && t+k < T; k++ {
				counts[k-1]++
				if m.Loss == InfoNCE {
					ps = append(ps, Pair{C: ci, Z: int32(b*T + t + k), K: int32(k)})
					for j := 0; j < m.Negatives; j++ {
						negRows = append(negRows, int32(rng.IntN(B*T)))
					}
					continue
				}
				if usePos {
					ps = append(ps, Pair{C: ci, Z: int32(b*T + t + k), K: int32(k)})
				}
				if useNeg {
					nb := rng.IntN(B)
					ns = append(ns, Pair{C: ci, Z: int32(nb*T + t + k), K: int32(k)})
				}
			}
		}
	}
	weights := make([]float32, K)
	for k, c := range counts {
		if c > 0 {
			weights[k] = 1 / float32(K*c)
		}
	}
	C := make([]float32, len(rows)*cc)
	for i, r := range rows {
		b, t := int(r)/T, int(r)%T
		copy(C[i*cc:(i+1)*cc], ctxOf[b][t*cc:(t+1)*cc])
	}
	var dZ []float32
	if len(m.Convs) > 0 {
		dZ = make([]float32, len(Z))
	}
	var sc Scorer
	m.Head.Score(C, len(rows), &sc)
	if m.Loss == InfoNCE {
		pos = sc.InfoNCE(Z, ps, Z, negRows, m.Negatives, weights, dZ, dZ)
	} else {
		if len(ps) > 0 {
			pos = sc.Hinge(Z, ps, Positive, weights, dZ)
		}
		if len(ns) > 0 {
			neg = sc.Hinge(Z, ns, Negative, weights, dZ)
		}
	}
	dC := make([]float32, len(C))
	nconv := 2 * len(m.Convs)
	headAt := nconv
	if m.GRU != nil {
		headAt += 4
	}
	var dWc []float32
	if m.Head.Split() {
		dWc = g[headAt+1]
	}
	sc.Backward(dC, g[headAt], dWc)
	// Context gradients back to the top layer of each window.
	dctx := make([][]float32, B)
	for b := range dctx {
		dctx[b] = make([]float32, T*cc)
	}
	for i, r := range rows {
		b, t := int(r)/T, int(r)%T
		axpy(1, dC[i*cc:(i+1)*cc], dctx[b][t*cc:(t+1)*cc])
	}
	outs = make([][]float32, B)
	for b := range xs {
		dz := dctx[b]
		if m.GRU != nil {
			var dx []float32
			if len(m.Convs) > 0 {
				dx = make([]float32, T*m.GRU.Cin)
			}
			gr := &GRUGrads{g[nconv], g[nconv+1], g[nconv+2], g[nconv+3]}
			m.GRU.Backward(&grus[b], dctx[b], gr, dx, false)
			dz = dx
			outs[b] = append([]float32(nil), grus[b].Hs[:T*m.GRU.H]...)
		} else {
			outs[b] = append([]float32(nil), tops[b][:T*cz]...)
		}
		if len(m.Convs) == 0 {
			continue
		}
		// Target gradients of this window join the top conv's gradient.
		axpy(1, dZ[b*T*cz:(b+1)*T*cz], dz)
		for i := len(m.Convs) - 1; i >= 0; i-- {
			c, tp := m.Convs[i], tapes[b][i]
			t := len(tp.a) / c.Cout
			ReLUGrad(tp.a, dz)
			c.WeightGrad(tp.xp, t, dz, g[2*i], g[2*i+1])
			if i == 0 {
				break
			}
			dxp := make([]float32, len(tp.xp))
			c.InputGrad(dz, t, dxp)
			// Drop the padding rows: the gradient of the layer below's output.
			prevT := len(tapes[b][i-1].a) / c.Cin
			dz = dxp[c.Padding*c.Cin : (c.Padding+prevT)*c.Cin]
		}
	}
	return pos, neg, outs
}
