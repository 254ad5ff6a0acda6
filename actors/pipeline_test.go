package actors

import (
	"context"
	"testing"
	"time"

	"clapp/model"
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
