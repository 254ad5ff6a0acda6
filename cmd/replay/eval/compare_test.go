package eval

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeResult writes r as a probe run directory's results file and returns
// the directory.
func writeResult(t *testing.T, root, name, file string, r *Result) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func result(task Task, kind string, accs map[int]float64) *Result {
	r := &Result{Features: kind, Task: task}
	for l := 0; l <= 6; l++ {
		if a, ok := accs[l]; ok {
			r.Layers = append(r.Layers, LayerResult{Layer: l, TestAcc: a})
		}
	}
	return r
}

func TestCompare(t *testing.T) {
	root := t.TempDir()
	// A checkpoint's training run directory, whose results.json the
	// comparison reads for the audio learned and the wall time.
	train := filepath.Join(root, "train")
	os.MkdirAll(train, 0o755)
	os.WriteFile(filepath.Join(train, "results.json"), []byte(`{"audio_seconds": 7200, "wall_seconds": 1800}`), 0o644)
	for i, acc := range []float64{0.30, 0.34, 0.32} {
		r := result(TaskPhone, KindCheckpoint, map[int]float64{1: 0.5, 6: acc})
		r.Name = filepath.Join(train, "checkpoint.safetensors")
		// Both file names a probe writes: one task, or several.
		file := "results.json"
		if i == 1 {
			file = "results-phone.json"
			writeResult(t, root, "probe_clapp_s2", "results-speaker.json", result(TaskSpeaker, KindCheckpoint, map[int]float64{6: 0.9}))
		}
		writeResult(t, root, "probe_clapp_s"+string(rune('1'+i)), file, r)
	}
	writeResult(t, root, "probe_mfcc", "results.json", result(TaskPhone, KindMFCC, map[int]float64{0: 0.46}))

	clapp, files, err := ReadResults(TaskPhone, filepath.Join(root, "probe_clapp_s*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(clapp) != 3 || !strings.HasSuffix(files[1], "results-phone.json") {
		t.Fatalf("read %d results from %v", len(clapp), files)
	}
	mfcc, _, err := ReadResults(TaskPhone, filepath.Join(root, "probe_mfcc", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compare(TaskPhone, []Group{{Name: "CLAPP", Results: clapp}, {Name: "MFCC", Results: mfcc}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 6}; len(c.Layers) != 3 || c.Layers[0] != want[0] || c.Layers[2] != want[2] {
		t.Fatalf("layers %v, want %v", c.Layers, want)
	}
	g := c.Groups[0]
	near := func(a JSONFloat, b float64) bool { return math.Abs(float64(a)-b) < 1e-12 }
	if !near(g.Mean[2], 0.32) || !near(g.SD[2], 0.02) || !near(g.Mean[1], 0.5) || !near(g.SD[1], 0) || !math.IsNaN(float64(g.Mean[0])) {
		t.Errorf("CLAPP row: mean %v sd %v, want GRU 0.32 ± 0.02, layer 1 0.5 ± 0, no MFCC", g.Mean, g.SD)
	}
	if g.AudioHours != 2 || g.WallMinutes != 30 {
		t.Errorf("training: %.2f h in %.1f min, want 2 h in 30 min", g.AudioHours, g.WallMinutes)
	}
	var md strings.Builder
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| CLAPP | 3 | 2.00 | 30.0 | | 50.0 ± 0.0 | 32.0 ± 2.0 |", "| MFCC | 1 | | | 46.0 | | |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, md.String())
		}
	}
	raw, err := json.Marshal(c)
	if err != nil || !strings.Contains(string(raw), `"mean_test_acc":[null,0.5,`) {
		t.Errorf("JSON %s (%v): a missing layer should be null", raw, err)
	}
	if err := c.Plot(filepath.Join(root, "compare.png")); err != nil {
		t.Error(err)
	}
	if st, err := os.Stat(filepath.Join(root, "compare.png")); err != nil || st.Size() < 1000 {
		t.Errorf("plot: %v", err)
	}
}

func TestReadResultsErrors(t *testing.T) {
	root := t.TempDir()
	writeResult(t, root, "speaker", "results.json", result(TaskSpeaker, KindMFCC, map[int]float64{0: 0.6}))
	writeResult(t, root, "junk", "results.json", &Result{})
	os.MkdirAll(filepath.Join(root, "empty"), 0o755)
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(root, "nothing*"), "no such file"},
		{filepath.Join(root, "empty"), "probe run directory"},
		{filepath.Join(root, "speaker"), "speaker probe, not phone"},
		{filepath.Join(root, "junk"), "no layers"},
	} {
		_, _, err := ReadResults(TaskPhone, tc.path)
		if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrData saying %q", tc.path, err, tc.want)
		}
	}
	if _, err := Compare(TaskPhone, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nothing to compare: %v", err)
	}
}

func TestStepTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		want   []float64
	}{
		{25, 55, []float64{25, 30, 35, 40, 45, 50, 55}},
		{31, 47, []float64{32, 34, 36, 38, 40, 42, 44, 46}},
		{0, 100, []float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}},
		{40, 41, []float64{40}},
	}
	for _, tc := range cases {
		var got []float64
		for _, tk := range stepTicks(tc.lo, tc.hi) {
			got = append(got, tk.Value)
		}
		if len(got) != len(tc.want) {
			t.Errorf("stepTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("stepTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
				break
			}
		}
	}
}

// TestSeriesColorsDistinct: a comparison of ten groups draws ten colours.
func TestSeriesColorsDistinct(t *testing.T) {
	seen := map[[4]uint32]int{}
	for i := range 10 {
		r, g, b, a := seriesColor(i).RGBA()
		k := [4]uint32{r, g, b, a}
		if j, ok := seen[k]; ok {
			t.Errorf("series %d and %d share the colour %v", j, i, k)
		}
		seen[k] = i
	}
}
