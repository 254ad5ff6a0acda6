package actors

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"

	"clapp/model"
	"clapp/stream/frame"
)

// TestNightUsesWeightsOfItsTime stores negatives by day, changes the
// weights, and checks that the night's update is the negative gradient of
// the stored records computed with the weights of the night, not with the
// weights they were stored under. The layer core is driven directly (no
// actor system) so that the weights can be changed between day and night.
func TestNightUsesWeightsOfItsTime(t *testing.T) {
	t.Run("conv", func(t *testing.T) {
		e := testEncoder(t, 7)
		u := &convUnit{l: e.Convs[1]}
		checkNight(t, unit[*model.ConvStream, *model.ConvWindow](u), e, 2, 300)
	})
	t.Run("gru", func(t *testing.T) {
		e := testEncoder(t, 7)
		u := &gruUnit{l: e.Top}
		checkNight(t, unit[*model.GRUStream, *model.GRUWindow](u), e, 6, 40)
	})
}

func checkNight[S, W any](t *testing.T, u unit[S, W], e *model.Encoder, n, rows int) {
	o := layerOptions{n: n, inRate: e.Config.FrameRate(n - 1), outRate: e.Config.FrameRate(n),
		policy: NightPolicy{Kind: NightControl}, batch: 1 << 30, memory: 1 << 30, slice: 1 << 30,
		det: true, log: slog.Default(), k: e.Config.K}
	ps := u.Params()
	c := newLayerCore(o, u, model.NewSGD(ps, 1), newLink(8), &tapSet{})
	rng := rand.New(rand.NewPCG(1, 2))
	width := u.InWidth()
	for i := 0; i < 6; i++ {
		d := make([]float32, rows*width)
		for j := range d {
			d[j] = float32(rng.Float64())
		}
		b := frame.Block{Stream: []string{"a", "b"}[i%2], Layer: n - 1, First: int64(i/2) * int64(rows), Rows: rows, Cols: width, Data: d, Rate: o.inRate}
		c.in.acquire(t.Context())
		c.in.release()
		c.block(nil, &blockMsg{b: b})
	}
	c.apply() // the day's positives, before the weights change
	if c.memory.len() == 0 {
		t.Fatal("no negatives stored by day")
	}
	negGrad := func() []float32 {
		g := model.NewGrads(ps)
		for _, r := range c.memory.q[c.memory.head:] {
			u.Replay(u.Capture(r.w), u.Capture(r.partner), g)
		}
		return flatten(g)
	}
	stored := negGrad()
	for _, p := range ps {
		for j := range p.Data {
			p.Data[j] *= 1.5
		}
	}
	now := negGrad()
	before := append([]float32(nil), flatten(gradsOf(ps))...)
	c.startNight(nil)
	after := flatten(gradsOf(ps))
	delta := make([]float32, len(before))
	for i := range delta {
		delta[i] = before[i] - after[i] // SGD with lr 1 applies -grad
	}
	scale := maxAbs(now)
	if d := maxDiff(stored, now); d < 1e-2*scale {
		t.Fatalf("changing the weights did not change the negative gradient (%g): the test would prove nothing", d)
	}
	if d := maxDiff(delta, now); d > 1e-3*scale {
		t.Errorf("night update differs from the gradient under the night's weights by %g (scale %g)", d, scale)
	}
	if d := maxDiff(delta, stored); d < 1e-2*scale {
		t.Errorf("night update equals the gradient under the storage-time weights")
	}
}

func gradsOf(ps []*model.Param) model.Grads {
	g := make(model.Grads, len(ps))
	for i, p := range ps {
		g[i] = p.Data
	}
	return g
}

func flatten(g model.Grads) []float32 {
	var out []float32
	for _, b := range g {
		out = append(out, b...)
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func maxAbs(a []float32) float64 {
	m := 0.0
	for _, v := range a {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}
