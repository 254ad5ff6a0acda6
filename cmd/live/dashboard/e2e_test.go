package dashboard

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"clapp/actors"
	"clapp/cmd/live/internal/chromium"
	"clapp/stream"
)

// heatmapsJS hashes every heatmap's pixels and counts the painted ones
// (the background is black; the colour map has no black).
const heatmapsJS = `(() => {
	const out = {};
	for (const c of document.querySelectorAll("section.layer canvas.heat")) {
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let h = 2166136261, lit = 0;
		for (let i = 0; i < d.length; i += 4) {
			h = Math.imul(h ^ d[i], 16777619);
			h = Math.imul(h ^ d[i + 1], 16777619);
			h = Math.imul(h ^ d[i + 2], 16777619);
			if (d[i] | d[i + 1] | d[i + 2]) lit++;
		}
		out[c.closest("section").dataset.layer] = {hash: h >>> 0, lit, pixels: c.width * c.height};
	}
	return out;
})()`

type heatmapPixels struct {
	Hash   uint32 `json:"hash"`
	Lit    int    `json:"lit"`
	Pixels int    `json:"pixels"`
}

// TestPageInChromium opens the page in headless Chromium while a real
// pipeline learns from a LibriSpeech utterance played in real time, and
// works it as a person would: watch the heatmaps move, freeze and resume
// learning, freeze one layer, force a night, save a checkpoint.
func TestPageInChromium(t *testing.T) {
	if _, err := chromium.Path(); err != nil {
		t.Skipf("skipping the browser test: %v (install Debian's chromium, or set %s)", err, chromium.EnvPath)
	}
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightControl})
	ckdir := t.TempDir()
	flac := flacFile(t)
	_, s := startDashboard(t, Config{Pipeline: p, Run: "e2e " + filepath.Base(flac), Save: saver(p, ckdir),
		ProbeAccuracy: func() map[int]float64 { return map[int]float64{6: 0.42} }})
	feed(t, p, flac, stream.Options{Realtime: true, Loop: true})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr lockedWriter
	b, err := chromium.Start(ctx, chromium.Options{WindowWidth: 1280, WindowHeight: 1000, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	page, err := b.NewPage(ctx, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, e := range page.Errors() {
			t.Errorf("page: %s", e)
		}
	}()
	wait := func(what, expr string) {
		t.Helper()
		wctx, c := context.WithTimeout(ctx, 30*time.Second)
		defer c()
		if err := page.WaitFor(wctx, expr, 50*time.Millisecond); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Frames arrive for every layer.
	wait("columns for every layer", `window.clapp.connected && [1, 2, 3, 4, 5, 6].every(n => (window.clapp.columns[n] || 0) >= 25)`)
	var frames int
	if err := page.Eval(ctx, `window.clapp.frames`, &frames); err != nil || frames < 6 {
		t.Fatalf("page counted %d column messages (%v)", frames, err)
	}
	wait("stats shown", `window.clapp.stats > 2 && document.querySelector("#layer-6 .blocks").textContent !== ""`)
	wait("probe accuracy shown", `document.querySelector("#layer-6 .probe").textContent.includes("42.0%")`)

	// The heatmaps are painted, and move between two moments.
	var before, after map[string]heatmapPixels
	if err := page.Eval(ctx, heatmapsJS, &before); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := page.Eval(ctx, heatmapsJS, &after); err != nil {
		t.Fatal(err)
	}
	if len(before) != 6 {
		t.Fatalf("%d heatmaps on the page, want 6", len(before))
	}
	for n, a := range after {
		if a.Lit == 0 {
			t.Errorf("layer %s: heatmap not painted", n)
		}
		if a.Hash == before[n].Hash {
			t.Errorf("layer %s: heatmap unchanged after a second of speech", n)
		}
		if a.Lit < before[n].Lit {
			t.Errorf("layer %s: painted pixels went from %d to %d while scrolling in", n, before[n].Lit, a.Lit)
		}
	}

	// Freeze learning with the mouse: the pipeline reports it, the page
	// shows it, and the layers stop learning.
	if err := page.Click(ctx, "#freeze-all"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "pipeline paused after the click", p.Paused)
	wait("page shows learning frozen", `document.body.classList.contains("paused") && document.getElementById("global-state").textContent === "learning frozen" && document.getElementById("freeze-all").textContent === "Resume learning"`)
	f1 := layerStats(p, 1).Frozen
	eventually(t, 10*time.Second, "layer 1 counts frozen blocks", func() bool { return layerStats(p, 1).Frozen > f1+2 })
	wait("action line reports the server's state", `document.getElementById("action").textContent.includes("frozen")`)
	if err := page.Click(ctx, "#freeze-all"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "pipeline resumed after the second click", func() bool { return !p.Paused() })
	wait("page shows learning", `!document.body.classList.contains("paused") && document.getElementById("global-state").textContent === "learning"`)

	// Freeze one layer.
	if err := page.Click(ctx, "#layer-3 button.freeze"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "layer 3 frozen after the click", func() bool { return layerStats(p, 3).FrozenNow })
	wait("page shows layer 3 frozen", `document.getElementById("layer-3").dataset.frozen === "true" && document.querySelector("#layer-3 .learn").textContent === "frozen" && document.getElementById("layer-2").dataset.frozen === "false"`)
	if layerStats(p, 2).FrozenNow || p.Paused() {
		t.Error("freezing layer 3 froze more")
	}

	// Force a night.
	if n := totalNights(p); n != 0 {
		t.Fatalf("%d nights before asking for one (night policy control)", n)
	}
	if err := page.Click(ctx, "#night"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "a night in every layer after the click", func() bool {
		for _, s := range p.Stats() {
			if s.Nights < 1 {
				return false
			}
		}
		return true
	})
	wait("page shows the nights", `[1, 2, 3, 4, 5, 6].every(n => Number(document.querySelector("#layer-" + n + " .nights").textContent) >= 1)`)

	// Save a checkpoint.
	if err := page.Click(ctx, "#save"); err != nil {
		t.Fatal(err)
	}
	wait("page reports the save", `document.getElementById("action").textContent.startsWith("saved ")`)
	var action string
	if err := page.Eval(ctx, `document.getElementById("action").textContent`, &action); err != nil {
		t.Fatal(err)
	}
	saved, _ := filepath.Glob(filepath.Join(ckdir, "*.safetensors"))
	if len(saved) != 1 || !strings.Contains(action, saved[0]) {
		t.Errorf("page says %q; checkpoints %v", action, saved)
	}

	// A picture for people.
	wait("stats after the save", `window.clapp.last && window.clapp.last.save`)
	time.Sleep(2 * time.Second) // let the heatmaps scroll past the night
	shot := filepath.Join(t.TempDir(), "dashboard.png")
	if err := page.Screenshot(ctx, shot, true); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, shot)
	if dir := os.Getenv("CLAPP_SCREENSHOT_DIR"); dir != "" {
		data, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "dashboard.png"), data, 0o644)
		}
		if err != nil {
			t.Errorf("copying the screenshot to CLAPP_SCREENSHOT_DIR: %v", err)
		} else {
			t.Logf("screenshot: %s", filepath.Join(dir, "dashboard.png"))
		}
	}
	if t.Failed() {
		t.Logf("browser stderr:\n%s", stderr.String())
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if sz := img.Bounds().Size(); sz.X < 1000 || sz.Y < 800 {
		t.Errorf("screenshot %v: want the whole page", sz)
	}
}

// lockedWriter collects the browser's stderr, written by its reader.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
