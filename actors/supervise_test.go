package actors

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"clapp/stream/frame"
)

// TestPanicRestartsLayerWithItsWeights: a bug that panics layer 3 on one
// block makes the supervisor restart the layer; the block is counted as
// bad input and dropped, the weights and optimiser state learned so far
// are kept, and frames keep flowing to the top.
func TestPanicRestartsLayerWithItsWeights(t *testing.T) {
	var seen atomic.Int64
	var poisoned atomic.Bool
	p, err := New(Config{Encoder: testEncoder(t, 2), Night: NightPolicy{Kind: NightNever}, Batch: 2, Seed: 1,
		Inspect: func(layer int, b *frame.Block) {
			if layer == 3 && seen.Add(1) == 20 {
				poisoned.Store(true)
				panic("poisoned frame")
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src := synthSource(t, 6, 2)
	// First part, then a snapshot of what was learned before the panic.
	for i := 0; i < 15; i++ {
		b, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Feed(ctx, b, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	before, _, err := p.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var topFrames atomic.Int64
	rm, _ := p.Tap(6, func(b *frame.Block, _ time.Time) { topFrames.Add(int64(b.Rows)) })
	defer rm()
	if err := p.Run(ctx, src); err != nil {
		t.Fatal(err)
	}
	if !poisoned.Load() {
		t.Fatal("the poisoned block never came")
	}
	after, _, err := p.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()[2]
	if st.Restarts != 1 || st.BadInput != 1 {
		t.Errorf("layer 3: %d restarts, %d bad inputs; want 1 and 1", st.Restarts, st.BadInput)
	}
	if topFrames.Load() == 0 {
		t.Error("no frames reached the top after the restart")
	}
	// Weights kept: the layer went on from what it had learned, not from
	// a fresh initialisation.
	w0 := testEncoder(t, 2).Convs[2].Conv.W
	wb := before.Encoder.Convs[2].Conv.W
	wa := after.Encoder.Convs[2].Conv.W
	if maxDiff(wb, w0) == 0 {
		t.Fatal("layer 3 learned nothing before the panic")
	}
	if maxDiff(wa, wb) >= maxDiff(wa, w0) {
		t.Errorf("layer 3's weights look reset by the restart (|after-before| %g, |after-init| %g)", maxDiff(wa, wb), maxDiff(wa, w0))
	}
	if after.Optim[2] == nil || after.Optim[2].Cycles <= before.Optim[2].Cycles {
		t.Errorf("optimiser state not carried through the restart")
	}
}
