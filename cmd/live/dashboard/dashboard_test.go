package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"clapp/actors"
	"clapp/stream"
)

// TestWebSocketEveryLayer: a Go client receives the hello, stats and
// heatmap columns of every layer of a real pipeline learning from
// synthetic speech played in real time.
func TestWebSocketEveryLayer(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightEvery, Every: 16})
	_, s := startDashboard(t, Config{Pipeline: p, Run: "ws-test", StatsInterval: 100 * time.Millisecond})
	feed(t, p, "synthetic", stream.Options{Realtime: true, Loop: true, Streams: 1})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hello Hello
	if typ != websocket.MessageText || json.Unmarshal(data, &hello) != nil || hello.Type != "hello" {
		t.Fatalf("first message %v %s: want the hello", typ, data)
	}
	if hello.Run != "ws-test" || hello.First != 1 || hello.Last != 6 || hello.MaxRows != 64 || hello.ColumnsPerSecond != 25 || hello.Save {
		t.Errorf("hello %+v", hello)
	}

	cols := map[int]int{}
	times := map[int][]float64{}
	var stats Stats
	nStats := 0
	err = readUntil(ctx, c, func(m wsMessage) bool {
		switch m.typ {
		case websocket.MessageBinary:
			col, err := DecodeColumns(m.data)
			if err != nil {
				t.Fatal(err)
			}
			wantRows := 32
			if col.Layer == 6 {
				wantRows = 24
			}
			if col.Rows != wantRows || col.Hi < col.Lo || col.Time < 0 {
				t.Errorf("layer %d columns: %d rows in [%g, %g] at %g s; want %d rows", col.Layer, col.Rows, col.Lo, col.Hi, col.Time, wantRows)
			}
			cols[col.Layer] += col.Cols
			times[col.Layer] = append(times[col.Layer], col.Time)
		case websocket.MessageText:
			if err := json.Unmarshal(m.data, &stats); err != nil || stats.Type != "stats" {
				t.Fatalf("text message %s: %v", m.data, err)
			}
			nStats++
		}
		for n := 1; n <= 6; n++ {
			if cols[n] < 10 {
				return false
			}
		}
		return nStats >= 3
	})
	if err != nil {
		t.Fatalf("reading: %v (columns per layer so far %v, %d stats)", err, cols, nStats)
	}
	t.Logf("columns per layer %v, %d stats messages", cols, nStats)
	for n := 1; n <= 6; n++ {
		ts := times[n]
		for i := 1; i < len(ts); i++ {
			if ts[i] <= ts[i-1] && ts[i] != 0 { // 0: a new stream
				t.Errorf("layer %d: column time went from %g to %g", n, ts[i-1], ts[i])
				break
			}
		}
	}
	if len(stats.Layers) != 6 {
		t.Fatalf("stats of %d layers", len(stats.Layers))
	}
	for _, l := range stats.Layers {
		g := l.View.Geometry
		if l.Frames == 0 || g.Layer != l.Layer || g.Rows == 0 || g.FramesPerColumn == 0 || l.View.Stream == "" {
			t.Errorf("layer %d in stats: frames %d view %+v", l.Layer, l.Frames, l.View)
		}
	}
	if stats.Dashboard.Clients != 1 || stats.Dashboard.Columns == 0 {
		t.Errorf("dashboard counters %+v", stats.Dashboard)
	}
}

// TestSlowClient: a browser that stops reading neither slows the layers
// nor the other browsers; its messages are dropped and counted.
func TestSlowClient(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightEvery, Every: 16})
	// A short queue per browser makes the slow one overflow soon.
	d, s := startDashboard(t, Config{Pipeline: p, ClientQueue: 8, StatsInterval: 50 * time.Millisecond, ColumnsPerSecond: 100,
		WriteTimeout: 5 * time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The slow client: a small receive buffer it never reads, so the
	// server's writes stall once the kernel's buffers are full.
	slow, _, err := websocket.Dial(ctx, wsURL(s), &websocket.DialOptions{HTTPClient: smallBufferClient()})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	fast, _, err := websocket.Dial(ctx, wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.CloseNow()
	eventually(t, 10*time.Second, "two browsers connected", func() bool { return d.Counters().Clients == 2 })
	fastGot := make(chan int, 1)
	go func() {
		n := 0
		_ = readUntil(ctx, fast, func(wsMessage) bool { n++; return false })
		fastGot <- n
	}()

	// Not paced: the layers run as fast as they can, far faster than the
	// slow browser takes anything.
	start := time.Now()
	done := feed(t, p, "synthetic", stream.Options{Utterances: 20, Streams: 1})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatalf("the pipeline did not finish with a stalled browser connected: %v (dashboard %+v)", ctx.Err(), d.Counters())
	}
	st := p.Stats()
	c := d.Counters()
	t.Logf("%v: layer 1 %d blocks, layer 6 %d blocks; dashboard %+v", time.Since(start), st[0].Blocks, st[5].Blocks, c)
	if st[5].Blocks < st[0].Blocks {
		t.Errorf("the last layer made %d blocks of %d", st[5].Blocks, st[0].Blocks)
	}
	if c.Dropped == 0 {
		t.Errorf("no message dropped for a browser that never reads (%+v)", c)
	}
	// The slow browser is still connected: it was never waited for.
	if c.Clients != 2 {
		t.Errorf("%d browsers connected, want 2", c.Clients)
	}
	// The fast browser got messages all along.
	fast.CloseNow()
	if n := <-fastGot; n < 50 {
		t.Errorf("the reading browser got %d messages", n)
	}
}

// smallBufferClient dials with a 4 KiB receive buffer.
func smallBufferClient() *http.Client {
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	return &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
}

// TestStalledBrowserDisconnected: a browser that accepts nothing for
// WriteTimeout is disconnected; the others stay.
func TestStalledBrowserDisconnected(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightEvery, Every: 16})
	d, s := startDashboard(t, Config{Pipeline: p, ClientQueue: 8, StatsInterval: 20 * time.Millisecond, ColumnsPerSecond: 100,
		WriteTimeout: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stalled, _, err := websocket.Dial(ctx, wsURL(s), &websocket.DialOptions{HTTPClient: smallBufferClient()})
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.CloseNow()
	reading, _, err := websocket.Dial(ctx, wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reading.CloseNow()
	go readUntil(ctx, reading, func(wsMessage) bool { return false })
	eventually(t, 10*time.Second, "two browsers connected", func() bool { return d.Counters().Clients == 2 })
	feed(t, p, "synthetic", stream.Options{Loop: true, Streams: 1})
	eventually(t, 30*time.Second, "the stalled browser disconnected", func() bool { return d.Counters().Clients == 1 })
	// The one left is the reader: it still gets messages.
	sent := d.Counters().Sent
	eventually(t, 10*time.Second, "messages to the reading browser", func() bool { return d.Counters().Sent > sent+10 })
}

// TestBrowserGoesAway: a browser that leaves is forgotten and costs
// nothing.
func TestBrowserGoesAway(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightControl})
	d, s := startDashboard(t, Config{Pipeline: p, StatsInterval: 50 * time.Millisecond})
	feed(t, p, "synthetic", stream.Options{Realtime: true, Loop: true, Streams: 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := 0; i < 3; i++ {
		c, _, err := websocket.Dial(ctx, wsURL(s), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			c.Close(websocket.StatusNormalClosure, "bye")
		} else {
			c.CloseNow() // gone without a goodbye
		}
	}
	eventually(t, 10*time.Second, "every browser forgotten", func() bool { return d.Counters().Clients == 0 })
}

// TestShutdownDisconnects: Shutdown ends the WebSockets with "going away"
// and returns; the port is closed afterwards.
func TestShutdownDisconnects(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightControl})
	d, err := New(Config{Pipeline: p, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := Listen("", d, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	eventually(t, 10*time.Second, "browser connected", func() bool { return d.Counters().Clients == 1 })
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	err = readUntil(ctx, c, func(wsMessage) bool { return false })
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("browser saw %v, want close status going away", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr().String(), time.Second); err == nil {
		t.Error("port still open after Shutdown")
	}
	eventually(t, 10*time.Second, "browser forgotten", func() bool { return d.Counters().Clients == 0 })
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed dashboard answers 503 and has removed its taps.
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest("GET", "/api/state", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "closed") {
		t.Errorf("closed dashboard answered %d %s", rec.Code, rec.Body.String())
	}
}
