package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"clapp/model"
	"clapp/stream/streamtest"
)

// The commands run in-process with their real arguments, on built-in
// speech and on the shared LibriSpeech files.

var tiny = []string{"--size", "narrow", "--channels", "32", "--hidden", "24", "--k", "4", "--progress", "off"}

func replay(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func runDirOf(t *testing.T, stdout string) string {
	t.Helper()
	m := regexp.MustCompile(`run directory: (\S+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no run directory in:\n%s", stdout)
	}
	return m[1]
}

func TestTrainWritesARunDirectory(t *testing.T) {
	runs := t.TempDir()
	args := append([]string{"train", "--minutes", "0.15", "--streams", "2", "--chunk", "3200", "--report-every", "2s", "--runs", runs, "--seed", "7"}, tiny...)
	code, out, errs := replay(t, args...)
	if code != 0 {
		t.Fatalf("train exited %d:\n%s\n%s", code, out, errs)
	}
	dir := runDirOf(t, out)
	for _, f := range []string{"config.json", "results.json", "data_ids.txt", "loss.png", "loss_curve.json", "checkpoint.safetensors"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("run directory lacks %s (%v)", f, err)
		}
	}
	var cfg struct {
		Run struct {
			Commit string `json:"commit"`
		} `json:"run"`
		Seed  uint64            `json:"seed"`
		Flags map[string]string `json:"flags"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.Seed != 7 || cfg.Run.Commit == "" || cfg.Flags["data"] != "synthetic" {
		t.Errorf("config.json: %s (%v)", raw, err)
	}
	ids, _ := os.ReadFile(filepath.Join(dir, "data_ids.txt"))
	if !strings.Contains(string(ids), "synth-s") {
		t.Errorf("data_ids.txt: %q", ids)
	}
	ck, err := model.LoadCheckpoint(filepath.Join(dir, "checkpoint.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var meta trainMeta
	if err := json.Unmarshal(ck.Meta, &meta); err != nil || meta.AudioSeconds <= 0 || meta.Utterances == 0 {
		t.Fatalf("checkpoint metadata %s (%v)", ck.Meta, err)
	}

	// Resume: the budget of audio and the utterances go on from there.
	path := filepath.Join(dir, "checkpoint.safetensors")
	args = append([]string{"train", "--resume", "--checkpoint", path, "--minutes", "0.1", "--streams", "2", "--chunk", "3200", "--runs", runs}, tiny...)
	if code, out, errs := replay(t, args...); code != 0 {
		t.Fatalf("resume exited %d:\n%s\n%s", code, out, errs)
	}
	ck2, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	var meta2 trainMeta
	json.Unmarshal(ck2.Meta, &meta2)
	if meta2.AudioSeconds <= meta.AudioSeconds || meta2.Utterances <= meta.Utterances {
		t.Errorf("after resume: %.1f s of audio and %d utterances, before %.1f and %d", meta2.AudioSeconds, meta2.Utterances, meta.AudioSeconds, meta.Utterances)
	}
	if ck2.Optim[0] == nil || ck2.Optim[0].Cycles <= ck.Optim[0].Cycles {
		t.Error("the optimiser state did not carry on")
	}
}

// TestTrainSkipsCorruptFiles: a LibriSpeech tree with a corrupt file among
// real ones is learned from; the bad file is named and counted.
func TestTrainSkipsCorruptFiles(t *testing.T) {
	tree := t.TempDir()
	ch := filepath.Join(tree, "4088", "158077")
	os.MkdirAll(ch, 0o755)
	for _, id := range []string{"4088-158077-0000", "4088-158077-0001"} {
		src := filepath.Join(streamtest.LibriSpeech(t), "4088", "158077", id+".flac")
		if err := os.Symlink(src, filepath.Join(ch, id+".flac")); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(ch, "4088-158077-9999.flac"), []byte("fLaC but not really a FLAC file at all"), 0o644)
	runs := t.TempDir()
	args := append([]string{"train", "--data", tree, "--streams", "2", "--runs", runs}, tiny...)
	code, out, errs := replay(t, args...)
	if code != 0 {
		t.Fatalf("train exited %d:\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "1 files skipped") {
		t.Errorf("summary does not count the skipped file:\n%s", out)
	}
	raw, _ := os.ReadFile(filepath.Join(runDirOf(t, out), "results.json"))
	if !strings.Contains(string(raw), "4088-158077-9999.flac") {
		t.Errorf("results.json does not name the corrupt file")
	}
}

func TestModuleBaselinesTrain(t *testing.T) {
	for _, rule := range [][]string{{"--rule", "infonce"}, {"--rule", "hinge-cpc"}, {"--rule", "clapp-s", "--modules", "3"}} {
		runs := t.TempDir()
		args := append(append([]string{"train", "--minutes", "0.1", "--streams", "2", "--chunk", "8000", "--runs", runs}, rule...), tiny...)
		code, out, errs := replay(t, args...)
		if code != 0 {
			t.Fatalf("%v exited %d:\n%s\n%s", rule, code, out, errs)
		}
		if _, err := model.LoadCheckpoint(filepath.Join(runDirOf(t, out), "checkpoint.safetensors")); err != nil {
			t.Errorf("%v: %v", rule, err)
		}
	}
}

func TestProbeJSONContract(t *testing.T) {
	runs := t.TempDir()
	code, out, errs := replay(t, "probe", "--data", "synthetic", "--mfcc", "--json", "--runs", runs, "--epochs", "3")
	if code != 0 {
		t.Fatalf("probe exited %d:\n%s", code, errs)
	}
	var rep struct {
		Layers []struct {
			Layer    *int     `json:"layer"`
			TestAcc  *float64 `json:"test_acc"`
			TrainAcc *float64 `json:"train_acc"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("probe --json printed something else: %v\n%s", err, out)
	}
	if len(rep.Layers) != 1 || rep.Layers[0].Layer == nil || *rep.Layers[0].Layer != 0 || rep.Layers[0].TestAcc == nil || rep.Layers[0].TrainAcc == nil {
		t.Fatalf("layers %s", out)
	}
	if acc := *rep.Layers[0].TestAcc; acc < 0.3 {
		t.Errorf("MFCC probe on synthetic speech: %.3f", acc)
	}
}

// TestProbeBothTasks probes phones and speakers in one run: one JSON
// object keyed by task, each a report of its own task, and a results file
// and plot per task in the run directory.
func TestProbeBothTasks(t *testing.T) {
	runs := t.TempDir()
	args := []string{"probe", "--data", "synthetic", "--random-init", "--task", "phone,speaker", "--json", "--runs", runs, "--epochs", "2", "--size", "narrow", "--channels", "32", "--hidden", "24"}
	code, out, errs := replay(t, args...)
	if code != 0 {
		t.Fatalf("probe exited %d:\n%s", code, errs)
	}
	var rep map[string]struct {
		Task    string `json:"task"`
		Classes int    `json:"classes"`
		Layers  []struct {
			Layer   int     `json:"layer"`
			TestAcc float64 `json:"test_acc"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("probe --json printed something else: %v\n%s", err, out)
	}
	for _, task := range []string{"phone", "speaker"} {
		r, ok := rep[task]
		if !ok || r.Task != task || len(r.Layers) != 6 {
			t.Errorf("%s: %+v", task, r)
		}
	}
	if rep["phone"].Classes == rep["speaker"].Classes {
		t.Errorf("phone and speaker both have %d classes", rep["phone"].Classes)
	}
	dirs, _ := filepath.Glob(filepath.Join(runs, "*", "results-speaker.json"))
	plots, _ := filepath.Glob(filepath.Join(runs, "*", "probe-phone.png"))
	if len(dirs) != 1 || len(plots) != 1 {
		t.Errorf("run directory lacks results-speaker.json or probe-phone.png: %v %v", dirs, plots)
	}

	// compare reads the run directory back, the task picking the file;
	// flags may follow the groups.
	probeDir := filepath.Dir(dirs[0])
	code, out, errs = replay(t, "compare", "--runs", t.TempDir(), "random init="+probeDir, "--task", "speaker")
	if code != 0 {
		t.Fatalf("compare exited %d:\n%s", code, errs)
	}
	want := fmt.Sprintf("| random init | 1 | | | %.1f |", 100*rep["speaker"].Layers[0].TestAcc)
	if !strings.Contains(out, want) {
		t.Errorf("compare printed no row %q:\n%s", want, out)
	}
	if code, _, errs := replay(t, "compare", "--runs", t.TempDir(), "x="+filepath.Join(probeDir, "nothing")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("compare of a missing run: exit %d\n%s", code, errs)
	}
}

func TestBenchJSONContract(t *testing.T) {
	code, out, errs := replay(t, "bench", "--json", "--seconds", "2", "--long-stream", "0", "--size", "narrow", "--channels", "32", "--hidden", "16", "--only", "train", "--runs", t.TempDir())
	if code != 0 {
		t.Fatalf("bench exited %d:\n%s", code, errs)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	for _, k := range []string{"train_audio_s_per_s", "infer_audio_s_per_s", "peak_rss_mb", "blas"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("bench --json lacks %q", k)
		}
	}
	if v, _ := rep["train_audio_s_per_s"].(float64); v <= 0 {
		t.Errorf("train_audio_s_per_s = %v", rep["train_audio_s_per_s"])
	}
}

func TestEncodeWritesNPY(t *testing.T) {
	runs := t.TempDir()
	args := append([]string{"train", "--minutes", "0.05", "--streams", "1", "--chunk", "3200", "--runs", runs}, tiny...)
	code, out, errs := replay(t, args...)
	if code != 0 {
		t.Fatalf("train: %s", errs)
	}
	ck := filepath.Join(runDirOf(t, out), "checkpoint.safetensors")
	tree := t.TempDir()
	src := streamtest.Utterance(t)
	os.Symlink(src, filepath.Join(tree, "4088-158077-0000.flac"))
	outDir := t.TempDir()
	if code, out, errs := replay(t, "encode", "--checkpoint", ck, "--data", tree, "--out", outDir); code != 0 {
		t.Fatalf("encode exited %d:\n%s\n%s", code, out, errs)
	}
	for n := 1; n <= 6; n++ {
		p := filepath.Join(outDir, "4088-158077-0000", "layer"+string(rune('0'+n))+".npy")
		raw, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(raw, []byte("\x93NUMPY")) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outDir, "index.json")); err != nil {
		t.Error(err)
	}
}

func TestBadArguments(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"train", "--rule", "magic"}, 1, `--rule "magic"`},
		{[]string{"train", "--night", "sometimes"}, 1, "every:N"},
		{[]string{"train", "--minutes", "1", "--hours-of-audio", "1"}, 1, "exclude each other"},
		{[]string{"train", "--data", "/no/such/place"}, 1, "not a file, a directory"},
		{[]string{"train", "--resume", "--checkpoint", "/no/such.safetensors"}, 1, "--resume"},
		{[]string{"probe", "--data", "synthetic"}, 1, "exactly one of --checkpoint"},
		{[]string{"probe", "--data", "synthetic", "--mfcc", "--task", "phone,word"}, 1, "give phone, speaker or phone,speaker"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"train", "stray"}, 2, "unexpected argument"},
		{[]string{"compare"}, 2, "give at least one NAME=RUN"},
		{[]string{"compare", "nogroup"}, 1, "write NAME=RUN"},
		{[]string{"compare", "a=b", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"compare", "x=/no/such/run", "--task", "speaker"}, 1, "no such file"},
	}
	for _, tc := range cases {
		args := append(tc.args, "--runs", t.TempDir())
		if tc.args[0] == "frobnicate" {
			args = tc.args
		}
		code, out, errs := replay(t, args...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%v: exit %d, want %d saying %q; got:\n%s%s", tc.args, code, tc.code, tc.want, out, errs)
		}
	}
	for _, cmd := range []string{"train", "probe", "encode", "bench", "compare"} {
		if code, out, errs := replay(t, cmd, "--help"); code != 0 || !strings.Contains(out+errs, "Usage: replay "+cmd) {
			t.Errorf("%s --help exited %d:\n%s%s", cmd, code, out, errs)
		}
	}
}

// TestTrainEndReplaysLeftoverNegatives: a run whose budget ends before its
// first night (every:100000 optimiser steps) still replays the negatives it stored:
// every layer reports a night.
func TestTrainEndReplaysLeftoverNegatives(t *testing.T) {
	runs := t.TempDir()
	args := append([]string{"train", "--minutes", "0.05", "--streams", "2", "--chunk", "3200", "--night", "every:100000", "--runs", runs}, tiny...)
	code, out, errs := replay(t, args...)
	if code != 0 {
		t.Fatalf("train exited %d:\n%s\n%s", code, out, errs)
	}
	raw, err := os.ReadFile(filepath.Join(runDirOf(t, out), "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Layers []struct {
			Layer  int   `json:"layer"`
			Nights int64 `json:"nights"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || len(res.Layers) != 6 {
		t.Fatalf("results.json: %s (%v)", raw, err)
	}
	for _, l := range res.Layers {
		if l.Nights < 1 {
			t.Errorf("layer %d: %d nights: the negatives stored since the last night were dropped", l.Layer, l.Nights)
		}
	}
}
