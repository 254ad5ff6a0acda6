package natsbus

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"clapp/stream/frame"
)

// BenchmarkPublishReceive publishes 10 ms frames of 512 channels through
// an embedded server to a subscriber on another connection, and reports
// frames per second received. The publisher is never allowed to drop:
// a full queue is retried, so the figure is the sustained rate.
func BenchmarkPublishReceive(b *testing.B) {
	b.Run("T=1_C=512", func(b *testing.B) {
		srv := startServer(b, ServerConfig{})
		pubConn, subConn := connect(b, srv), connect(b, srv)
		sub, err := SubscribeChan(subConn, "clapp.bench.layer.5", SubscriberConfig{PendingMsgs: 1 << 16, ChanLen: 1024})
		if err != nil {
			b.Fatal(err)
		}
		defer sub.Close()
		if err := subConn.Flush(); err != nil {
			b.Fatal(err)
		}
		pub := NewPublisher(pubConn, PublisherConfig{QueueLen: 4096})
		defer pub.Close()
		blk := testBlock(rand.New(rand.NewPCG(1, 1)), "bench", 5, 0, 1, 512, 100)
		done := make(chan int)
		b.ResetTimer()
		start := time.Now()
		go func() {
			n := 0
			for n < b.N {
				if _, ok := <-sub.C(); !ok {
					break
				}
				n++
			}
			done <- n
		}()
		for i := 0; i < b.N; i++ {
			blk.First = int64(i)
			for {
				err := pub.Publish("clapp.bench.layer.5", blk)
				if err == nil {
					break
				}
				if !errors.Is(err, ErrQueueFull) {
					b.Fatal(err)
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
		var n int
		select {
		case n = <-done:
		case <-time.After(60 * time.Second):
			b.Fatalf("received %d of %d; subscriber %+v", sub.Stats().Delivered, b.N, sub.Stats())
		}
		el := time.Since(start)
		b.ReportMetric(float64(n)/el.Seconds(), "frames/s")
		if s := sub.Stats(); s.Dropped != 0 {
			b.Fatalf("dropped %d", s.Dropped)
		}
	})
}

// BenchmarkLatency measures, one frame at a time, the time from Publish to
// the subscriber's channel on one machine, through the embedded server.
func BenchmarkLatency(b *testing.B) {
	b.Run("T=1_C=512", func(b *testing.B) {
		srv := startServer(b, ServerConfig{})
		pubConn, subConn := connect(b, srv), connect(b, srv)
		sub, err := SubscribeChan(subConn, "clapp.bench.layer.5", SubscriberConfig{})
		if err != nil {
			b.Fatal(err)
		}
		defer sub.Close()
		if err := subConn.Flush(); err != nil {
			b.Fatal(err)
		}
		pub := NewPublisher(pubConn, PublisherConfig{})
		defer pub.Close()
		blk := testBlock(rand.New(rand.NewPCG(1, 1)), "bench", 5, 0, 1, 512, 100)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			blk.First = int64(i)
			t0 := time.Now()
			if err := pub.Publish("clapp.bench.layer.5", blk); err != nil {
				b.Fatal(err)
			}
			select {
			case got := <-sub.C():
				lat = append(lat, time.Since(t0))
				if got.First != int64(i) {
					b.Fatalf("got frame %d, want %d", got.First, i)
				}
			case <-time.After(10 * time.Second):
				b.Fatal("frame lost")
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
		b.ReportMetric(q(0.5), "p50-µs")
		b.ReportMetric(q(0.99), "p99-µs")
	})
}

// BenchmarkReplay replays recorded 100 ms audio blocks as fast as
// possible (prefetching 64) and reports blocks per second.
func BenchmarkReplay(b *testing.B) {
	b.Run("T=1600_C=1", func(b *testing.B) {
		srv := startServer(b, ServerConfig{StoreDir: b.TempDir()})
		nc := connect(b, srv)
		ctx := context.Background()
		st, err := RecordAudio(ctx, nc, "bench", RecordConfig{})
		if err != nil {
			b.Fatal(err)
		}
		pub := NewPublisher(nc, PublisherConfig{QueueLen: b.N + 1})
		blk := audioBlock(rand.New(rand.NewPCG(1, 1)), "bench", 0, 1600)
		for i := 0; i < b.N; i++ {
			blk.First = int64(1600 * i)
			if err := pub.Publish(subj(frame.AudioSubject("bench")), blk); err != nil {
				b.Fatal(err)
			}
		}
		if err := pub.Close(); err != nil {
			b.Fatal(err)
		}
		waitFor(b, 60*time.Second, "recording", func() bool {
			info, err := st.Info(ctx)
			return err == nil && info.State.Msgs == uint64(b.N)
		})
		r, err := NewReplay(ctx, nc, "bench", ReplayConfig{})
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := r.Next(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "blocks/s")
	})
}
