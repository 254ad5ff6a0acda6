package actors

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"clapp/model"
	"clapp/stream/frame"
	"clapp/stream/synth"
)

func testEncoder(t testing.TB, seed uint64) *model.Encoder {
	t.Helper()
	cfg := model.NarrowConfig(32, 24)
	cfg.K = 4
	e, err := model.NewEncoder(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func synthSource(t testing.TB, utterances, streams int) *synth.Source {
	t.Helper()
	g, err := synth.New(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	src, err := g.NewSource(synth.SourceConfig{Speakers: g.TrainSpeakers(), Utterances: utterances, Streams: streams, Chunk: 3200})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestPipelineSmoke(t *testing.T) {
	for _, pol := range []string{"never", "every:8", "alternate"} {
		t.Run(pol, func(t *testing.T) {
			np, err := ParseNight(pol)
			if err != nil {
				t.Fatal(err)
			}
			p, err := New(Config{Encoder: testEncoder(t, 1), Night: np, Batch: 4, LR: 2e-4, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := p.Run(ctx, synthSource(t, 8, 4)); err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Stats() {
				t.Logf("layer %d: blocks %d frames %d loss+ %.3f loss- %.3f act+ %.2f act- %.2f learned %d nights %d replayed %d cycles %d mem %d rec %dB",
					s.Layer, s.Blocks, s.Frames, s.LossPos, s.LossNeg, s.ActivePos, s.ActiveNeg, s.Learned, s.Nights, s.Replayed, s.Cycles, s.MemoryRecords, s.RecordBytes)
			}
		})
	}
}

// TestDreamer runs the dreamer design of the night with a night due on
// every block, so that the next night often comes while the dreamer is
// still replaying the last: the layer must then stop it and finish the
// night itself, never touching the records' windows at the same time (run
// with -race), and every stored negative is replayed once.
func TestDreamer(t *testing.T) {
	p, err := New(Config{Encoder: testEncoder(t, 1), Night: NightPolicy{Kind: NightEvery, Every: 1}, Batch: 1, LR: 2e-4, Seed: 3, Dreamer: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := p.Run(ctx, synthSource(t, 8, 4)); err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Stats() {
		if s.Restarts != 0 || s.BadInput != 0 || s.Refused != 0 {
			t.Errorf("layer %d: %d restarts, %d bad input, %d refused updates; want none", s.Layer, s.Restarts, s.BadInput, s.Refused)
		}
		if s.Nights == 0 || s.Replayed == 0 || s.Night || s.MemoryRecords != 0 {
			t.Errorf("layer %d: %d nights, %d negatives replayed, night in progress %v, %d records left; want every negative replayed",
				s.Layer, s.Nights, s.Replayed, s.Night, s.MemoryRecords)
		}
	}
}

// TestShortBlocks feeds one stream in blocks of very different lengths, as
// a live source does at the end of a segment: a short block's window can
// hold no context at all, and its stored negative must replay as nothing,
// not crash the layer.
func TestShortBlocks(t *testing.T) {
	for _, dreamer := range []bool{false, true} {
		p, err := New(Config{Encoder: testEncoder(t, 1), Night: NightPolicy{Kind: NightEvery, Every: 1}, Batch: 1, Seed: 3, Dreamer: dreamer})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		rng := rand.New(rand.NewPCG(5, 5))
		sizes := []int{1600, 150, 3200, 60, 800, 30, 1600}
		var pos int64
		for i := 0; i < 40; i++ {
			n := sizes[i%len(sizes)]
			b := frame.Block{Stream: "one", Layer: frame.AudioLayer, First: pos, Rows: n, Cols: 1, Rate: frame.SampleRate, Data: make([]float32, n)}
			for j := range b.Data {
				b.Data[j] = float32(rng.NormFloat64()) * 0.1
			}
			pos += int64(n)
			b.End = i == 39
			if err := p.Feed(ctx, b, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Stats() {
			if s.Restarts != 0 || s.BadInput != 0 {
				t.Errorf("dreamer %v: layer %d: %d restarts, %d bad input; want none", dreamer, s.Layer, s.Restarts, s.BadInput)
			}
			if s.Replayed == 0 {
				t.Errorf("dreamer %v: layer %d replayed no negatives", dreamer, s.Layer)
			}
		}
		cancel()
		p.Close()
	}
}
