package actors

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"clapp/model"
	"clapp/stream/frame"
	"clapp/stream/synth"
)

// benchBlocks renders seconds of synthetic speech per stream, interleaved,
// into memory.
func benchBlocks(b *testing.B, streams int, seconds float64) ([]frame.Block, float64) {
	g, _ := synth.New(synth.DefaultConfig())
	src, _ := g.NewSource(synth.SourceConfig{Speakers: g.TrainSpeakers(), Utterances: streams * (int(seconds/3) + 1), Streams: streams, Chunk: 20480})
	var out []frame.Block
	audio := 0.0
	for {
		blk, err := src.Next(context.Background())
		if err != nil {
			break
		}
		out = append(out, blk)
		audio += float64(blk.Rows) / frame.SampleRate
	}
	return out, audio
}

// runSequential drives the same layer cores as a pipeline, one block at a
// time through all layers in one goroutine: the layer math without the
// actors.
func runSequential(b *testing.B, cfg Config, blocks []frame.Block) {
	if err := cfg.defaults(); err != nil {
		b.Fatal(err)
	}
	n := cfg.Last - cfg.First + 1
	var paused atomic.Bool
	links := make([]*link, n)
	runners := make([]layerRunner, n)
	for i := range runners {
		links[i] = newLink(cfg.Credits)
		r, _, err := newLayer(cfg, cfg.First+i, links[i], &tapSet{}, &paused)
		if err != nil {
			b.Fatal(err)
		}
		runners[i] = r
	}
	ctx := context.Background()
	for i := 0; i+1 < n; i++ {
		next, l := runners[i+1], links[i+1]
		runners[i].setSend(func(m flowMsg) error {
			if err := l.acquire(ctx); err != nil {
				return err
			}
			next.handle(nil, m)
			return nil
		})
	}
	feed := func(m flowMsg) {
		links[0].acquire(ctx)
		runners[0].handle(nil, m)
	}
	for _, blk := range blocks {
		feed(&blockMsg{b: blk, born: time.Now()})
	}
	feed(&barrierMsg{pass: func(int) {}})
}

// BenchmarkPipelineVsOneGoroutine trains the same encoder on the same
// audio through the actor pipeline and through the same layer math called
// in one goroutine, with the same BLAS settings, and reports both rates
// and their ratio (the layers run in parallel: on two cores the pipeline
// should not be slower).
func BenchmarkPipelineVsOneGoroutine(b *testing.B) {
	for _, size := range []struct {
		name string
		cfg  model.Config
		secs float64
	}{
		{"narrow_128_64", model.NarrowConfig(128, 64), 20},
		{"paper_512_256", model.PaperConfig(), 6},
	} {
		b.Run(fmt.Sprintf("size=%s", size.name), func(b *testing.B) {
			blocks, audio := benchBlocks(b, 8, size.secs)
			cfg := func() Config {
				e, _ := model.NewEncoder(size.cfg, 1)
				return Config{Encoder: e, Night: NightPolicy{Kind: NightNever}, Batch: 8, Seed: 1}
			}
			var tp, ts time.Duration
			for i := 0; i < b.N; i++ {
				c := cfg()
				t0 := time.Now()
				runSequential(b, c, blocks)
				ts += time.Since(t0)
				p, err := New(cfg())
				if err != nil {
					b.Fatal(err)
				}
				t0 = time.Now()
				for _, blk := range blocks {
					if err := p.Feed(context.Background(), blk, time.Now()); err != nil {
						b.Fatal(err)
					}
				}
				if err := p.Drain(context.Background()); err != nil {
					b.Fatal(err)
				}
				tp += time.Since(t0)
				p.Close()
			}
			pr := audio * float64(b.N) / tp.Seconds()
			sr := audio * float64(b.N) / ts.Seconds()
			b.ReportMetric(pr, "pipeline_audio_s/s")
			b.ReportMetric(sr, "one_goroutine_audio_s/s")
			b.ReportMetric(pr/sr, "ratio")
		})
	}
}
