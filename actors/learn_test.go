package actors

import (
	"context"
	"testing"
	"time"

	"clapp/model"
)

// TestLearningBeatsRandomInit: on built-in synthetic speech, the CLAPP
// losses fall as the pipeline learns, and a linear probe on held-out
// speakers reads phones from the top layers better than from the same
// encoder at random initialisation.
func TestLearningBeatsRandomInit(t *testing.T) {
	cfg := model.NarrowConfig(96, 48)
	encoder := func() *model.Encoder {
		e, err := model.NewEncoder(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	random := probeAccuracies(t, encoder(), 60, 20)
	e := encoder()
	p, err := New(Config{Encoder: e, Night: NightPolicy{Kind: NightNever}, Batch: 2, Seed: 3, LR: 5e-4, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src := synthSource(t, 120, 8)
	// The first blocks' losses, then the last ones'.
	var early []LayerStats
	n := 0
	for {
		b, err := src.Next(ctx)
		if err != nil {
			break
		}
		if err := p.Feed(ctx, b, time.Now()); err != nil {
			t.Fatal(err)
		}
		if n++; n == 200 {
			p.Drain(ctx)
			early = p.Stats()
		}
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	late := p.Stats()
	p.Close()
	learned := probeAccuracies(t, e, 60, 20)
	for l := range random {
		t.Logf("layer %d: probe %.3f at random init, %.3f learned; loss %.3f/%.3f early, %.3f/%.3f late",
			l+1, random[l], learned[l], early[l].LossPos, early[l].LossNeg, late[l].LossPos, late[l].LossNeg)
		if late[l].LossPos+late[l].LossNeg >= early[l].LossPos+early[l].LossNeg {
			t.Errorf("layer %d: the loss did not fall", l+1)
		}
	}
	for _, l := range []int{4, 5} { // layers 5 and the GRU
		if learned[l] < random[l]+0.03 {
			t.Errorf("layer %d: probe accuracy %.3f learned, %.3f at random init: not 3 points better", l+1, learned[l], random[l])
		}
	}
}
