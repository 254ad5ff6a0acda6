package dashboard

import (
	"errors"
	"math"
	"testing"
	"time"

	"clapp/stream/frame"
)

// block builds a block whose value at (row r, channel c) is f(First+r, c).
func block(stream string, first int64, rows, cols int, rate float64, end bool, f func(t int64, c int) float32) *frame.Block {
	b := &frame.Block{Stream: stream, Layer: 3, First: first, Rows: rows, Cols: cols, Rate: rate, End: end,
		Data: make([]float32, rows*cols)}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			b.Data[r*cols+c] = f(first+int64(r), c)
		}
	}
	return b
}

func TestGeometry(t *testing.T) {
	tests := []struct {
		channels, maxRows int
		rate, cps         float64
		want              Geometry
	}{
		{32, 64, 3200, 25, Geometry{Channels: 32, Group: 1, Rows: 32, Rate: 3200, FramesPerColumn: 128}},
		{512, 64, 100, 25, Geometry{Channels: 512, Group: 8, Rows: 64, Rate: 100, FramesPerColumn: 4}},
		{256, 64, 100, 25, Geometry{Channels: 256, Group: 4, Rows: 64, Rate: 100, FramesPerColumn: 4}},
		{100, 64, 400, 25, Geometry{Channels: 100, Group: 2, Rows: 50, Rate: 400, FramesPerColumn: 16}},
		{65, 64, 10, 25, Geometry{Channels: 65, Group: 2, Rows: 33, Rate: 10, FramesPerColumn: 1}},
		{5, 2, 30, 10, Geometry{Channels: 5, Group: 3, Rows: 2, Rate: 30, FramesPerColumn: 3}},
	}
	for _, tc := range tests {
		got := newGeometry(0, tc.channels, tc.rate, tc.maxRows, tc.cps)
		if got != tc.want {
			t.Errorf("newGeometry(%d channels, %g Hz, %d rows, %g/s) = %+v, want %+v", tc.channels, tc.rate, tc.maxRows, tc.cps, got, tc.want)
		}
		if got.Rows > tc.maxRows || got.Rows*got.Group < tc.channels || (got.Rows-1)*got.Group >= tc.channels {
			t.Errorf("%+v does not cover %d channels in at most %d rows", got, tc.channels, tc.maxRows)
		}
	}
}

// TestHeatmapPooling checks the pooled values against means computed
// here, for a ramp in time and channel.
func TestHeatmapPooling(t *testing.T) {
	ramp := func(tt int64, c int) float32 { return float32(tt) + 100*float32(c) }
	// 5 channels into rows of 3 and 2, 3 frames per column (30 Hz, 10
	// columns per second).
	h := newHeatmap(3, 2, 10)
	now := time.Unix(0, 0)
	m := h.add(block("a", 0, 7, 5, 30, false, ramp), now)
	if m == nil || m.cols != 2 || m.rows != 2 || !m.start || m.t != 0 {
		t.Fatalf("first block: %+v, want 2 columns of 2 rows starting stream a at 0", m)
	}
	want := func(t0, n int64, c0, k int) float64 { // mean of ramp over frames and channels
		s := 0.0
		for tt := t0; tt < t0+n; tt++ {
			for c := c0; c < c0+k; c++ {
				s += float64(ramp(tt, c))
			}
		}
		return s / float64(n) / float64(k)
	}
	check := func(m *columnsMsg, col int, t0, n int64) {
		t.Helper()
		for r, k := range []int{3, 2} {
			got := float64(m.lo) + float64(m.hi-m.lo)*float64(m.data[col*m.rows+r])/255
			w := want(t0, n, r*3, k)
			// Quantised to 1/255 of the range.
			if tol := float64(m.hi-m.lo) / 255; math.Abs(got-w) > tol {
				t.Errorf("column %d (frames %d-%d) row %d = %.2f, want %.2f +- %.2f", col, t0, t0+n-1, r, got, w, tol)
			}
		}
	}
	check(m, 0, 0, 3)
	check(m, 1, 3, 3)
	// Another stream's blocks are ignored while "a" flows.
	if m := h.add(block("b", 0, 9, 5, 30, false, ramp), now); m != nil {
		t.Errorf("block of another stream made %d columns", m.cols)
	}
	// Frame 6 is pending; 7..9 complete a column and leave 9 pending; the
	// end flushes 9..10 as a partial column.
	m = h.add(block("a", 7, 2, 5, 30, false, ramp), now)
	if m == nil || m.cols != 1 || m.start || math.Abs(m.t-0.2) > 1e-9 {
		t.Fatalf("second block: %+v, want 1 column at 0.2 s", m)
	}
	check(m, 0, 6, 3)
	m = h.add(block("a", 9, 2, 5, 30, true, ramp), now)
	if m == nil || m.cols != 1 || math.Abs(m.t-0.3) > 1e-9 {
		t.Fatalf("last block: %+v, want the partial column at 0.3 s", m)
	}
	check(m, 0, 9, 2)
	// After the end, the next stream is followed and marked.
	m = h.add(block("b", 30, 3, 5, 30, false, ramp), now)
	if m == nil || !m.start || m.t != 1 {
		t.Fatalf("next stream: %+v, want a start column at 1 s", m)
	}
	if h.columns != 5 {
		t.Errorf("%d columns counted, want 5", h.columns)
	}
}

func TestHeatmapFollowsAnotherStreamWhenQuiet(t *testing.T) {
	one := func(int64, int) float32 { return 1 }
	h := newHeatmap(1, 64, 25)
	t0 := time.Unix(100, 0)
	h.add(block("a", 0, 4, 8, 100, false, one), t0)
	if m := h.add(block("b", 0, 4, 8, 100, false, one), t0.Add(switchAfter/2)); m != nil || h.stream != "a" {
		t.Fatalf("switched to b while a was recent (following %q)", h.stream)
	}
	m := h.add(block("b", 4, 4, 8, 100, false, one), t0.Add(switchAfter+time.Millisecond))
	if h.stream != "b" || m == nil || !m.start {
		t.Fatalf("still following %q after a was quiet for %v (columns %+v)", h.stream, switchAfter, m)
	}
}

// TestHeatmapRange checks the colour range: it always includes 0, holds
// a peak and lets go of it slowly, and quantises the extremes to 0 and 255.
func TestHeatmapRange(t *testing.T) {
	h := newHeatmap(1, 64, 25)
	level := float32(4)
	f := func(tt int64, c int) float32 { return level * float32(c) / 7 }
	m := h.add(block("a", 0, 4, 8, 100, false, f), time.Now())
	if m.lo != 0 || m.hi != 4 || m.data[0] != 0 || m.data[7] != 255 {
		t.Fatalf("range [%g, %g], bytes %v: want [0, 4] from 0 to 255", m.lo, m.hi, m.data)
	}
	level = 1
	var last *columnsMsg
	for i := 0; i < 200; i++ { // 8 s of quieter columns
		last = h.add(block("a", int64(4+4*i), 4, 8, 100, false, f), time.Now())
	}
	if last.hi >= 4 || last.hi < 1 {
		t.Errorf("after 8 s at level 1 the range top is %g: want it let go of 4 but stay >= 1", last.hi)
	}
	if want := 4 * math.Pow(rangeDecay, 200); math.Abs(float64(last.hi)-want) > 1e-3 {
		t.Errorf("range top %g, want %g", last.hi, want)
	}
	// Negative values (a GRU) extend the range below 0.
	g := newHeatmap(6, 64, 25)
	m = g.add(block("a", 0, 4, 3, 100, false, func(_ int64, c int) float32 { return float32(c) - 1 }), time.Now())
	if m.lo != -1 || m.hi != 1 || m.data[0] != 0 || m.data[1] != 128 || m.data[2] != 255 {
		t.Errorf("range [%g, %g], bytes %v: want [-1, 1] as 0, 128, 255", m.lo, m.hi, m.data)
	}
}

func TestColumnsEncoding(t *testing.T) {
	h := newHeatmap(5, 4, 25)
	m := h.add(block("s", 8, 12, 8, 100, false, func(tt int64, c int) float32 { return float32(tt%5) * float32(c) }), time.Now())
	enc := m.encode()
	got, err := DecodeColumns(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Layer != 5 || got.Rows != 4 || got.Cols != 3 || !got.Start || got.Lo != m.lo || got.Hi != m.hi || got.Time != 0.08 {
		t.Errorf("decoded %+v from %+v", got, m)
	}
	for c := 0; c < got.Cols; c++ {
		for r := 0; r < got.Rows; r++ {
			if got.Data[c*got.Rows+r] != m.data[c*m.rows+r] {
				t.Fatalf("column %d row %d differs", c, r)
			}
		}
	}
	if v := got.Value(0, 0); v < got.Lo || v > got.Hi {
		t.Errorf("Value %g outside [%g, %g]", v, got.Lo, got.Hi)
	}
	for _, bad := range [][]byte{nil, enc[:10], append([]byte{2}, enc[1:]...), enc[:len(enc)-1]} {
		if _, err := DecodeColumns(bad); !errors.Is(err, ErrBadColumns) {
			t.Errorf("DecodeColumns(%d bytes): %v, want ErrBadColumns", len(bad), err)
		}
	}
}

// TestTapNeverBlocks fills a layer's queue with no pooler draining it:
// the tap must return at once and count what it drops.
func TestTapNeverBlocks(t *testing.T) {
	lv := &layerView{n: 1, ch: make(chan tapItem, 3)}
	b := block("s", 0, 1, 4, 100, false, func(int64, int) float32 { return 0 })
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			lv.tap(b, time.Time{})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("tap blocked on a full queue")
	}
	if got := lv.tapDropped.Load(); got != 7 || len(lv.ch) != 3 {
		t.Errorf("dropped %d with %d queued, want 7 dropped and 3 queued", got, len(lv.ch))
	}
}
