package eval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"clapp/stream/streamtest"
)

// TestBadInputs checks that every kind of bad input gives an error that
// wraps the right sentinel and names the input and what to do.
func TestBadInputs(t *testing.T) {
	good := smallConfig(t, 1, 1)
	d := streamtest.DataDir(t)
	onlyAbsent := writeSplit(t, "absent.txt", []string{"1737-148989-0038", "1116-132851-0018"})
	otherReader := writeSplit(t, "other.txt", []string{"4088-158077-0037", "2911-12359-0007"})
	emptyDir := t.TempDir()
	noAudioDir := t.TempDir()
	os.WriteFile(filepath.Join(noAudioDir, "readme.txt"), []byte("no audio"), 0o644)

	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want error
		says []string
	}{
		{"labels without scheme", func(c *Config) { c.Labels = alignDir(t) }, ErrConfig, []string{"textgrid:DIR", "cpc:FILE"}},
		{"labels unknown scheme", func(c *Config) { c.Labels = "mfa:" + alignDir(t) }, ErrConfig, []string{`"mfa:`, "textgrid:DIR"}},
		{"labels without path", func(c *Config) { c.Labels = "textgrid:" }, ErrConfig, []string{"needs a path"}},
		{"unknown task", func(c *Config) { c.Task = "words" }, ErrConfig, []string{`"words"`, "phone", "speaker"}},
		{"no data", func(c *Config) { c.Data = "" }, ErrConfig, []string{"no data"}},
		{"no splits", func(c *Config) { c.TrainSplit = "" }, ErrConfig, []string{"train split and a test split"}},
		{"speaker with labels", func(c *Config) { c.Task = TaskSpeaker }, ErrConfig, []string{"speaker task", "drop the labels"}},
		{"synthetic with splits", func(c *Config) { c.Data = Synthetic; c.Labels = "" }, ErrConfig, []string{"synthetic speech"}},
		{"data missing", func(c *Config) { c.Data = filepath.Join(emptyDir, "nope") }, ErrData, []string{"nope"}},
		{"data without audio", func(c *Config) { c.Data = noAudioDir }, ErrData, []string{"no .flac or .wav", noAudioDir}},
		{"data is a file", func(c *Config) { c.Data = filepath.Join(noAudioDir, "readme.txt") }, ErrData, []string{"not a directory"}},
		{"split missing", func(c *Config) { c.TestSplit = filepath.Join(emptyDir, "test.txt") }, ErrData, []string{"test split", "test.txt"}},
		{"split malformed", func(c *Config) { c.TrainSplit = filepath.Join(noAudioDir, "readme.txt") }, ErrData, []string{"readme.txt", "line 1"}},
		{"split of other audio", func(c *Config) { c.TrainSplit = onlyAbsent }, ErrData, []string{"none of the 2 ids", "absent.txt"}},
		{"labels dir missing", func(c *Config) { c.Labels = "textgrid:" + filepath.Join(emptyDir, "al") }, ErrData, []string{filepath.Join(emptyDir, "al")}},
		{"labels cover nothing", func(c *Config) { c.Labels = "textgrid:" + emptyDir }, ErrData, []string{"no utterance of the train split has usable labels", "no TextGrid"}},
		{"cpc file covers nothing", func(c *Config) { c.Labels = "cpc:" + filepath.Join(d, "cpc", "converted_aligned_phones.sample.txt") }, ErrData, []string{"usable labels", "not in"}},
		{"cpc file missing", func(c *Config) { c.Labels = "cpc:" + filepath.Join(emptyDir, "phones.txt") }, ErrData, []string{"phones.txt"}},
		{"no alignments to find", func(c *Config) {
			c.Labels = ""
			c.Data = filepath.Join(d, "cpc", "audio")
			c.TrainSplit, c.TestSplit = otherReader, otherReader
		}, ErrConfig, []string{"no MFA alignments", "textgrid:DIR"}},
		{"speaker of unknown reader", func(c *Config) {
			c.Labels, c.Task = "", TaskSpeaker
			c.Data = d
			c.TrainSplit = writeSplit(t, "spk-train.txt", []string{"4088-158077-0037"})
			c.TestSplit = otherReader
		}, ErrData, []string{"2911-12359-0007", "reader 2911", "readers [4088]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			_, err := LoadDataset(context.Background(), c)
			t.Log(err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}

	t.Run("checkpoint missing", func(t *testing.T) {
		p := filepath.Join(emptyDir, "enc.safetensors")
		if _, err := CheckpointFeatures(p); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), p) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("checkpoint corrupt", func(t *testing.T) {
		p := filepath.Join(emptyDir, "bad.safetensors")
		os.WriteFile(p, []byte("not a checkpoint"), 0o644)
		if _, err := CheckpointFeatures(p); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), p) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("encode MFCC", func(t *testing.T) {
		if _, err := Encode(context.Background(), MFCC(TaskPhone), t.TempDir(), good); !errors.Is(err, ErrConfig) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("encode synthetic", func(t *testing.T) {
		f, _ := RandomInit(smallModel(), 1)
		c := good
		c.Data = Synthetic
		if _, err := Encode(context.Background(), f, t.TempDir(), c); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "directory of audio") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("plot without extension", func(t *testing.T) {
		r := &Report{Result: &Result{Layers: []LayerResult{{Layer: 1, TestAcc: 0.5}}}}
		if err := Plot(filepath.Join(t.TempDir(), "plot"), r); !errors.Is(err, ErrConfig) {
			t.Errorf("err = %v", err)
		}
	})
}

// TestUnreadableAudioIsSkipped gives the extraction a file that breaks off
// midway: its frames are left out and named, the others are used.
func TestUnreadableAudioIsSkipped(t *testing.T) {
	cfg := smallConfig(t, 1, 1)
	ctx := context.Background()
	ds, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A truncated copy of the first train utterance, in a temporary
	// directory outside the repository.
	u := &ds.Train.Utterances[0]
	data, err := os.ReadFile(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), u.ID+".flac")
	if err := os.WriteFile(bad, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	u.Path = bad
	fs, err := Extract(ctx, ds, MFCC(TaskPhone), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.Failed) != 1 || fs.Failed[0].ID != u.ID || !strings.Contains(fs.Failed[0].Reason, bad) {
		t.Fatalf("failed %v, want %s named with its file", fs.Failed, u.ID)
	}
	if n := labelled(fs.TrainLabels); n != fs.Train[0].Rows-len(u.Labels) {
		t.Errorf("%d labelled train rows, want %d", n, fs.Train[0].Rows-len(u.Labels))
	}
	r, err := Fit(ctx, ds, fs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Layers[0].TrainFrames != fs.Train[0].Rows-len(u.Labels) || len(r.Failed) != 1 {
		t.Errorf("probe used %d train frames, failed %v", r.Layers[0].TrainFrames, r.Failed)
	}
}
