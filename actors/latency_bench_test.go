package actors

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"clapp/model"
	mblas "clapp/model/blas"
	"clapp/stream/frame"
	"clapp/stream/natsbus"
	"clapp/stream/synth"
)

// BenchmarkLiveLatency plays synthetic speech in real time, in 100 ms
// blocks, through a learning pipeline that publishes every layer on a real
// NATS server, and measures the latency from an audio sample entering the
// pipeline to the top layer's frame that depends on it arriving at a NATS
// subscriber (p50, p99), with the learning skipped to keep up.
func BenchmarkLiveLatency(b *testing.B) {
	sizes := []struct {
		name string
		cfg  model.Config
	}{
		{"narrow_128_64", model.NarrowConfig(128, 64)},
		{"paper_512_256", model.PaperConfig()},
	}
	// The designs of the night, compared where they differ: on live input,
	// where a night must not hold up the frames.
	nights := []struct {
		name  string
		tweak func(*Config)
	}{
		{"slices", nil},
		{"dreamer", func(c *Config) { c.Dreamer = true }},
		{"whole", func(c *Config) { c.Deterministic = true }},
	}
	seconds := 20.0
	for _, size := range sizes {
		for _, night := range nights {
			b.Run(fmt.Sprintf("size=%s/blas=%s/night=%s", size.name, mblas.Default().Name(), night.name), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					p50, p99, skipped := liveLatency(b, size.cfg, seconds, night.tweak)
					b.ReportMetric(p50.Seconds()*1000, "p50_ms")
					b.ReportMetric(p99.Seconds()*1000, "p99_ms")
					b.ReportMetric(skipped, "skipped_frac")
				}
			})
		}
	}
}

func liveLatency(b *testing.B, cfg model.Config, seconds float64, tweak func(*Config)) (p50, p99 time.Duration, skipped float64) {
	srv, err := natsbus.StartServer(natsbus.ServerConfig{Port: natsbus.RandomPort})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := natsbus.Connect(natsbus.ConnConfig{URL: srv.ClientURL()})
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	e, _ := model.NewEncoder(cfg, 1)
	pc := Config{Encoder: e, Night: NightPolicy{Kind: NightEvery, Every: 16}, Batch: 4, SkipBacklog: 2, Seed: 1}
	if tweak != nil {
		tweak(&pc)
	}
	p, err := New(pc)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	pub := natsbus.NewPublisher(nc, natsbus.PublisherConfig{})
	defer pub.Close()
	stop, _ := PublishLayers(p, pub, "lat")
	defer stop()
	// When each audio block (by its end sample) entered the pipeline.
	var mu sync.Mutex
	fed := map[int64]time.Time{}
	var ends []int64
	var lat []time.Duration
	sub, err := natsbus.Subscribe(nc, "clapp.lat.layer.6", natsbus.SubscriberConfig{}, func(blk frame.Block) {
		now := time.Now()
		if blk.Rows == 0 {
			return
		}
		// The last frame needs the audio up to the end of its receptive
		// field: 160 t + 253 samples for the paper's geometry.
		need := 160*(blk.First+int64(blk.Rows)-1) + 253
		mu.Lock()
		defer mu.Unlock()
		k := sort.Search(len(ends), func(i int) bool { return ends[i] >= need })
		if k == len(ends) {
			k = len(ends) - 1
		}
		if k >= 0 {
			lat = append(lat, now.Sub(fed[ends[k]]))
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	g, _ := synth.New(synth.DefaultConfig())
	src, _ := g.NewSource(synth.SourceConfig{Speakers: g.TrainSpeakers(), Chunk: 1600})
	ctx := context.Background()
	start := time.Now()
	var pos int64
	for pos < int64(seconds*16000) {
		blk, err := src.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		// One endless stream, paced in real time.
		blk.Stream, blk.First, blk.End = "live", pos, false
		pos += int64(blk.Rows)
		if d := time.Until(start.Add(time.Duration(float64(pos) / 16000 * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
		mu.Lock()
		fed[pos] = time.Now()
		ends = append(ends, pos)
		mu.Unlock()
		if err := p.Feed(ctx, blk, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 {
		b.Fatal("no top-layer frames arrived")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	st := p.Stats()
	var sk, all int64
	for _, s := range st {
		sk += s.Skipped
		all += s.Blocks
	}
	return lat[len(lat)/2], lat[len(lat)*99/100], float64(sk) / float64(max(all, 1))
}
