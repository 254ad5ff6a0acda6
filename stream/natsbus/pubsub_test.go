package natsbus

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"clapp/stream/frame"
)

func TestPublishSubscribeRoundTrip(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{})
	pubConn, subConn := connect(t, srv), connect(t, srv)
	rng := rand.New(rand.NewPCG(1, 2))

	sub, err := SubscribeChan(subConn, subj(frame.AllLayersSubject("r1")), SubscriberConfig{ChanLen: 256})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var got []frame.Block
	cb, err := Subscribe(subConn, "clapp.r1.>", SubscriberConfig{}, func(b frame.Block) { got = append(got, b) })
	if err != nil {
		t.Fatal(err)
	}
	raw, err := subConn.SubscribeSync("clapp.r1.layer.2")
	if err != nil {
		t.Fatal(err)
	}
	if err := subConn.Flush(); err != nil {
		t.Fatal(err)
	}

	pub := NewPublisher(pubConn, PublisherConfig{})
	var sent []frame.Block
	for i := 0; i < 30; i++ {
		layer := 1 + i%3
		b := testBlock(rng, "utt-1", layer, int64(i), 1+i%4, 512, 100)
		b.Model, b.End = "m7", i == 29
		sent = append(sent, b)
		if err := pub.Publish(subj(frame.BlockSubject("r1", layer)), b); err != nil {
			t.Fatal(err)
		}
		b.Data[2] = 42 // the publisher copied the data
	}
	audio := audioBlock(rng, "utt-1", 0, 160)
	if err := pub.Publish(subj(frame.AudioSubject("r1")), audio); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if s := pub.Stats(); s.Published != 31 || s.Dropped != 0 || s.EncodeErrors != 0 || s.PublishErrors != 0 {
		t.Fatalf("publisher stats %+v", s)
	}
	// Fix the copies kept in sent: Publish copied the data before b.Data[2] changed.
	for i := range sent {
		sent[i].Data[2] = 0
	}
	for i := 0; i < 30; i++ {
		select {
		case b := <-sub.C():
			want := sent[i]
			want.Data[2] = b.Data[2] // checked below: must not be 42
			if !sameBlock(b, want) || b.Data[2] == 42 {
				t.Fatalf("block %d: got %+v, want %+v", i, b, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("block %d not received", i)
		}
	}
	m, err := raw.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		frame.HeaderStream: "utt-1", frame.HeaderFirst: "1", frame.HeaderRows: "2", frame.HeaderCols: "512",
		frame.HeaderDtype: "f32le", frame.HeaderLayer: "2", frame.HeaderRate: "100", frame.HeaderModel: "m7",
	} {
		if m.Header.Get(k) != v {
			t.Errorf("raw header %s = %q, want %q", k, m.Header.Get(k), v)
		}
	}
	if len(m.Data) != 2*512*4 || math.Float32frombits(uint32(m.Data[4])|uint32(m.Data[5])<<8|uint32(m.Data[6])<<16|uint32(m.Data[7])<<24) != math.SmallestNonzeroFloat32 {
		t.Errorf("raw payload of %d bytes", len(m.Data))
	}
	waitFor(t, 10*time.Second, "callback subscriber", func() bool { return cb.Stats().Delivered == 31 })
	if err := cb.Close(); err != nil {
		t.Fatal(err)
	}
	if !sameBlock(got[30], audio) || !got[29].End {
		t.Error("callback subscriber got wrong blocks")
	}
	if s := sub.Stats(); s.Delivered != 30 || s.Decode.Decoded != 30 || s.Decode.Rejected() != 0 || s.Dropped != 0 {
		t.Errorf("subscriber stats %+v", s)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-sub.C(); ok {
		t.Error("channel open after Close")
	}
	if err := pub.Publish("clapp.r1.layer.1", sent[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
}

func TestPublishRejectsInvalid(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{})
	pub := NewPublisher(connect(t, srv), PublisherConfig{})
	defer pub.Close()
	nan := frame.Block{Stream: "s", Layer: 1, Rows: 1, Cols: 2, Rate: 3200, Data: []float32{1, float32(math.NaN())}}
	if err := pub.Publish("clapp.r1.layer.1", nan); !errors.Is(err, frame.ErrNonFinite) {
		t.Errorf("NaN block: %v", err)
	}
	ok := frame.Block{Stream: "s", Layer: 1, Rows: 1, Cols: 2, Rate: 3200, Data: []float32{1, 2}}
	for _, s := range []string{"", "clapp.r1.layer.*", "clapp.>", "a..b", "a b"} {
		if err := pub.Publish(s, ok); !errors.Is(err, ErrSubject) {
			t.Errorf("subject %q: %v", s, err)
		}
	}
	if s := pub.Stats(); s.EncodeErrors != 6 || s.Published != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestBadFramesCountedAndSkipped publishes malformed frames raw, between
// good ones: the subscriber skips and counts them and goes on.
func TestBadFramesCountedAndSkipped(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{})
	nc := connect(t, srv)
	sub, err := SubscribeChan(nc, "clapp.r1.layer.*", SubscriberConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	good := testBlock(rng, "u", 1, 0, 2, 8, 3200)
	h, p, err := frame.Encode(&good)
	if err != nil {
		t.Fatal(err)
	}
	clone := func() nats.Header {
		c := nats.Header{}
		for k, v := range h {
			c[k] = append([]string(nil), v...)
		}
		return c
	}
	publish := func(subject string, h nats.Header, data []byte) {
		if err := nc.PublishMsg(&nats.Msg{Subject: subject, Header: h, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	publish("clapp.r1.layer.1", h, p)
	publish("clapp.r1.layer.1", nil, p) // no headers at all
	noRows := clone()
	delete(noRows, frame.HeaderRows)
	publish("clapp.r1.layer.1", noRows, p)
	nan := append([]byte(nil), p...)
	copy(nan[4:], []byte{0, 0, 0xc0, 0x7f})
	publish("clapp.r1.layer.1", h, nan)
	publish("clapp.r1.layer.1", h, p[:len(p)-4])
	publish("clapp.r1.layer.2", h, p) // layer 1 block on layer 2's subject
	f16 := clone()
	f16.Set(frame.HeaderDtype, "f16le")
	publish("clapp.r1.layer.1", f16, p)
	publish("clapp.r1.layer.1", h, p)

	for i := 0; i < 2; i++ {
		select {
		case b := <-sub.C():
			if !sameBlock(b, good) {
				t.Fatalf("got %+v", b)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("good frame not received")
		}
	}
	select {
	case b := <-sub.C():
		t.Fatalf("unexpected block %+v", b)
	case <-time.After(100 * time.Millisecond):
	}
	s := sub.Stats().Decode
	want := frame.DecodeStats{Decoded: 2, MissingHeader: 2, NonFinite: 1, PayloadSize: 1, Mismatch: 1, Dtype: 1}
	if s != want {
		t.Errorf("decode stats %+v, want %+v", s, want)
	}
}

// TestPublisherNeverBlocksWithoutServer publishes into a connection whose
// server is gone: every call returns, and what cannot be kept is dropped
// and counted. The time bound is generous: it catches blocking, it does
// not claim speed.
func TestPublisherNeverBlocksWithoutServer(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{})
	nc := connect(t, srv, func(c *ConnConfig) { c.ReconnectBufSize = 256 << 10 })
	pub := NewPublisher(nc, PublisherConfig{QueueLen: 64})
	srv.Shutdown()
	waitFor(t, 10*time.Second, "disconnect", func() bool { return !nc.IsConnected() })

	rng := rand.New(rand.NewPCG(5, 6))
	b := testBlock(rng, "u", 5, 0, 1, 512, 100)
	const n = 20000
	start := time.Now()
	var slowest time.Duration
	for i := 0; i < n; i++ {
		b.First = int64(i)
		t0 := time.Now()
		err := pub.Publish("clapp.r1.layer.5", b)
		slowest = max(slowest, time.Since(t0))
		if err != nil && !errors.Is(err, ErrQueueFull) {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	if elapsed > 20*time.Second || slowest > 5*time.Second {
		t.Fatalf("%d publishes took %v, the slowest %v: Publish blocked", n, elapsed, slowest)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	s := pub.Stats()
	if s.Dropped == 0 || s.Published+s.Dropped != n || s.EncodeErrors != 0 || s.PublishErrors != 0 {
		t.Fatalf("stats %+v", s)
	}
	// 256 KiB of reconnect buffer hold about 120 frames of 2 KiB.
	if s.Published > 200 {
		t.Errorf("%d frames published into a 256 KiB reconnect buffer", s.Published)
	}
	t.Logf("%d publishes in %v (slowest %v): %+v", n, elapsed, slowest, s)
}

// TestReconnectAfterServerRestart restarts the embedded server on the same
// port: publisher and subscriber carry on.
func TestReconnectAfterServerRestart(t *testing.T) {
	checkNoLeak(t)
	cfg := ServerConfig{Port: RandomPort}
	srv := startServer(t, cfg)
	pubConn, subConn := connect(t, srv), connect(t, srv)
	sub, err := SubscribeChan(subConn, "clapp.r1.layer.*", SubscriberConfig{ChanLen: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := subConn.Flush(); err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(pubConn, PublisherConfig{})
	defer pub.Close()
	rng := rand.New(rand.NewPCG(7, 8))
	before := testBlock(rng, "before", 3, 0, 1, 64, 100)
	if err := pub.Publish("clapp.r1.layer.3", before); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-sub.C():
		if !sameBlock(b, before) {
			t.Fatalf("got %+v", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received before the restart")
	}

	srv = restart(t, srv, cfg)
	_ = srv
	during := testBlock(rng, "during", 3, 0, 1, 64, 100)
	_ = pub.Publish("clapp.r1.layer.3", during) // buffered by nats.go or lost, either is fine
	waitFor(t, 20*time.Second, "both connections back", func() bool { return pubConn.IsConnected() && subConn.IsConnected() })

	after := testBlock(rng, "after", 3, 0, 1, 64, 100)
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			after.First++
			if err := pub.Publish("clapp.r1.layer.3", after); err != nil {
				t.Fatal(err)
			}
		case b := <-sub.C():
			if b.Stream == "after" {
				if s := pub.Stats(); s.PublishErrors != 0 || s.EncodeErrors != 0 {
					t.Errorf("publisher stats %+v", s)
				}
				return
			}
			if b.Stream != "during" {
				t.Fatalf("unexpected block %+v", b)
			}
		case <-deadline:
			t.Fatalf("no block after the restart; publisher %+v, subscriber %+v", pub.Stats(), sub.Stats())
		}
	}
}

// TestSlowConsumerDropsReported blocks the handler while frames pour in:
// nats.go drops beyond the pending limits and the subscriber reports it.
func TestSlowConsumerDropsReported(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{})
	subConn, pubConn := connect(t, srv), connect(t, srv)
	release := make(chan struct{})
	sub, err := Subscribe(subConn, "clapp.r1.layer.1", SubscriberConfig{PendingMsgs: 10, PendingBytes: 1 << 20}, func(frame.Block) { <-release })
	if err != nil {
		t.Fatal(err)
	}
	if err := subConn.Flush(); err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(pubConn, PublisherConfig{})
	rng := rand.New(rand.NewPCG(9, 10))
	b := testBlock(rng, "u", 1, 0, 1, 512, 3200)
	for i := 0; i < 200; i++ {
		b.First = int64(i)
		_ = pub.Publish("clapp.r1.layer.1", b)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	// One frame in the handler, at most 10 pending: the rest are dropped.
	waitFor(t, 10*time.Second, "slow consumer drops", func() bool { return sub.Stats().Dropped >= 180 })
	close(release)
	waitFor(t, 10*time.Second, "pending frames handled", func() bool {
		s := sub.Stats()
		return s.Delivered+uint64(s.Dropped) == 200
	})
	s := sub.Stats()
	if s.Delivered > 20 {
		t.Errorf("with 10 pending messages: %+v", s)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if sub.Stats().Dropped != s.Dropped {
		t.Error("Dropped lost after Close")
	}
}

func TestControlRequestReply(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{})
	a, b := connect(t, srv), connect(t, srv)
	sub, err := ServeControl(a, "r1", func(req []byte) []byte { return append([]byte("ok:"), req...) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := Request(ctx, b, "r1", []byte(`{"op":"status"}`))
	if err != nil || string(got) != `ok:{"op":"status"}` {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := Request(ctx, b, "r.1", nil); !errors.Is(err, frame.ErrSubject) {
		t.Errorf("bad run: %v", err)
	}
	if _, err := Request(ctx, b, "nobody", nil); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("no server: %v", err)
	}
}
