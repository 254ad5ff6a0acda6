package actors

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
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

// TestPipelineSmoke runs every night policy over the same synthetic
// speech and checks what comes out: nothing rejected or restarted, every
// block learned from, nights only where the policy has them, and no night
// left running at the end. The dreamer case has a night
// due on every block, so the next night often comes while the dreamer is
// still replaying the last: the layer must stop it before finishing the
// night itself (.ci/run runs this under -race).
func TestPipelineSmoke(t *testing.T) {
	cases := []struct {
		name, night string
		batch       int
		dreamer     bool
	}{
		{"never", "never", 4, false},
		{"every:8", "every:8", 4, false},
		{"alternate", "alternate", 4, false},
		{"dreamer", "every:1", 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			np, err := ParseNight(tc.night)
			if err != nil {
				t.Fatal(err)
			}
			p, err := New(Config{Encoder: testEncoder(t, 1), Night: np, Batch: tc.batch, LR: 2e-4, Seed: 3, Dreamer: tc.dreamer})
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
				if s.Restarts != 0 || s.BadInput != 0 || s.Refused != 0 {
					t.Errorf("layer %d: %d restarts, %d bad input, %d refused updates; want none", s.Layer, s.Restarts, s.BadInput, s.Refused)
				}
				if s.Blocks == 0 || s.Learned != s.Blocks {
					t.Errorf("layer %d: learned from %d of %d blocks", s.Layer, s.Learned, s.Blocks)
				}
				if dayNight := np.Kind == NightEvery; dayNight != (s.Nights > 0) || dayNight != (s.Replayed > 0) {
					t.Errorf("layer %d: %d nights, %d negatives replayed under night %s", s.Layer, s.Nights, s.Replayed, tc.night)
				}
				// With every:N the negatives of the last blocks wait for a
				// night that has not come; with every:1 none may wait.
				if s.Night || (np.Kind == NightEvery && np.Every == 1 && s.MemoryRecords != 0) {
					t.Errorf("layer %d: night in progress %v, %d records left at the end of the run", s.Layer, s.Night, s.MemoryRecords)
				}
			}
		})
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

// TestRecycledFrames checks the recycling of block buffers between layers
// by what comes out: with learning frozen, the frames that a tapped layer
// emits (kept by the tap until the end, so a recycled tapped buffer would
// show later frames) and those of a layer fed through untapped, recycled
// links are exactly the frames Encoder.Encode computes from each stream's
// audio.
func TestRecycledFrames(t *testing.T) {
	e := testEncoder(t, 2)
	p, err := New(Config{Encoder: e, Night: NightPolicy{Kind: NightNever}, Batch: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Freeze(0, true); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		kept []keptBlock
	)
	got := map[int]map[string][]float32{1: {}, 4: {}, 6: {}}
	for n := range got {
		if _, err := p.Tap(n, func(b *frame.Block, _ time.Time) {
			mu.Lock()
			defer mu.Unlock()
			got[n][b.Stream] = append(got[n][b.Stream], b.Data...)
			if n == 1 {
				kept = append(kept, keptBlock{b, append([]float32(nil), b.Data...)})
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := synthSource(t, 6, 3)
	audio := map[string][]float32{}
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		audio[b.Stream] = append(audio[b.Stream], b.Data...)
		if err := p.Feed(ctx, b, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, k := range kept {
		if !slices.Equal(k.b.Data, k.data) {
			t.Fatalf("a tapped block of stream %s changed after it was emitted: its buffer was recycled", k.b.Stream)
		}
	}
	if len(audio) != 6 {
		t.Fatalf("%d streams", len(audio))
	}
	for id, x := range audio {
		want := e.Encode(x)
		for n, byStream := range got {
			if d := maxAbsDiff(byStream[id], want[n-1]); len(byStream[id]) != len(want[n-1]) || d > 1e-5 {
				t.Errorf("stream %s layer %d: %d values, Encode gives %d; max difference %g", id, n, len(byStream[id]), len(want[n-1]), d)
			}
		}
	}
}

type keptBlock struct {
	b    *frame.Block
	data []float32
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range min(len(a), len(b)) {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
