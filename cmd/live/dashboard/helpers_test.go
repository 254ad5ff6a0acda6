package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"clapp/actors"
	"clapp/model"
	"clapp/stream"
	"clapp/stream/streamtest"
)

// flacFile returns one LibriSpeech utterance of the shared data.
func flacFile(t testing.TB) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(streamtest.LibriSpeech(t), "*", "*", "*.flac"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no FLAC file in the shared LibriSpeech train-clean-100 (%v)", err)
	}
	sort.Strings(files)
	return files[0]
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testPipeline builds a real pipeline with a narrow encoder (32 channels,
// GRU of 24, K = 4).
func testPipeline(t testing.TB, night actors.NightPolicy) *actors.Pipeline {
	t.Helper()
	cfg := model.NarrowConfig(32, 24)
	cfg.K = 4
	e, err := model.NewEncoder(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	p, err := actors.New(actors.Config{Encoder: e, Night: night, Batch: 4, Seed: 11, Logger: testLogger(t),
		MemoryBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// feed runs the pipeline on the named source in the background; the
// returned channel gives Run's result. The source stops with the test.
func feed(t testing.TB, p *actors.Pipeline, name string, o stream.Options) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	o.Logger = testLogger(t)
	src, err := stream.Open(ctx, name, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- p.Run(ctx, src)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Error("pipeline did not stop within 30s of its source's cancellation")
		}
		src.Close()
	})
	return done
}

// startDashboard serves a dashboard on a free port of 127.0.0.1.
func startDashboard(t testing.TB, cfg Config) (*Dashboard, *Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen("", d, cfg.Logger)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		d.Close()
	})
	return d, s
}

// saver returns a Save function writing real checkpoints into dir.
func saver(p *actors.Pipeline, dir string) func(context.Context) (string, error) {
	var n atomic.Int64
	return func(ctx context.Context) (string, error) {
		ck, _, err := p.Snapshot(ctx)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, fmt.Sprintf("checkpoint-%d.safetensors", n.Add(1)))
		return path, ck.Save(path)
	}
}

// wsURL turns a server's page address into its WebSocket address.
func wsURL(s *Server) string { return "ws://" + s.Addr().String() + "/ws" }

// wsMessage is one message read by a test client.
type wsMessage struct {
	typ  websocket.MessageType
	data []byte
}

// readUntil reads messages until f returns true, ctx ends or the
// connection fails.
func readUntil(ctx context.Context, c *websocket.Conn, f func(m wsMessage) bool) error {
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if f(wsMessage{typ, data}) {
			return nil
		}
	}
}

// postJSON posts body to the server and decodes the reply into out.
func postJSON(t testing.TB, url, contentType, body string, out any) (*http.Response, string) {
	t.Helper()
	r, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && r.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("reply of %s: %v: %s", url, err, data)
		}
	}
	return r, string(data)
}

// eventually polls f every 20ms until it is true or d has passed.
func eventually(t testing.TB, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func layerStats(p *actors.Pipeline, n int) actors.LayerStats {
	for _, s := range p.Stats() {
		if s.Layer == n {
			return s
		}
	}
	return actors.LayerStats{}
}

func totalNights(p *actors.Pipeline) (n int64) {
	for _, s := range p.Stats() {
		n += s.Nights
	}
	return n
}

func decodeJSON(r *http.Response, out any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if r.Header.Get("Content-Type") != "application/json" {
		return fmt.Errorf("content type %q: %s", r.Header.Get("Content-Type"), data)
	}
	return json.Unmarshal(data, out)
}

// getJSON gets url and decodes the reply into out.
func getJSON(t testing.TB, url string, out any) (*http.Response, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && r.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("reply of %s: %v: %s", url, err, data)
		}
	}
	return r, string(data)
}
