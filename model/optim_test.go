package model

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func testParams(rng *rand.Rand) []*Param {
	return []*Param{
		{Name: "a", Shape: []int{3, 4}, Data: randn(rng, 12, 1)},
		{Name: "b", Shape: []int{5}, Data: randn(rng, 5, 1)},
	}
}

func cloneParams(ps []*Param) []*Param {
	out := make([]*Param, len(ps))
	for i, p := range ps {
		out[i] = &Param{Name: p.Name, Shape: p.Shape, Data: append([]float32(nil), p.Data...)}
	}
	return out
}

func randGrads(rng *rand.Rand, ps []*Param, scale float32) Grads {
	g := NewGrads(ps)
	for i := range g {
		copy(g[i], randn(rng, len(g[i]), scale))
	}
	return g
}

// TestOptimizersAdditive applies the positive and the negative part of
// every cycle separately on one copy and their sum on another: the weights
// must agree after each cycle, which is what lets day and night share one
// optimiser state in every mode.
func TestOptimizersAdditive(t *testing.T) {
	for _, kind := range []string{"sgd", "adam"} {
		t.Run(kind, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			p1 := testParams(rng)
			p2 := cloneParams(p1)
			mk := func(ps []*Param) Optimizer {
				if kind == "sgd" {
					return NewSGD(ps, 0.01)
				}
				return NewAdam(ps, 0.01)
			}
			o1, o2 := mk(p1), mk(p2)
			for _, o := range []Optimizer{o1, o2} {
				if a, ok := o.(*Adam); ok {
					a.Warmup = 3 // most cycles past the warm-up
				}
			}
			for cycle := 0; cycle < 20; cycle++ {
				gp := randGrads(rng, p1, 1)
				gn := randGrads(rng, p1, 1)
				sum := gp.Clone()
				sum.Add(1, gn)
				// Day then night, in pieces.
				half := gp.Clone()
				for i := range half {
					for j := range half[i] {
						half[i][j] /= 2
					}
				}
				for _, g := range []Grads{half, half, gn} {
					if err := o1.Apply(g); err != nil {
						t.Fatal(err)
					}
				}
				if err := o2.Apply(sum); err != nil {
					t.Fatal(err)
				}
				if err := o1.EndCycle(); err != nil {
					t.Fatal(err)
				}
				if err := o2.EndCycle(); err != nil {
					t.Fatal(err)
				}
				for i := range p1 {
					if d := maxRelDiff(p1[i].Data, p2[i].Data); d > 1e-5 {
						t.Fatalf("cycle %d: %s differs by %g between split and summed application", cycle, p1[i].Name, d)
					}
				}
			}
			if a, ok := o1.(*Adam); ok && a.Clipped != 0 {
				t.Errorf("%d weights clipped: gradients of ordinary size must not reach the clip", a.Clipped)
			}
		})
	}
}

// TestAdamWarmupIsPlainAdam: during the warm-up every cycle is exactly
// Adam's step on the cycle's summed gradient, however it was applied.
func TestAdamWarmupIsPlainAdam(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	ps := testParams(rng)
	ref := cloneParams(ps)
	o := NewAdam(ps, 0.01)
	m, v := NewGrads(ref), NewGrads(ref)
	for cycle := 1; cycle <= 10; cycle++ {
		g1, g2 := randGrads(rng, ps, 1), randGrads(rng, ps, 3)
		o.Apply(g1)
		o.Apply(g2)
		o.EndCycle()
		b1, b2 := 0.9, 0.999
		for i, p := range ref {
			for j := range p.Data {
				g := float64(g1[i][j] + g2[i][j])
				m[i][j] = float32(b1*float64(m[i][j]) + (1-b1)*g)
				v[i][j] = float32(b2*float64(v[i][j]) + (1-b2)*g*g)
				mh := float64(m[i][j]) / (1 - math.Pow(b1, float64(cycle)))
				vh := float64(v[i][j]) / (1 - math.Pow(b2, float64(cycle)))
				p.Data[j] -= float32(0.01 * mh / (math.Sqrt(vh) + 1e-8))
			}
		}
		for i := range ps {
			if d := maxRelDiff(ps[i].Data, ref[i].Data); d > 1e-5 {
				t.Fatalf("cycle %d: %s differs from plain Adam by %g", cycle, ps[i].Name, d)
			}
		}
	}
}

// TestAdamMinimises checks the lagged-moment Adam still optimises: a
// noisy quadratic is driven close to its minimum, as plain Adam would.
func TestAdamMinimises(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ps := testParams(rng)
	target := randGrads(rng, ps, 1)
	o := NewAdam(ps, 0.05)
	dist := func() float64 {
		s := 0.0
		for i, p := range ps {
			for j, v := range p.Data {
				d := float64(v - target[i][j])
				s += d * d
			}
		}
		return math.Sqrt(s)
	}
	start := dist()
	for step := 0; step < 600; step++ {
		g := NewGrads(ps)
		for i, p := range ps {
			for j, v := range p.Data {
				g[i][j] = v - target[i][j] + float32(rng.NormFloat64()*0.05)
			}
		}
		if err := o.Apply(g); err != nil {
			t.Fatal(err)
		}
		if err := o.EndCycle(); err != nil {
			t.Fatal(err)
		}
	}
	if end := dist(); end > 0.05*start {
		t.Errorf("distance to the minimum went from %.3f to %.3f", start, end)
	}
}

// TestOptimizersRefuseNonFinite: a NaN or Inf gradient changes nothing.
func TestOptimizersRefuseNonFinite(t *testing.T) {
	for _, kind := range []string{"sgd", "adam"} {
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
			rng := rand.New(rand.NewPCG(5, 6))
			ps := testParams(rng)
			var o Optimizer = NewSGD(ps, 0.1)
			if kind == "adam" {
				o = NewAdam(ps, 0.1)
				o.Apply(randGrads(rng, ps, 1))
				o.EndCycle()
			}
			before := cloneParams(ps)
			g := randGrads(rng, ps, 1)
			g[1][2] = bad
			if err := o.Apply(g); !errors.Is(err, ErrNonFinite) {
				t.Errorf("%s: Apply with %v returned %v, want ErrNonFinite", kind, bad, err)
			}
			for i := range ps {
				if d := maxRelDiff(ps[i].Data, before[i].Data); d != 0 {
					t.Errorf("%s: %s changed by a refused update", kind, ps[i].Name)
				}
			}
		}
	}
}

// TestAdamStateResumesMidCycle: saving the state in the middle of a cycle
// and restoring it into a fresh optimiser continues bit for bit.
func TestAdamStateResumesMidCycle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ps := testParams(rng)
	o := NewAdam(ps, 0.01)
	o.Warmup = 1
	grads := make([]Grads, 12)
	for i := range grads {
		grads[i] = randGrads(rng, ps, 1)
	}
	run := func(o *Adam, gs []Grads, from int) {
		for i, g := range gs {
			o.Apply(g)
			if (from+i)%3 == 2 {
				o.EndCycle()
			}
		}
	}
	run(o, grads[:7], 0)
	st := o.State()
	saved := OptimState{Kind: st.Kind, Cycles: st.Cycles, Tensors: map[string][]float32{}}
	for k, v := range st.Tensors {
		saved.Tensors[k] = append([]float32(nil), v...)
	}
	ps2 := cloneParams(ps)
	o2 := NewAdam(ps2, 0.01)
	o2.Warmup = 1
	if err := o2.SetState(saved); err != nil {
		t.Fatal(err)
	}
	run(o, grads[7:], 7)
	run(o2, grads[7:], 7)
	for i := range ps {
		for j := range ps[i].Data {
			if ps[i].Data[j] != ps2[i].Data[j] {
				t.Fatalf("%s[%d]: %v after resume, %v uninterrupted", ps[i].Name, j, ps2[i].Data[j], ps[i].Data[j])
			}
		}
	}
}
