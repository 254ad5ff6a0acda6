package natsbus

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"clapp/stream/frame"
)

// record starts recording run, publishes n audio blocks of rows samples
// each (stream "utt-<k>" changes every perStream blocks) and waits until
// JetStream holds them all.
func record(t *testing.T, nc *nats.Conn, run string, n, rows, perStream int) []frame.Block {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := RecordAudio(ctx, nc, run, RecordConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(nc, PublisherConfig{})
	rng := rand.New(rand.NewPCG(13, uint64(n)))
	var sent []frame.Block
	for i := 0; i < n; i++ {
		k := i / perStream
		b := audioBlock(rng, "utt-"+string(rune('a'+k)), int64(rows*(i%perStream)), rows)
		b.End = i%perStream == perStream-1
		sent = append(sent, b)
		if err := pub.Publish(subj(frame.AudioSubject(run)), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "recorded blocks", func() bool {
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs == uint64(n)
	})
	return sent
}

func TestRecordAudioIdempotent(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{StoreDir: t.TempDir()})
	nc := connect(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		st, err := RecordAudio(ctx, nc, "r1", RecordConfig{MaxAge: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Name != "clapp_r1_audio" || info.Config.Storage != jetstream.FileStorage || len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != "clapp.r1.audio" {
			t.Fatalf("stream config %+v", info.Config)
		}
	}
	if _, err := NewReplay(ctx, nc, "r2", ReplayConfig{}); err == nil {
		t.Error("replay of a run never recorded")
	}
	// Without JetStream, recording fails with an error, not a hang.
	plain := startServer(t, ServerConfig{})
	if _, err := RecordAudio(ctx, connect(t, plain), "r1", RecordConfig{}); err == nil {
		t.Error("recording without JetStream")
	}
}

func TestRecordThenReplayFast(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{StoreDir: t.TempDir()})
	nc := connect(t, srv)
	sent := record(t, nc, "r1", 50, 1600, 20)
	// A bad frame recorded among them is skipped and counted.
	bad := sent[0]
	h, p, _ := frame.Encode(&bad)
	h[frame.HeaderRate] = []string{"22050"}
	if err := nc.PublishMsg(&nats.Msg{Subject: "clapp.r1.audio", Header: h, Data: p}); err != nil {
		t.Fatal(err)
	}
	extra := audioBlock(rand.New(rand.NewPCG(1, 1)), "utt-z", 0, 160)
	hx, px, _ := frame.Encode(&extra)
	if err := nc.PublishMsg(&nats.Msg{Subject: "clapp.r1.audio", Header: hx, Data: px}); err != nil {
		t.Fatal(err)
	}
	sent = append(sent, extra)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := NewReplay(ctx, nc, "r1", ReplayConfig{Durable: "fast"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i, w := range sent {
		b, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if !sameBlock(b, w) {
			t.Fatalf("block %d: got %s/%d, want %s/%d", i, b.Stream, b.First, w.Stream, w.First)
		}
	}
	if _, err := r.Next(ctx); err != io.EOF {
		t.Fatalf("after the last block: %v", err)
	}
	if s := r.Stats(); s.Delivered != uint64(len(sent)) || s.Decode.Rate != 1 || s.Duplicates != 0 {
		t.Errorf("stats %+v", s)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(ctx); err != io.EOF {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestReplayPaced(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{StoreDir: t.TempDir()})
	nc := connect(t, srv)
	// Two streams of 6 blocks of 100 ms: each takes 0.5 s from its first
	// block to its last.
	sent := record(t, nc, "r1", 12, 1600, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := NewReplay(ctx, nc, "r1", ReplayConfig{Durable: "paced", Paced: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	start := time.Now()
	for i := range sent {
		b, err := r.Next(ctx)
		if err != nil || !sameBlock(b, sent[i]) {
			t.Fatalf("block %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	if elapsed < 900*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("two streams of 0.5 s paced in %v, want about 1 s", elapsed)
	}
	t.Logf("paced replay: %v", elapsed)

	// Interrupted pacing keeps the block for the next call.
	r2, err := NewReplay(ctx, nc, "r1", ReplayConfig{Durable: "paced2", Paced: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if b, err := r2.Next(ctx); err != nil || !sameBlock(b, sent[0]) {
		t.Fatalf("first block: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	if _, err := r2.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("interrupted pacing: %v", err)
	}
	if b, err := r2.Next(ctx); err != nil || !sameBlock(b, sent[1]) {
		t.Fatalf("block after interruption: %+v, %v", b.First, err)
	}
}

// TestReplayResumesAfterServerRestart restarts the JetStream server with
// the same store directory in the middle of a replay: the replay carries
// on at its place. Then a new Replay of the same durable (a restarted
// process) resumes where the first stopped.
func TestReplayResumesAfterServerRestart(t *testing.T) {
	for _, prefetch := range []int{1, 4, 64} {
		t.Run("prefetch="+strconv.Itoa(prefetch), func(t *testing.T) { replayAcrossRestart(t, prefetch) })
	}
}

func replayAcrossRestart(t *testing.T, prefetch int) {
	checkNoLeak(t)
	cfg := ServerConfig{StoreDir: t.TempDir(), Port: RandomPort}
	srv := startServer(t, cfg)
	nc := connect(t, srv)
	sent := record(t, nc, "r1", 40, 800, 40)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rc := ReplayConfig{Durable: "train", Prefetch: prefetch, PollWait: 200 * time.Millisecond}
	r, err := NewReplay(ctx, nc, "r1", rc)
	if err != nil {
		t.Fatal(err)
	}
	next := func(r *Replay, i int) {
		t.Helper()
		b, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if !sameBlock(b, sent[i]) {
			t.Fatalf("block %d: got first=%d, want %d", i, b.First, sent[i].First)
		}
	}
	for i := 0; i < 15; i++ {
		next(r, i)
	}
	srv = restart(t, srv, cfg)
	for i := 15; i < 25; i++ {
		next(r, i)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// A restarted process: a new Replay of the same durable.
	r2, err := NewReplay(ctx, nc, "r1", rc)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	for i := 25; i < 32; i++ {
		next(r2, i)
	}
	// A crashed process, and the server restarted with it: r2 is dropped
	// without Close while holding block 31, unfinished. r3 starts there, or
	// a little before when the server lost r2's last acknowledgements
	// (sent without waiting): never after it, never at the start.
	srv = restart(t, srv, cfg)
	r3, err := NewReplay(ctx, nc, "r1", rc)
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	b, err := r3.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k := int(b.First / 800)
	if k < 25 || k > 31 || !sameBlock(b, sent[k]) {
		t.Fatalf("after the crash, resumed at block %d (first=%d), want 25..31", k, b.First)
	}
	for i := k + 1; i < 40; i++ {
		next(r3, i)
	}
	if _, err := r3.Next(ctx); err != io.EOF {
		t.Fatalf("after the last block: %v", err)
	}
	t.Logf("r %+v, r2 %+v, r3 %+v", r.Stats(), r2.Stats(), r3.Stats())
}

// TestReplayFollow waits for blocks recorded after it started.
func TestReplayFollow(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{StoreDir: t.TempDir()})
	nc := connect(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := RecordAudio(ctx, nc, "r1", RecordConfig{}); err != nil {
		t.Fatal(err)
	}
	empty, err := NewReplay(ctx, nc, "r1", ReplayConfig{Durable: "once"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Next(ctx); err != io.EOF {
		t.Errorf("empty recording: %v", err)
	}
	empty.Close()
	r, err := NewReplay(ctx, nc, "r1", ReplayConfig{Durable: "live", Follow: true, PollWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan frame.Block, 1)
	go func() {
		b, err := r.Next(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	time.Sleep(300 * time.Millisecond) // a few empty polls
	b := audioBlock(rand.New(rand.NewPCG(2, 2)), "late", 0, 160)
	h, p, _ := frame.Encode(&b)
	if err := nc.PublishMsg(&nats.Msg{Subject: "clapp.r1.audio", Header: h, Data: p}); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-got:
		if !sameBlock(g, b) {
			t.Fatalf("got %+v", g)
		}
	case <-ctx.Done():
		t.Fatal("followed block never came")
	}
}

// TestReplayRecoversLostDeliveries makes deliveries get lost the way a
// server restart or a crashed client of the same durable loses them: a
// rogue client fetches blocks of the durable and drops them. The replay
// must still hand out every block in order, without waiting for AckWait.
func TestReplayRecoversLostDeliveries(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{StoreDir: t.TempDir()})
	nc, rogueConn := connect(t, srv), connect(t, srv)
	sent := record(t, nc, "r1", 30, 160, 30)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	js, err := jetstream.New(rogueConn)
	if err != nil {
		t.Fatal(err)
	}
	steal := func(durable string, n int) {
		t.Helper()
		c, err := js.Consumer(ctx, "clapp_r1_audio", durable)
		if err != nil {
			t.Fatal(err)
		}
		batch, err := c.Fetch(n, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for range batch.Messages() {
			got++ // dropped without acknowledgement: a lost delivery
		}
		if got == 0 {
			t.Fatalf("rogue got nothing from %s: %v", durable, batch.Error())
		}
	}
	const ackWait = time.Minute // far longer than the test may take
	for _, tc := range []struct {
		name string
		// stealAfter blocks handed out, the rogue takes what it can.
		stealAfter int
	}{
		// Before the first fetch: the rogue holds every slot, nothing is
		// delivered until the replay notices and resets.
		{"nothing-delivered", 0},
		// Mid-way: the replay sees a gap in the sequence.
		{"gap", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r, err := NewReplay(ctx, nc, "r1", ReplayConfig{Durable: tc.name, Prefetch: 4, AckWait: ackWait, PollWait: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if tc.stealAfter == 0 {
				steal(tc.name, 5)
			}
			for i := range sent {
				if i == tc.stealAfter && i > 0 {
					steal(tc.name, 5)
				}
				b, err := r.Next(ctx)
				if err != nil {
					t.Fatalf("block %d: %v", i, err)
				}
				if !sameBlock(b, sent[i]) {
					t.Fatalf("block %d: got first=%d, want %d", i, b.First, sent[i].First)
				}
			}
			if _, err := r.Next(ctx); err != io.EOF {
				t.Fatalf("after the last block: %v", err)
			}
			if el := time.Since(start); el > ackWait/2 {
				t.Errorf("took %v: waited for AckWait", el)
			}
			if s := r.Stats(); s.Resets == 0 || s.Delivered != uint64(len(sent)) {
				t.Errorf("stats %+v", s)
			}
		})
	}
}
