package natsbus

import (
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"clapp/stream/frame"
)

func TestMain(m *testing.M) {
	slog.SetDefault(testLogger())
	os.Exit(m.Run())
}

// testLogger discards logs unless CLAPP_TEST_LOG is set: the servers and
// connections of a test log after it ends, which t.Log does not allow.
func testLogger() *slog.Logger {
	if os.Getenv("CLAPP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// checkNoLeak fails the test if goroutines started during it outlive it.
// Call it first, so that its cleanup runs after all others.
func checkNoLeak(t testing.TB) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf)
		}
	})
}

// startServer starts an embedded server on 127.0.0.1 and a random port
// (or cfg.Port) and shuts it down at the end of the test.
func startServer(t testing.TB, cfg ServerConfig) *Server {
	t.Helper()
	if cfg.Port == 0 {
		cfg.Port = RandomPort
	}
	cfg.Logger = testLogger()
	s, err := StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// connect connects to s with fast reconnects, closed at the end of the
// test.
func connect(t testing.TB, s *Server, mod ...func(*ConnConfig)) *nats.Conn {
	t.Helper()
	cc := s.ConnConfig()
	cc.Logger = testLogger()
	cc.ReconnectWait, cc.MaxReconnectWait = 20*time.Millisecond, 200*time.Millisecond
	for _, m := range mod {
		m(&cc)
	}
	nc, err := Connect(cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testBlock(rng *rand.Rand, stream string, layer int, first int64, rows, cols int, rate float64) frame.Block {
	b := frame.Block{Stream: stream, Layer: layer, First: first, Rows: rows, Cols: cols, Rate: rate, Data: make([]float32, rows*cols)}
	for i := range b.Data {
		b.Data[i] = float32(rng.NormFloat64())
	}
	if len(b.Data) > 1 {
		b.Data[0], b.Data[1] = float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32
	}
	return b
}

func audioBlock(rng *rand.Rand, stream string, first int64, rows int) frame.Block {
	return testBlock(rng, stream, frame.AudioLayer, first, rows, 1, frame.SampleRate)
}

func sameBlock(a, b frame.Block) bool {
	if a.Stream != b.Stream || a.Layer != b.Layer || a.First != b.First || a.Rows != b.Rows || a.Cols != b.Cols ||
		a.Rate != b.Rate || a.End != b.End || a.Model != b.Model || len(a.Data) != len(b.Data) {
		return false
	}
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			return false
		}
	}
	return true
}

// subj returns s, panicking on err: subjects built from constant run
// names cannot fail.
func subj(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// restart shuts s down and starts a server with the same configuration
// on the same port.
func restart(t testing.TB, s *Server, cfg ServerConfig) *Server {
	t.Helper()
	s.Shutdown()
	cfg.Port = s.Port()
	var err error
	cfg.Logger = testLogger()
	for i := 0; i < 50; i++ { // the port may take a moment to be free again
		var ns *Server
		if ns, err = StartServer(cfg); err == nil {
			t.Cleanup(ns.Shutdown)
			return ns
		}
		if !strings.Contains(err.Error(), "not ready") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("restart on port %d: %v", cfg.Port, err)
	return nil
}
