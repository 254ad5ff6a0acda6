package actors

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"clapp/stream/frame"
	"clapp/stream/natsbus"
)

// TestControlOverNATS drives a pipeline through clapp.RUN.control on a
// real embedded NATS server: freeze and unfreeze a layer and all of them,
// force a night, take a snapshot, read the statistics, and get clear
// errors for requests that make no sense.
func TestControlOverNATS(t *testing.T) {
	srv, err := natsbus.StartServer(natsbus.ServerConfig{Port: natsbus.RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := natsbus.Connect(natsbus.ConnConfig{URL: srv.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	p, err := New(Config{Encoder: testEncoder(t, 3), Night: NightPolicy{Kind: NightControl}, Batch: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dir := t.TempDir()
	saved := ""
	ctl := &Controller{P: p, Save: func(ctx context.Context) (string, error) {
		ck, _, err := p.Snapshot(ctx)
		if err != nil {
			return "", err
		}
		saved = filepath.Join(dir, "ck.safetensors")
		return saved, ck.Save(saved)
	}}
	sub, err := ctl.Serve(nc, "ctl")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ask := func(req string) ControlReply {
		t.Helper()
		data, err := natsbus.Request(ctx, nc, "ctl", []byte(req))
		if err != nil {
			t.Fatal(err)
		}
		var rep ControlReply
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatalf("reply to %s is not JSON: %v", req, err)
		}
		return rep
	}
	if err := p.Run(ctx, synthSource(t, 4, 2)); err != nil {
		t.Fatal(err)
	}
	if rep := ask(`{"op":"freeze","layer":3}`); !rep.OK {
		t.Fatalf("freeze: %+v", rep)
	}
	waitUntil(t, func() bool { return p.Stats()[2].FrozenNow })
	if p.Stats()[1].FrozenNow {
		t.Error("freezing layer 3 froze layer 2")
	}
	if rep := ask(`{"op":"freeze"}`); !rep.OK || !rep.Paused {
		t.Fatalf("global freeze: %+v", rep)
	}
	if rep := ask(`{"op":"unfreeze"}`); !rep.OK || rep.Paused {
		t.Fatalf("unfreeze: %+v", rep)
	}
	waitUntil(t, func() bool { return !p.Stats()[2].FrozenNow })
	if rep := ask(`{"op":"night"}`); !rep.OK {
		t.Fatalf("night: %+v", rep)
	}
	waitUntil(t, func() bool {
		for _, s := range p.Stats() {
			if s.Nights == 0 {
				return false
			}
		}
		return true
	})
	rep := ask(`{"op":"snapshot"}`)
	if !rep.OK || rep.Checkpoint == "" || rep.Checkpoint != saved {
		t.Fatalf("snapshot: %+v", rep)
	}
	rep = ask(`{"op":"stats"}`)
	if !rep.OK || len(rep.Stats) != 6 || rep.Stats[5].Frames == 0 {
		t.Fatalf("stats: %+v", rep)
	}
	for req, want := range map[string]string{
		`{"op":"explode"}`:          "unknown control op",
		`not json`:                  "not JSON",
		`{"op":"freeze","layer":9}`: "layer 9",
	} {
		if rep := ask(req); rep.OK || !strings.Contains(rep.Error, want) {
			t.Errorf("%s: reply %+v, want an error saying %q", req, rep, want)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBadInputRejected: a block with NaN, or of the wrong width, is
// counted and dropped before it reaches a weight; the stream goes on.
func TestBadInputRejected(t *testing.T) {
	p, err := New(Config{Encoder: testEncoder(t, 4), Night: NightPolicy{Kind: NightNever}, Batch: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	p.Freeze(0, true)
	before, _, err := p.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Freeze(0, false)
	bad := make([]float32, 1600)
	bad[7] = float32(math.NaN())
	wide := make([]float32, 3200)
	for _, b := range []frame.Block{
		{Stream: "s", Layer: 0, Rows: 1600, Cols: 1, Data: bad, Rate: 16000},
		{Stream: "s", Layer: 0, Rows: 1600, Cols: 2, Data: wide, Rate: 16000},
		{Stream: "s", Layer: 0, Rows: 1600, Cols: 1, Data: make([]float32, 1600), Rate: 8000},
	} {
		if err := p.Feed(ctx, b, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	after, _, err := p.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Stats()[0].BadInput; n != 3 {
		t.Errorf("layer 1 counted %d bad blocks, want 3", n)
	}
	if d := maxDiff(flattenParams(before.Encoder.LayerParams(1)), flattenParams(after.Encoder.LayerParams(1))); d != 0 {
		t.Errorf("rejected blocks changed layer 1's weights by %g", d)
	}
	// The stream goes on with good blocks.
	good := make([]float32, 16000)
	for i := range good {
		good[i] = float32(math.Sin(float64(i) / 7))
	}
	if err := p.Feed(ctx, frame.Block{Stream: "s", Layer: 0, Rows: 16000, Cols: 1, Data: good, Rate: 16000, End: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Stats()[5].Frames == 0 {
		t.Error("no frames after the bad blocks")
	}
}

// TestStreamStartedFrozen: a stream that starts while learning is frozen
// runs without learning state (the GRU without e-prop traces) and learns
// from its next block when learning resumes in its middle, its frames
// going on as if nothing had happened.
func TestStreamStartedFrozen(t *testing.T) {
	p, err := New(Config{Encoder: testEncoder(t, 4), Night: NightPolicy{Kind: NightNever}, Batch: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	block := func(stream string, end bool) {
		t.Helper()
		x := audioOf(stream)
		if err := p.Feed(ctx, frame.Block{Stream: stream, Rows: len(x), Cols: 1, Data: x, Rate: 16000, End: end}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := p.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	top := func() LayerStats { return p.Stats()[5] }
	var gru []float32 // layer 6's frames of stream a
	if _, err := p.Tap(6, func(b *frame.Block, _ time.Time) {
		if b.Stream == "a" {
			gru = append(gru, b.Data...)
		}
	}); err != nil {
		t.Fatal(err)
	}
	e := testEncoder(t, 4) // the weights before any learning
	p.Freeze(0, true)
	block("a", false)
	p.Freeze(0, false)
	block("a", false)
	// Up to here every frame was computed before the first update: the
	// GRU's frames are the encoder's, with no jump where learning resumed.
	x := make([]float32, 0, 32000)
	for range 2 {
		x = append(x, audioOf("a")...)
	}
	want := e.Encode(x)[5]
	if d := maxAbsDiff(gru, want[:min(len(gru), len(want))]); len(gru) == 0 || d > 1e-5 {
		t.Errorf("GRU frames of the resumed stream: %d values, max difference from Encode %g", len(gru), d)
	}
	block("a", true)
	if s := top(); s.Learned != 2 || s.Frozen != 1 {
		t.Fatalf("stream started frozen, unfrozen in its middle: the GRU learned from %d blocks and skipped %d, want 2 and 1", s.Learned, s.Frozen)
	}
}

// audioOf is one second of a tone for stream id.
func audioOf(stream string) []float32 {
	x := make([]float32, 16000)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)/7 + float64(len(stream))))
	}
	return x
}
