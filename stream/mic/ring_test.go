package mic

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// ramp returns n samples whose values are their stream indexes from start.
func ramp(start, n int) []float32 {
	p := make([]float32, n)
	for i := range p {
		p[i] = float32(start + i)
	}
	return p
}

// checkRamp checks that a block holds the ramp values of its positions.
func checkRamp(t *testing.T, data []float32, first int64) {
	t.Helper()
	for i, v := range data {
		if v != float32(first+int64(i)) {
			t.Fatalf("sample %d of block at %d is %v", i, first, v)
		}
	}
}

// TestRingOrder: a producer goroutine writes in odd sizes while the
// consumer takes blocks; every sample arrives once, in order.
func TestRingOrder(t *testing.T) {
	r := newRing(1000)
	const total = 100000
	go func() {
		for at := 0; at < total; {
			n := min(total-at, 1+at%97)
			for {
				// Keep within capacity so nothing is dropped here.
				r.mu.Lock()
				room := len(r.buf) - r.n
				r.mu.Unlock()
				if room >= n {
					break
				}
				time.Sleep(50 * time.Microsecond)
			}
			r.put(ramp(at, n))
			at += n
		}
		r.finish(io.EOF)
	}()
	var next int64
	for {
		b, err := r.take(context.Background(), "s", 160, time.Minute)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.First != next || b.Rows != len(b.Data) || (b.Rows != 160 && !b.End) {
			t.Fatalf("block at %d of %d rows (end %v), want at %d", b.First, b.Rows, b.End, next)
		}
		checkRamp(t, b.Data, b.First)
		next += int64(b.Rows)
	}
	if next != total || r.dropped.Load() != 0 || r.captured.Load() != total {
		t.Errorf("got %d samples, dropped %d, captured %d; want %d, 0, %d", next, r.dropped.Load(), r.captured.Load(), total, total)
	}
}

// TestRingDropsOldest: a slow consumer loses the oldest samples; the loss is
// counted and shows as a jump in First.
func TestRingDropsOldest(t *testing.T) {
	r := newRing(1000)
	r.put(ramp(0, 700))
	if d := r.put(ramp(700, 700)); d != 400 {
		t.Errorf("dropped %d, want 400", d)
	}
	if d := r.put(ramp(1400, 2500)); d != 2500 {
		t.Errorf("dropped %d, want 2500", d)
	}
	// Held now: the last 1000 of 3900.
	b, err := r.take(context.Background(), "s", 600, time.Second)
	if err != nil || b.First != 2900 || b.Rows != 600 {
		t.Fatalf("block at %d of %d rows, %v; want at 2900 of 600", b.First, b.Rows, err)
	}
	checkRamp(t, b.Data, b.First)
	if got := r.dropped.Load(); got != 2900 {
		t.Errorf("dropped %d in all, want 2900", got)
	}
	if got := r.overruns.Load(); got != 2 {
		t.Errorf("%d overruns, want 2", got)
	}
}

// TestRingEnds: io.EOF yields the rest as an End block, then io.EOF; a
// device error yields the whole chunks, then the error; nothing coming
// yields ErrStalled after the stall time; a cancelled context returns.
func TestRingEnds(t *testing.T) {
	ctx := context.Background()
	r := newRing(1000)
	r.put(ramp(0, 250))
	r.finish(io.EOF)
	b1, _ := r.take(ctx, "s", 200, time.Second)
	b2, _ := r.take(ctx, "s", 200, time.Second)
	_, err := r.take(ctx, "s", 200, time.Second)
	if b1.Rows != 200 || b1.End || b2.Rows != 50 || !b2.End || b2.First != 200 || err != io.EOF {
		t.Errorf("EOF: %d rows end %v, %d rows end %v at %d, then %v", b1.Rows, b1.End, b2.Rows, b2.End, b2.First, err)
	}

	r = newRing(1000)
	r.put(ramp(0, 200))
	r.finish(io.EOF)
	// Exactly one chunk left at the end: it is the End block.
	b1, _ = r.take(ctx, "s", 200, time.Second)
	if _, err := r.take(ctx, "s", 200, time.Second); b1.Rows != 200 || !b1.End || err != io.EOF {
		t.Errorf("exact end: %d rows end %v, then %v", b1.Rows, b1.End, err)
	}

	r = newRing(1000)
	r.put(ramp(0, 450))
	lost := errors.New("gone")
	r.finish(lost)
	n := 0
	for {
		b, err := r.take(ctx, "s", 200, time.Second)
		if err != nil {
			if !errors.Is(err, lost) || n != 400 {
				t.Errorf("device error: %v after %d samples", err, n)
			}
			break
		}
		n += b.Rows
	}

	r = newRing(1000)
	r.put(ramp(0, 10))
	start := time.Now()
	_, err = r.take(ctx, "s", 200, 100*time.Millisecond)
	if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "unplugged") {
		t.Errorf("stall: %v after %v", err, time.Since(start))
	}

	r = newRing(1000)
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := r.take(cctx, "s", 200, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{{Chunk: -1}, {Buffer: 100, Chunk: 200}, {Stall: -time.Second}, {MaxSamples: -1}} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	c, err := Config{}.withDefaults()
	if err != nil || c.Chunk != DefaultChunk || c.Buffer != DefaultBuffer || c.Stall != DefaultStall || c.Stream != "mic" {
		t.Errorf("defaults %+v, %v", c, err)
	}
}
