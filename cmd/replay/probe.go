package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"clapp/cmd/internal/cli"
	"clapp/cmd/replay/eval"
)

const probeSynopsis = `--data DIR|synthetic (--checkpoint FILE | --random-init | --mfcc) [--labels textgrid:DIR|cpc:FILE]
             [--task phone|speaker|phone,speaker] --train-split FILE --test-split FILE [--json]

Freezes the encoder and fits a linear classifier (softmax regression,
Adam) per layer on the frames of the train split, every layer brought to
the 10 ms label grid (layers faster than 100 Hz averaged per cell, layers
5 and 6 frame by frame); reports frame accuracy on the test split. Layer 0
is MFCC. A checkpoint is shown against the random-init and MFCC baselines
(cached). Writes a run directory with the results and a plot of accuracy
against depth.`

func cmdProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("probe", probeSynopsis, stderr)
	var cf cli.CommonFlags
	cf.Register(fs)
	var sf cli.SizeFlags
	sf.Register(fs)
	var c eval.Config
	fs.StringVar(&c.Data, "data", "", "LibriSpeech directory (e.g. ../shared/data/LibriSpeech/train-clean-100), or synthetic")
	ckpt := fs.String("checkpoint", "", "encoder checkpoint to evaluate")
	random := fs.Bool("random-init", false, "evaluate a randomly initialised encoder (PyTorch's default initialisation; --size, --seed)")
	mfccOnly := fs.Bool("mfcc", false, "evaluate MFCC features (13 + deltas + delta-deltas, per-utterance normalisation)")
	fs.StringVar(&c.Labels, "labels", "", "phone labels: textgrid:DIR (Montreal Forced Aligner, 40 classes) or cpc:FILE (41 classes); default textgrid:../shared/data/librispeech-alignments/train-clean-100 next to --data")
	task := fs.String("task", "phone", "phone, speaker, or phone,speaker (one encoding for both; --json then prints {\"phone\": {...}, \"speaker\": {...}})")
	fs.StringVar(&c.TrainSplit, "train-split", "", "utterance ids to fit the probes on")
	fs.StringVar(&c.TestSplit, "test-split", "", "utterance ids to test on")
	asJSON := fs.Bool("json", false, "print one JSON object: {\"layers\": [{\"layer\": n, \"test_acc\": x, \"train_acc\": y}, ...], ...}")
	seed := fs.Uint64("seed", 1, "seed of the random-init encoder and of the baselines' random encoder")
	fs.IntVar(&c.Epochs, "epochs", 0, "probe epochs (default 20)")
	fs.Float64Var(&c.LearningRate, "probe-lr", 0, "probe learning rate (default 1e-3)")
	fs.IntVar(&c.TrainFrames, "train-frames", 0, "at most this many training frames per layer, drawn at random (default 200000; -1: all)")
	noBase := fs.Bool("no-baselines", false, "do not compute the random-init and MFCC baselines next to a checkpoint")
	minGain := fs.Float64("require-gain", -1, "fail unless the checkpoint's top layer beats the random-init baseline's by this many points (for CI)")
	fs.StringVar(&c.CacheDir, "cache", "", "directory of cached baseline results (default: the user cache directory)")
	if err := parse(fs, args); err != nil {
		return err
	}
	kinds := 0
	for _, b := range []bool{*ckpt != "", *random, *mfccOnly} {
		if b {
			kinds++
		}
	}
	if kinds != 1 {
		return fmt.Errorf("give exactly one of --checkpoint FILE, --random-init and --mfcc")
	}
	if c.Data == "" {
		return fmt.Errorf("--data is required: a LibriSpeech directory or synthetic")
	}
	var tasks []eval.Task
	for t := range strings.SplitSeq(*task, ",") {
		t = strings.TrimSpace(t)
		if t != string(eval.TaskPhone) && t != string(eval.TaskSpeaker) || slices.Contains(tasks, eval.Task(t)) {
			return fmt.Errorf("--task %q: give phone, speaker or phone,speaker", *task)
		}
		tasks = append(tasks, eval.Task(t))
	}
	if len(tasks) > 1 && c.Labels != "" {
		return fmt.Errorf("--labels is for the phone task alone; drop it or give --task phone")
	}
	log, backend, err := cf.Setup(stderr)
	if err != nil {
		return err
	}
	c.Logger, c.Progress = log, stderr
	rd, err := cli.NewRunDir(cf.RunsDir, "probe", cf.RunName)
	if err != nil {
		return err
	}
	if err := rd.WriteJSON("config.json", map[string]any{"run": cli.NewRunInfo("probe", args, backend.Name()), "flags": cli.FlagValues(fs), "seed": *seed}); err != nil {
		return err
	}
	dss := make([]*eval.Dataset, len(tasks))
	for i, t := range tasks {
		tc := c
		tc.Task = t
		if dss[i], err = eval.LoadDataset(ctx, tc); err != nil {
			return err
		}
		log.Info("data", "task", t, "train", dss[i].Train.Summary(), "test", dss[i].Test.Summary(), "classes", dss[i].Classes)
	}
	var f eval.Features
	switch {
	case *ckpt != "":
		f, err = eval.CheckpointFeatures(*ckpt)
	case *random:
		mc, cerr := sf.Config(backend)
		if cerr != nil {
			return cerr
		}
		f, err = eval.RandomInit(mc, *seed)
	}
	if err != nil {
		return err
	}
	// An encoder is run once for all tasks (encoding is most of the
	// time); MFCCs differ per task and are cheap.
	results := make([]*eval.Result, len(tasks))
	if f.Encoder != nil {
		sets, err := eval.ExtractAll(ctx, dss, f, c)
		if err != nil {
			return err
		}
		for i, ds := range dss {
			if results[i], err = eval.Fit(ctx, ds, sets[i], c); err != nil {
				return err
			}
		}
	} else {
		for i, ds := range dss {
			if results[i], err = eval.Evaluate(ctx, ds, eval.MFCC(ds.Task), c); err != nil {
				return err
			}
		}
	}
	reports := make([]*eval.Report, len(tasks))
	var ids []string
	seen := map[string]bool{}
	for _, ds := range dss {
		for _, s := range []eval.Split{ds.Train, ds.Test} {
			for _, u := range s.Utterances {
				if !seen[u.ID] {
					seen[u.ID] = true
					ids = append(ids, u.ID)
				}
			}
		}
	}
	if err := rd.WriteLines("data_ids.txt", ids); err != nil {
		return err
	}
	for i, ds := range dss {
		var base []*eval.Result
		if f.Encoder != nil && *ckpt != "" && !*noBase {
			if base, err = eval.Baselines(ctx, ds, f.Encoder.Config, *seed, c); err != nil {
				return fmt.Errorf("baselines: %w", err)
			}
		}
		reports[i] = eval.NewReport(ds, results[i], base...)
		// One task keeps the file names scripts know; several get the
		// task in their names.
		file, plot := "results.json", "probe.png"
		if len(tasks) > 1 {
			file, plot = "results-"+string(ds.Task)+".json", "probe-"+string(ds.Task)+".png"
		}
		if err := rd.WriteJSON(file, reports[i]); err != nil {
			return err
		}
		if err := eval.Plot(rd.File(plot), reports[i]); err != nil {
			log.Warn("plot", "err", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		var v any = reports[0]
		if len(reports) > 1 {
			byTask := map[eval.Task]*eval.Report{}
			for _, r := range reports {
				byTask[r.Task] = r
			}
			v = byTask
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			if err := eval.WriteTable(stdout, r); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "run directory: %s\n", rd.Path)
	}
	if *minGain >= 0 {
		for _, r := range reports {
			if err := requireGain(r, *minGain); err != nil {
				return fmt.Errorf("%s: %w", r.Task, err)
			}
		}
	}
	return nil
}

// requireGain checks the top layer against the random-init baseline.
func requireGain(rep *eval.Report, points float64) error {
	var random *eval.Result
	for _, b := range rep.Baselines {
		if b.Features == eval.KindRandomInit {
			random = b
		}
	}
	if random == nil || len(rep.Layers) == 0 || len(random.Layers) == 0 {
		return fmt.Errorf("--require-gain needs a checkpoint and its random-init baseline")
	}
	top := rep.Layers[len(rep.Layers)-1]
	var base float64
	for _, l := range random.Layers {
		if l.Layer == top.Layer {
			base = l.TestAcc
		}
	}
	if gain := 100 * (top.TestAcc - base); gain < points {
		return fmt.Errorf("layer %d: %.1f %% against %.1f %% at random init: a gain of %.1f points, %.1f required", top.Layer, 100*top.TestAcc, 100*base, gain, points)
	}
	return nil
}
