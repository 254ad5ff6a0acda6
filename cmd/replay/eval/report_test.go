package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"clapp/model"
)

// TestReportContract checks the JSON of `replay probe --json`, the table
// and the plot, on a real run of a narrow random encoder with its
// baselines.
func TestReportContract(t *testing.T) {
	cfg := smallConfig(t, 2, 1)
	cfg.Epochs = 5
	ctx := context.Background()
	ds, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mc := model.NarrowConfig(32, 24)
	// A "checkpoint" of its own: a saved random encoder, loaded back.
	enc, err := model.NewEncoder(mc, 11)
	if err != nil {
		t.Fatal(err)
	}
	ckPath := filepath.Join(t.TempDir(), "enc.safetensors")
	if err := (&model.Checkpoint{Encoder: enc}).Save(ckPath); err != nil {
		t.Fatal(err)
	}
	f, err := CheckpointFeatures(ckPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(ctx, ds, f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bl, err := Baselines(ctx, ds, f.Encoder.Config, 1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(ds, r, bl...)

	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	checkLayers := func(where string, v any, want []int) {
		t.Helper()
		list, ok := v.([]any)
		if !ok || len(list) != len(want) {
			t.Fatalf("%s: layers %v, want %d entries", where, v, len(want))
		}
		for i, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				t.Fatalf("%s: layer entry %v is not an object", where, e)
			}
			if n, ok := m["layer"].(float64); !ok || int(n) != want[i] {
				t.Errorf("%s: entry %d has layer %v, want %d", where, i, m["layer"], want[i])
			}
			for _, k := range []string{"test_acc", "train_acc"} {
				if a, ok := m[k].(float64); !ok || a < 0 || a > 1 {
					t.Errorf("%s layer %v: %s = %v, want a fraction", where, m["layer"], k, m[k])
				}
			}
		}
	}
	checkLayers("checkpoint", got["layers"], []int{1, 2, 3, 4, 5, 6})
	if got["features"] != KindCheckpoint || got["task"] != "phone" || got["classes"] != 40.0 {
		t.Errorf("features %v task %v classes %v", got["features"], got["task"], got["classes"])
	}
	bls, ok := got["baselines"].([]any)
	if !ok || len(bls) != 2 {
		t.Fatalf("baselines %v", got["baselines"])
	}
	checkLayers("random-init", bls[0].(map[string]any)["layers"], []int{1, 2, 3, 4, 5, 6})
	checkLayers("mfcc", bls[1].(map[string]any)["layers"], []int{0})
	if bls[0].(map[string]any)["features"] != KindRandomInit || bls[1].(map[string]any)["features"] != KindMFCC {
		t.Errorf("baseline kinds %v, %v", bls[0].(map[string]any)["features"], bls[1].(map[string]any)["features"])
	}

	var tb bytes.Buffer
	if err := WriteTable(&tb, rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", tb.String())
	lines := strings.Split(strings.TrimSpace(tb.String()), "\n")
	var rows int
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && len(f[0]) == 1 && f[0] >= "0" && f[0] <= "6" {
			rows++
		}
	}
	if rows != 7 || !strings.Contains(tb.String(), "random-init") || !strings.Contains(tb.String(), "mfcc") {
		t.Errorf("table has %d layer rows (want 7: MFCC and 6 layers)", rows)
	}

	pngPath := filepath.Join(t.TempDir(), "acc.png")
	if d := os.Getenv("EVAL_PLOT_DIR"); d != "" {
		pngPath = filepath.Join(d, "acc.png") // to look at it
	}
	if err := Plot(pngPath, rep); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 200 {
		t.Errorf("plot is %v", b)
	}
}

// TestBaselineCache checks that a second request for the baselines is
// answered from the cache with the same numbers and without computing: it
// succeeds with a context that is already cancelled, which any encoding or
// fitting would notice. A different seed misses the cache.
func TestBaselineCache(t *testing.T) {
	cfg := smallConfig(t, 1, 1)
	cfg.Epochs = 3
	ctx := context.Background()
	ds, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mc := model.NarrowConfig(16, 8)
	first, err := Baselines(ctx, ds, mc, 5, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range first {
		if r.Cached {
			t.Fatalf("%s: cached on the first run", r.Features)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	second, err := Baselines(done, ds, mc, 5, cfg)
	if err != nil {
		t.Fatalf("second run is not served from the cache: %v", err)
	}
	for i := range first {
		if !second[i].Cached {
			t.Errorf("%s: not marked cached", second[i].Features)
		}
		a, _ := json.Marshal(first[i].Layers)
		b, _ := json.Marshal(second[i].Layers)
		if !bytes.Equal(a, b) || first[i].Chance != second[i].Chance {
			t.Errorf("%s: cached numbers differ:\n%s\n%s", first[i].Features, a, b)
		}
	}
	if _, err := Baselines(done, ds, mc, 6, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("another seed: %v, want a cache miss that starts computing (and sees the cancelled context)", err)
	}
	other := cfg
	other.Epochs = 4
	if _, err := Cached(done, ds, KindMFCC, nil, 0, other, func() (Features, error) { return MFCC(ds.Task), nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("other probe settings: %v, want a cache miss", err)
	}
	entries, _ := os.ReadDir(cfg.CacheDir)
	if len(entries) != 2 {
		t.Errorf("%d cache entries, want 2", len(entries))
	}
}
