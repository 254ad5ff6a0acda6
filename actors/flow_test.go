package actors

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"clapp/model"
	"clapp/stream/frame"
)

// TestStreamBoundaries feeds two utterances interleaved with learning
// frozen and checks each comes out of every layer as a stream of its own:
// first timesteps from 0 and contiguous, End on its last block, the frame
// count of its own length, and at the GRU the very frames the utterance
// gives when it runs alone (h starts at 0, nothing leaks between streams).
func TestStreamBoundaries(t *testing.T) {
	e := testEncoder(t, 4)
	alone := map[string][][]float32{}
	src := synthSource(t, 2, 1)
	samples := map[string][]float32{}
	for {
		b, err := src.Next(context.Background())
		if err != nil {
			break
		}
		if b.Layer == frame.AudioLayer {
			samples[b.Stream] = append(samples[b.Stream], b.Data...)
		}
	}
	for id, s := range samples {
		alone[id] = e.Encode(s)
	}
	p, err := New(Config{Encoder: e, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Freeze(0, true)
	type key struct {
		layer  int
		stream string
	}
	var mu sync.Mutex
	got := map[key][]float32{}
	next := map[key]int64{}
	ended := map[key]bool{}
	for n := 1; n <= 6; n++ {
		p.Tap(n, func(b *frame.Block, _ time.Time) {
			mu.Lock()
			defer mu.Unlock()
			k := key{b.Layer, b.Stream}
			if ended[k] {
				t.Errorf("layer %d stream %s: block after End", b.Layer, b.Stream)
			}
			if b.First != next[k] {
				t.Errorf("layer %d stream %s: block starts at %d, want %d", b.Layer, b.Stream, b.First, next[k])
			}
			next[k] += int64(b.Rows)
			got[k] = append(got[k], b.Data...)
			ended[k] = b.End
		})
	}
	if err := p.Run(context.Background(), synthSource(t, 2, 2)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, want := range alone {
		for n := 1; n <= 6; n++ {
			k := key{n, id}
			if !ended[k] {
				t.Errorf("layer %d stream %s: no End", n, id)
			}
			if len(got[k]) != len(want[n-1]) {
				t.Fatalf("layer %d stream %s: %d values, alone %d", n, id, len(got[k]), len(want[n-1]))
			}
			if d := maxDiff(got[k], want[n-1]); d > 1e-4*maxAbs(want[n-1]) {
				t.Errorf("layer %d stream %s: interleaved frames differ from the stream alone by %g", n, id, d)
			}
		}
	}
}

// TestFastSourceSlowLayerKeepsMemoryFlat pushes synthetic speech as fast
// as it can be made into a pipeline whose second layer is slow: the
// credits between stages hold every queue to a few blocks, so the heap
// stays flat however long the stream. With SkipBacklog set, the slow layer
// skips learning (and counts it) while its frames keep flowing.
func TestFastSourceSlowLayerKeepsMemoryFlat(t *testing.T) {
	for _, skip := range []int64{0, 2} {
		cfg := model.NarrowConfig(32, 16)
		cfg.K = 4
		e, _ := model.NewEncoder(cfg, 1)
		p, err := New(Config{Encoder: e, Night: NightPolicy{Kind: NightNever}, Credits: 2, SkipBacklog: skip, Seed: 1,
			Inspect: func(layer int, b *frame.Block) {
				if layer == 2 {
					time.Sleep(20 * time.Millisecond) // a slow layer
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		src := synthSource(t, 0, 4) // endless
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx, src) }()
		var peak, first uint64
		var ms runtime.MemStats
		for i := 0; i < 20; i++ {
			time.Sleep(150 * time.Millisecond)
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if i == 4 {
				first = ms.HeapInuse
			}
			if i >= 4 && ms.HeapInuse > peak {
				peak = ms.HeapInuse
			}
		}
		st := p.Stats()
		cancel()
		<-done
		p.Close()
		t.Logf("skip %d: heap after warm-up %d MB, peak %d MB; layer 2 blocks %d learned %d skipped %d backlog %d",
			skip, first>>20, peak>>20, st[1].Blocks, st[1].Learned, st[1].Skipped, st[1].Backlog)
		if peak > first+32<<20 {
			t.Errorf("skip %d: heap grew from %d MB to %d MB", skip, first>>20, peak>>20)
		}
		for _, s := range st {
			if s.Backlog > 2 {
				t.Errorf("layer %d: %d blocks waiting, more than its 2 credits", s.Layer, s.Backlog)
			}
		}
		if skip > 0 && st[1].Skipped == 0 {
			t.Error("the slow layer never skipped learning")
		}
		if skip > 0 && st[5].Blocks == 0 {
			t.Error("no frames reached the top")
		}
	}
}
