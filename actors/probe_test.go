package actors

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"clapp/stream/frame"
	"clapp/stream/synth"
)

// TestProbesLearnOnline runs only the GRU layer, fed as its input frames
// that carry the label of their 10 ms cell (a one-hot code in noise), with
// the labels flowing beside them as label blocks. The online probe reads
// the GRU's frames: it can only beat chance by far if every frame meets the
// label of its own cell, so this checks the alignment of frames and labels
// as well as the learning.
func TestProbesLearnOnline(t *testing.T) {
	e := testEncoder(t, 5)
	p, err := New(Config{Encoder: e, First: 6, Last: 6, Night: NightPolicy{Kind: NightNever}, Batch: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ps, err := NewProbes(p, ProbeConfig{Classes: synth.NumClasses, Queue: 1 << 12, LR: 3e-3})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	g, _ := synth.New(synth.DefaultConfig())
	rng := rand.New(rand.NewPCG(1, 1))
	width := e.Config.Channels
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := 0; i < 60; i++ {
		u := g.Utterance(g.TrainSpeakers()[i%20], i)
		id := u.ID
		// Layer 5 runs at 100 Hz: frame j is grid cell j.
		for at := 0; at < len(u.Labels); at += 50 {
			n := min(50, len(u.Labels)-at)
			x := make([]float32, n*width)
			lab := make([]float32, n)
			for r := 0; r < n; r++ {
				c := u.Labels[at+r]
				lab[r] = float32(c)
				for j := 0; j < width; j++ {
					x[r*width+j] = float32(rng.NormFloat64() * 0.3)
				}
				x[r*width+c%width] += 2
			}
			end := at+n == len(u.Labels)
			if err := p.Feed(ctx, frame.Block{Stream: id, Layer: 5, First: int64(at), Rows: n, Cols: width, Data: x, Rate: 100, End: end}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := p.Feed(ctx, frame.Block{Stream: id, Layer: frame.LabelLayer, First: int64(at), Rows: n, Cols: 1, Data: lab, Rate: 100, End: end}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the probe's queue drains
	acc := ps.Accuracy()
	t.Logf("online probe accuracy: %v, dropped %v", acc, ps.Dropped())
	if acc[6] < 0.5 {
		t.Errorf("layer 6: online accuracy %.3f, want well above chance (0.17) for label-coded input", acc[6])
	}
}
