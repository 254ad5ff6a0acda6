package actors

import (
	"context"
	"testing"
	"time"
)

func TestLearningBeatsRandomInit(t *testing.T) {
	seed := uint64(1)
	random := probeAccuracies(t, testEncoder(t, seed), 40, 16)
	e := testEncoder(t, seed)
	np, _ := ParseNight("never")
	p, err := New(Config{Encoder: e, Night: np, Batch: 4, Seed: 3, LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := p.Run(ctx, synthSource(t, 200, 4)); err != nil {
		t.Fatal(err)
	}
	p.Close()
	learned := probeAccuracies(t, e, 40, 16)
	for l := range random {
		t.Logf("layer %d: random %.3f learned %.3f", l+1, random[l], learned[l])
	}
	for _, s := range p.Stats() {
		t.Logf("layer %d loss %.3f/%.3f act %.2f/%.2f", s.Layer, s.LossPos, s.LossNeg, s.ActivePos, s.ActiveNeg)
	}
}
