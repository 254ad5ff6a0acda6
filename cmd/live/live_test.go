package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"clapp/cmd/live/internal/chromium"
	"clapp/model"
	"clapp/stream/natsbus"
	"clapp/stream/streamtest"
)

// These tests run the live command as its users do: the binary, in its own
// processes, with real audio files and a real NATS server.

var liveBin, replayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clapp-live-test")
	if err != nil {
		panic(err)
	}
	liveBin = filepath.Join(dir, "live")
	replayBin = filepath.Join(dir, "replay")
	for bin, pkg := range map[string]string{liveBin: ".", replayBin: "../replay"} {
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a running live process.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan error
	runDir string
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startLive runs live with a narrow encoder (fast on any machine) and args.
func startLive(t *testing.T, args ...string) *proc {
	t.Helper()
	runs := t.TempDir()
	all := append([]string{"--size", "narrow", "--channels", "32", "--hidden", "24", "--k", "4", "--runs", runs, "--log-format", "text"}, args...)
	p := &proc{cmd: exec.Command(liveBin, all...), done: make(chan error, 1), runDir: runs}
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			p.mu.Lock()
			p.out.WriteString(s.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() { p.done <- p.cmd.Wait(); w.Close() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("live %v output:\n%s", args, p.output())
		}
	})
	return p
}

// stop sends sig and waits for a clean exit.
func (p *proc) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("live exited with %v after %v", err, sig)
		}
	case <-time.After(time.Minute):
		t.Fatalf("live did not exit within a minute of %v", sig)
	}
}

func (p *proc) checkpoint(t *testing.T) *model.Checkpoint {
	t.Helper()
	m := regexp.MustCompile(`checkpoint: (\S+)`).FindStringSubmatch(p.output())
	if m == nil {
		t.Fatalf("no checkpoint reported")
	}
	ck, err := model.LoadCheckpoint(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func weightsChanged(a, b *model.Encoder, n int) bool {
	pa, pb := a.LayerParams(n), b.LayerParams(n)
	for i := range pa {
		for j := range pa[i].Data {
			if pa[i].Data[j] != pb[i].Data[j] {
				return true
			}
		}
	}
	return false
}

func fresh(t *testing.T) *model.Encoder {
	cfg := model.NarrowConfig(32, 24)
	cfg.K = 4
	e, err := model.NewEncoder(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestLiveDashboardInChromium starts live on a file played in real time,
// opens its page in headless Chromium, checks frames arrive and the
// heatmaps change, presses the global freeze button and sees learning
// stop, and saves a screenshot.
func TestLiveDashboardInChromium(t *testing.T) {
	if _, err := chromium.Path(); err != nil {
		t.Skipf("skipping the browser test: %v (install Debian's chromium)", err)
	}
	port := freePort(t)
	p := startLive(t, "--input", streamtest.Utterance(t), "--http", fmt.Sprintf("127.0.0.1:%d", port), "--night", "every:4")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitFor(t, "the dashboard", 30*time.Second, func() bool {
		r, err := http.Get(url)
		if err == nil {
			r.Body.Close()
		}
		return err == nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := chromium.Start(ctx, chromium.Options{WindowWidth: 1280, WindowHeight: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	page, err := b.NewPage(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what, expr string) {
		t.Helper()
		wctx, c := context.WithTimeout(ctx, 30*time.Second)
		defer c()
		if err := page.WaitFor(wctx, expr, 50*time.Millisecond); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait("frames of every layer", `window.clapp && window.clapp.connected && [1,2,3,4,5,6].every(n => (window.clapp.columns[n] || 0) >= 10)`)
	hash := `Array.from(document.querySelectorAll("canvas")).map(c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; let h = 0; for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) | 0; return h; })`
	var h1, h2 []int
	if err := page.Eval(ctx, hash, &h1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := page.Eval(ctx, hash, &h2); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i := range h1 {
		if i < len(h2) && h1[i] != h2[i] {
			changed++
		}
	}
	if len(h1) < 6 || changed < 6 {
		t.Errorf("%d canvases, %d changed in a second of speech; want every layer's heatmap moving", len(h1), changed)
	}
	state := func() (paused bool, frozenBlocks int64) {
		r, err := http.Get(url + "api/state")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var s struct {
			Stats struct {
				Paused bool `json:"paused"`
				Layers []struct {
					Frozen int64 `json:"frozen_blocks"`
				} `json:"layers"`
			} `json:"stats"`
		}
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		if len(s.Stats.Layers) > 0 {
			frozenBlocks = s.Stats.Layers[0].Frozen
		}
		return s.Stats.Paused, frozenBlocks
	}
	if paused, _ := state(); paused {
		t.Fatal("learning paused before the button was pressed")
	}
	if err := page.Click(ctx, "#freeze-all"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "learning frozen", 10*time.Second, func() bool { paused, _ := state(); return paused })
	_, f1 := state()
	waitFor(t, "blocks passing without learning", 10*time.Second, func() bool { _, f := state(); return f > f1 })
	shot := filepath.Join(t.TempDir(), "live.png")
	if d := os.Getenv("CLAPP_SCREENSHOT_DIR"); d != "" {
		shot = filepath.Join(d, "live.png")
	}
	if err := page.Screenshot(ctx, shot, true); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	p.stop(t, syscall.SIGINT)
}

// TestSplitModelAcrossTwoProcesses runs layers 1-3 in one process and 4-6
// in another, sharing one NATS server: the upper half takes the lower's
// layer-3 frames from NATS, both halves learn, and layer 6's frames come
// out on NATS.
func TestSplitModelAcrossTwoProcesses(t *testing.T) {
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
	sub, err := natsbus.SubscribeChan(nc, "clapp.split.layer.6", natsbus.SubscriberConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	upper := startLive(t, "--layers", "4-6", "--input", "nats://clapp.split.layer.3", "--nats", srv.ClientURL(), "--run", "split", "--http", "", "--night", "every:4")
	time.Sleep(2 * time.Second) // the upper half subscribes first
	lower := startLive(t, "--layers", "1-3", "--input", streamtest.Utterance(t), "--nats", srv.ClientURL(), "--run", "split", "--http", "", "--night", "every:4", "--duration", "8s")
	rows := 0
	deadline := time.After(45 * time.Second)
	for rows < 300 {
		select {
		case b := <-sub.C():
			if b.Layer != 6 || b.Cols != 24 {
				t.Fatalf("layer 6 subject carried layer %d x %d", b.Layer, b.Cols)
			}
			rows += b.Rows
		case <-deadline:
			t.Fatalf("only %d frames of layer 6 in 45 s", rows)
		}
	}
	select {
	case err := <-lower.done:
		if err != nil {
			t.Fatalf("lower half: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the lower half did not finish")
	}
	upper.stop(t, syscall.SIGTERM)
	e0 := fresh(t)
	lo, up := lower.checkpoint(t).Encoder, upper.checkpoint(t).Encoder
	for n := 1; n <= 3; n++ {
		if !weightsChanged(lo, e0, n) {
			t.Errorf("the lower process's layer %d did not learn", n)
		}
	}
	for n := 4; n <= 6; n++ {
		if !weightsChanged(up, e0, n) {
			t.Errorf("the upper process's layer %d did not learn", n)
		}
		if weightsChanged(lo, e0, n) {
			t.Errorf("the lower process changed layer %d, which it does not run", n)
		}
	}
}

// TestNATSServerRestart: live keeps learning while its external NATS
// server restarts, reconnects, and publishes again afterwards; what it
// learned meanwhile is in its checkpoint.
func TestNATSServerRestart(t *testing.T) {
	port := freePort(t)
	start := func() *natsbus.Server {
		srv, err := natsbus.StartServer(natsbus.ServerConfig{Port: port})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start()
	url := srv.ClientURL()
	p := startLive(t, "--input", "synthetic", "--nats", url, "--run", "restart", "--http", "", "--night", "every:4")
	count := func() int {
		nc, err := natsbus.Connect(natsbus.ConnConfig{URL: url})
		if err != nil {
			return 0
		}
		defer nc.Close()
		sub, err := natsbus.SubscribeChan(nc, "clapp.restart.layer.6", natsbus.SubscriberConfig{})
		if err != nil {
			return 0
		}
		defer sub.Close()
		n := 0
		timeout := time.After(3 * time.Second)
		for {
			select {
			case <-sub.C():
				n++
			case <-timeout:
				return n
			}
		}
	}
	waitFor(t, "frames before the restart", 30*time.Second, func() bool { return count() > 0 })
	srv.Shutdown()
	time.Sleep(2 * time.Second)
	srv = start()
	defer srv.Shutdown()
	waitFor(t, "frames after the restart", 30*time.Second, func() bool { return count() > 0 })
	p.stop(t, syscall.SIGINT)
	if !strings.Contains(p.output(), "reconnected") && !strings.Contains(strings.ToLower(p.output()), "reconnect") {
		t.Errorf("no reconnection logged")
	}
	if !weightsChanged(p.checkpoint(t).Encoder, fresh(t), 6) {
		t.Error("the GRU learned nothing")
	}
}

// TestSignalsCheckpoint: SIGTERM and SIGINT both end live cleanly with a
// checkpoint of what it learned.
func TestSignalsCheckpoint(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		p := startLive(t, "--input", "synthetic", "--http", "", "--night", "every:4")
		waitFor(t, "learning", 30*time.Second, func() bool { return strings.Contains(p.output(), "msg=live ") })
		time.Sleep(3 * time.Second)
		p.stop(t, sig)
		if !weightsChanged(p.checkpoint(t).Encoder, fresh(t), 1) {
			t.Errorf("%v: the checkpoint holds the initial weights", sig)
		}
	}
}

// TestRecordThenReplay: live --record keeps the session's audio in a
// JetStream stream; replay train learns from it afterwards, and a replay
// checkpoint is where live starts again.
func TestRecordThenReplay(t *testing.T) {
	store := filepath.Join(t.TempDir(), "js")
	p := startLive(t, "--input", streamtest.Utterance(t), "--record", "--nats-store", store, "--run", "rec", "--http", "", "--duration", "6s", "--segment", "2s")
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("live: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("live did not finish")
	}
	if !strings.Contains(p.output(), "clapp_rec_audio") {
		t.Fatalf("live did not say where it records")
	}
	runs := t.TempDir()
	cmd := exec.Command(replayBin, "train", "--data", "nats://clapp_rec_audio", "--nats-store", store, "--runs", runs,
		"--size", "narrow", "--channels", "32", "--hidden", "24", "--k", "4", "--progress", "off", "--streams", "2", "--chunk", "1600")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("replay train from the recording: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`run directory: (\S+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no run directory:\n%s", out)
	}
	raw, err := os.ReadFile(filepath.Join(m[1], "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Audio float64 `json:"audio_seconds"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	// About 6 s were played and recorded.
	if res.Audio < 3 || res.Audio > 7 {
		t.Errorf("replay learned %.1f s of audio from a 6 s recording", res.Audio)
	}
	ck := regexp.MustCompile(`checkpoint: (\S+)`).FindStringSubmatch(string(out))
	if ck == nil {
		t.Fatal("no checkpoint")
	}
	// live resumes from a model trained by replay.
	q := startLive(t, "--input", streamtest.Utterance(t), "--checkpoint", ck[1], "--http", "", "--duration", "3s")
	select {
	case err := <-q.done:
		if err != nil {
			t.Fatalf("live from a replay checkpoint: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("live did not finish")
	}
	if !strings.Contains(q.output(), "resumed") {
		t.Error("live did not say it resumed")
	}
}
