package natsbus

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"clapp/stream/frame"
)

func TestAudioSource(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{})
	nc := connect(t, srv)
	src, err := NewSource(nc, "r1", SubscriberConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSource(nc, "bad run", SubscriberConfig{}); !errors.Is(err, frame.ErrSubject) {
		t.Errorf("bad run name: %v", err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	audio := subj(frame.AudioSubject("r1"))
	publish := func(b frame.Block) {
		t.Helper()
		h, p, err := frame.Encode(&b)
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.PublishMsg(&nats.Msg{Subject: audio, Header: h, Data: p}); err != nil {
			t.Fatal(err)
		}
	}
	var want []frame.Block
	for i := 0; i < 5; i++ {
		b := audioBlock(rng, "utt", int64(1600*i), 1600)
		b.End = i == 4
		want = append(want, b)
		publish(b)
		switch i {
		case 1: // declared at 8 kHz: no way to convert
			bad := b
			bad.Rate = 8000
			publish(bad)
		case 2: // two columns: not mono audio
			bad := testBlock(rng, "utt", frame.AudioLayer, 0, 800, 2, frame.SampleRate)
			publish(bad)
		case 3: // rows that contradict the payload
			h, p, _ := frame.Encode(&b)
			h[frame.HeaderRows] = []string{"1601"}
			if err := nc.PublishMsg(&nats.Msg{Subject: audio, Header: h, Data: p}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A frame of layer 1 published on the audio subject.
	l1 := testBlock(rng, "utt", 1, 0, 2, 4, 3200)
	publish(l1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, w := range want {
		b, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if !sameBlock(b, w) {
			t.Fatalf("block %d: got %+v", i, b)
		}
	}
	waitFor(t, 5*time.Second, "rejections", func() bool { return src.Stats().Decode.Rejected() == 4 })
	s := src.Stats().Decode
	if s.Rate != 1 || s.Mismatch != 2 || s.PayloadSize != 1 || s.Decoded != 5 {
		t.Errorf("decode stats %+v", s)
	}

	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := src.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next with nothing to read: %v", err)
	}
	publish(want[0]) // buffered, then closed: EOF, not the block
	waitFor(t, 5*time.Second, "last block", func() bool { return src.Stats().Delivered == 6 })
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(ctx); err != io.EOF {
		t.Errorf("Next after Close: %v", err)
	}
}

// TestNextUnblocksOnClose: a Next waiting for a block returns io.EOF when
// the source is closed from another goroutine.
func TestNextUnblocksOnClose(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{})
	src, err := NewSource(connect(t, srv), "r1", SubscriberConfig{})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := src.Next(context.Background())
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != io.EOF {
			t.Errorf("Next: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next still blocked after Close")
	}
}
