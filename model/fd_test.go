package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// fdCheck compares the analytic gradient g with central differences of f
// on up to 12 random coordinates of every parameter tensor. ReLUs and
// hinges have kinks: a coordinate whose perturbation crosses one can
// disagree, so one miss per tensor is tolerated; a wrong gradient misses
// nearly everywhere.
func fdCheck(t *testing.T, ps []*Param, g Grads, f func() float64, rng *rand.Rand) {
	t.Helper()
	const eps = 1e-3
	for i, p := range ps {
		n := min(12, len(p.Data))
		misses := 0
		var report []string
		for c := 0; c < n; c++ {
			j := rng.IntN(len(p.Data))
			save := p.Data[j]
			p.Data[j] = save + eps
			fp := f()
			p.Data[j] = save - eps
			fm := f()
			p.Data[j] = save
			fd := (fp - fm) / (2 * eps)
			an := float64(g[i][j])
			if diff := math.Abs(fd - an); diff > 0.02*math.Max(math.Abs(an), math.Abs(fd))+2e-3 {
				misses++
				report = append(report, fmt.Sprintf("[%d] fd %.6g grad %.6g", j, fd, an))
			}
		}
		if misses > 1 {
			t.Errorf("%s: %d of %d coordinates disagree: %v", p.Name, misses, n, report)
		}
	}
}

var seedFD uint64 = 11

func TestFiniteDifferencesConvLayer(t *testing.T) {
	for _, split := range []bool{false, true} {
		name := "symmetric"
		if split {
			name = "split"
		}
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seedFD, uint64(len(name))))
			l := &ConvLayer{Conv: NewConv1d(3, 6, 4, 2, 1, rng), Head: NewHead(3, 6, 6, split, rng), Every: 2}
			tin := 60
			wa := &ConvWindow{XP: l.Conv.Pad(randn(rng, tin*3, 1), tin, nil), Rows: l.Conv.OutLen(tin), Phase: 1}
			wb := &ConvWindow{XP: l.Conv.Pad(randn(rng, tin*3, 1), tin, nil), Rows: l.Conv.OutLen(tin)}
			ps := l.Params()
			var sc LearnScratch
			if !split {
				loss := func() float64 {
					l.Recompute(wa)
					l.Recompute(wb)
					p, n := l.Learn(wa, Learning{Positive: true, Negative: wb}, NewGrads(ps), &sc)
					return p.Loss + n.Loss
				}
				l.Recompute(wa)
				l.Recompute(wb)
				g := NewGrads(ps)
				l.Learn(wa, Learning{Positive: true, Negative: wb}, g, &sc)
				fdCheck(t, ps, g, loss, rng)
				return
			}
			// The split rule's update is the gradient, at theta0, of
			// 1/2 L(W; z(theta), c(theta0)) + 1/2 L(Wc; z(theta0), c(theta)).
			l.Recompute(wa)
			l.Recompute(wb)
			g := NewGrads(ps)
			l.Learn(wa, Learning{Positive: true, Negative: wb}, g, &sc)
			za0, zb0 := append([]float32(nil), wa.Z...), append([]float32(nil), wb.Z...)
			ctxRows, pos, _ := allPairs(wa.Rows, 3, 2, 1, wb.Rows)
			neg := make([]Pair, len(pos))
			copy(neg, pos)
			for i := range neg {
				neg[i].Z %= int32(wb.Rows)
			}
			gather := func(z []float32) []float32 {
				c := make([]float32, len(ctxRows)*6)
				for i, r := range ctxRows {
					copy(c[i*6:], z[int(r)*6:int(r+1)*6])
				}
				return c
			}
			w := []float32{1. / 3, 1. / 3, 1. / 3}
			loss := func() float64 {
				l.Recompute(wa)
				l.Recompute(wb)
				zW := &Head{K: 3, Cz: 6, Cc: 6, W: l.Head.W}
				zC := &Head{K: 3, Cz: 6, Cc: 6, W: l.Head.Wc}
				var s1, s2 Scorer
				zW.Score(gather(za0), len(ctxRows), &s1) // contexts frozen
				zC.Score(gather(wa.Z), len(ctxRows), &s2)
				total := s1.Hinge(wa.Z, pos, Positive, w, nil).Loss + s1.Hinge(wb.Z, neg, Negative, w, nil).Loss
				total += s2.Hinge(za0, pos, Positive, w, nil).Loss + s2.Hinge(zb0, neg, Negative, w, nil).Loss
				return total / 2
			}
			fdCheck(t, ps, g, loss, rng)
		})
	}
}

func TestFiniteDifferencesGRULayerBPTT(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	l := &GRULayer{GRU: NewGRU(4, 5, rng), Head: NewHead(3, 4, 5, false, rng), Every: 1, BPTT: true, Warm: 3}
	T := 20
	wa := &GRUWindow{X: randn(rng, (T+3)*4, 1), Lead: 3, Rows: T, H0: randn(rng, 5, 0.5)}
	wb := &GRUWindow{X: randn(rng, T*4, 1), Rows: T, H0: make([]float32, 5)}
	ps := l.Params()
	var sc LearnScratch
	lr := GRULearning{Positive: true, Negative: wb, Replay: true}
	g := NewGrads(ps)
	l.Learn(nil, wa, lr, g, &sc)
	fdCheck(t, ps, g, func() float64 {
		p, n := l.Learn(nil, wa, lr, NewGrads(ps), &sc)
		return p.Loss + n.Loss
	}, rng)
}

func TestFiniteDifferencesModules(t *testing.T) {
	cases := []struct {
		name   string
		convs  int
		gru    bool
		loss   LossKind
		split  bool
		blocks ModuleTerms
	}{
		{"2conv-hinge", 2, false, Hinge, false, ModuleTerms{Positive: true, Negative: true}},
		{"conv-gru-infonce", 1, true, InfoNCE, false, ModuleTerms{Positive: true}},
		{"gru-hinge", 0, true, Hinge, false, ModuleTerms{Positive: true, Negative: true}},
		{"2conv-gru-hinge-split", 2, true, Hinge, true, ModuleTerms{Positive: true, Negative: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, 22))
			m := &Module{Loss: tc.loss, Negatives: 4, Every: 2}
			cin := 2
			width := cin
			for i := 0; i < tc.convs; i++ {
				m.Convs = append(m.Convs, NewConv1d(width, 5, 4, 2, 1, rng))
				width = 5
			}
			cc := width
			if tc.gru {
				m.GRU = NewGRU(width, 4, rng)
				cc = 4
			}
			m.Head = NewHead(3, width, cc, tc.split, rng)
			tin := 48
			xs := [][]float32{randn(rng, tin*cin, 1), randn(rng, tin*cin, 1), randn(rng, tin*cin, 1)}
			ps := m.Params()
			run := func(g Grads) float64 {
				p, n, _ := m.Learn(xs, tin, tc.blocks, rand.New(rand.NewPCG(1, 1)), g)
				return p.Loss + n.Loss
			}
			g := NewGrads(ps)
			run(g)
			if tc.split {
				// The split rule is not the gradient of one function; its
				// parameters below the head are checked by the layer tests.
				ps, g = ps[len(ps)-2:len(ps)-1], g[len(g)-2:len(g)-1]
			}
			fdCheck(t, ps, g, func() float64 { return run(NewGrads(m.Params())) }, rng)
		})
	}
}

func TestFiniteDifferencesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	d := NewDense(5, 3, rng)
	x := randn(rng, 7*5, 1)
	target := randn(rng, 7*3, 1)
	loss := func(dy []float32) float64 {
		y := make([]float32, 7*3)
		d.Forward(x, 7, y)
		s := 0.0
		for i := range y {
			e := float64(y[i] - target[i])
			s += e * e / 2
			if dy != nil {
				dy[i] = float32(e)
			}
		}
		return s
	}
	dy := make([]float32, 7*3)
	loss(dy)
	ps := d.Params("")
	g := NewGrads(ps)
	dx := make([]float32, len(x))
	d.Backward(x, 7, dy, g[0], g[1], dx)
	fdCheck(t, ps, g, func() float64 { return loss(nil) }, rng)
	// Input gradient, treating x as a parameter.
	px := &Param{Name: "x", Data: x}
	fdCheck(t, []*Param{px}, Grads{dx}, func() float64 { return loss(nil) }, rng)
}
