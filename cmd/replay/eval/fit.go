package eval

import (
	"context"
	"fmt"
	"time"

	"clapp/model"
	"clapp/model/probe"
)

// LayerResult is the probe of one layer.
type LayerResult struct {
	Layer    int     `json:"layer"`
	TestAcc  float64 `json:"test_acc"`
	TrainAcc float64 `json:"train_acc"`
	// TrainLoss is the mean cross-entropy on the training frames after the
	// last epoch.
	TrainLoss float64 `json:"train_loss"`
	// Features says what the layer is and how it was brought to the grid.
	Features    string  `json:"features"`
	Width       int     `json:"width"`
	Rate        float64 `json:"rate_hz"`
	TrainFrames int     `json:"train_frames"`
	TestFrames  int     `json:"test_frames"`
	// Seconds is the time the fit and the two accuracies took.
	Seconds float64 `json:"seconds"`
}

// ProbeSettings are the settings that determine a probe's numbers.
type ProbeSettings struct {
	Epochs        int     `json:"epochs"`
	LearningRate  float64 `json:"lr"`
	BatchSize     int     `json:"batch_size"`
	Seed          uint64  `json:"seed"`
	TrainFrames   int     `json:"train_frames_budget"`
	TestFrames    int     `json:"test_frames_budget"`
	SubsampleSeed uint64  `json:"subsample_seed"`
}

func settings(cfg Config) ProbeSettings {
	return ProbeSettings{Epochs: cfg.Epochs, LearningRate: cfg.LearningRate, BatchSize: cfg.BatchSize, Seed: cfg.ProbeSeed,
		TrainFrames: cfg.TrainFrames, TestFrames: cfg.TestFrames, SubsampleSeed: cfg.SubsampleSeed}
}

// Result is the evaluation of one set of features: a probe per layer.
type Result struct {
	// Features is the kind (KindCheckpoint, KindRandomInit, KindMFCC),
	// Name which one.
	Features string `json:"features"`
	Name     string `json:"name,omitempty"`
	// Model is the encoder's configuration (nil for MFCC).
	Model   *model.Config `json:"model,omitempty"`
	Task    Task          `json:"task"`
	Labels  string        `json:"labels"`
	Classes int           `json:"classes"`
	// Chance is the test accuracy of always answering the most frequent
	// class of the training frames.
	Chance          float64       `json:"chance"`
	Layers          []LayerResult `json:"layers"`
	TrainUtterances int           `json:"train_utterances"`
	TestUtterances  int           `json:"test_utterances"`
	// TrainAvailable and TestAvailable count the labelled frames before
	// subsampling; each LayerResult says how many were used.
	TrainAvailable int           `json:"train_frames_available"`
	TestAvailable  int           `json:"test_frames_available"`
	Failed         []Skip        `json:"failed,omitempty"`
	Probe          ProbeSettings `json:"probe"`
	// EncodeSeconds and ProbeSeconds are the wall times of the extraction
	// and of all fits.
	EncodeSeconds float64 `json:"encode_seconds"`
	ProbeSeconds  float64 `json:"probe_seconds"`
	// Cached is set when the result was read from the cache.
	Cached bool `json:"cached,omitempty"`
}

// Layer returns the result of layer n, or nil.
func (r *Result) Layer(n int) *LayerResult {
	for i := range r.Layers {
		if r.Layers[i].Layer == n {
			return &r.Layers[i]
		}
	}
	return nil
}

// Evaluate extracts the frames of f (Extract) and fits a probe on every
// layer (Fit): the whole evaluation of one encoder or of MFCCs.
func Evaluate(ctx context.Context, ds *Dataset, f Features, cfg Config) (*Result, error) {
	fs, err := Extract(ctx, ds, f, cfg)
	if err != nil {
		return nil, err
	}
	return Fit(ctx, ds, fs, cfg)
}

// Fit fits a softmax regression (standardised features, Adam) on the
// training frames of every layer of fs, layers in parallel on
// Config.Workers goroutines, and measures train and test frame accuracy.
func Fit(ctx context.Context, ds *Dataset, fs *FrameSet, cfg Config) (*Result, error) {
	cfg, err := cfg.Fill()
	if err != nil {
		return nil, err
	}
	ensureBLAS(cfg)
	start := time.Now()
	res := &Result{
		Features: fs.Kind, Name: fs.Name, Task: ds.Task, Labels: ds.Labels, Classes: ds.Classes,
		Chance:          chance(fs.TrainLabels, fs.TestLabels, ds.Classes),
		Layers:          make([]LayerResult, len(fs.Layers)),
		TrainUtterances: len(ds.Train.Utterances), TestUtterances: len(ds.Test.Utterances),
		TrainAvailable: fs.TrainAvailable, TestAvailable: fs.TestAvailable,
		Failed: fs.Failed, Probe: settings(cfg), EncodeSeconds: fs.Seconds,
	}
	if fs.features.Encoder != nil {
		mc := fs.features.Encoder.Config
		res.Model = &mc
	}
	bar := newBar(cfg, len(fs.Layers)*cfg.Epochs, fmt.Sprintf("probing (%s)", fs.Kind))
	err = parallel(ctx, len(fs.Layers), cfg.Workers, func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := fs.Layers[i]
		t0 := time.Now()
		pc := probe.Config{
			LearningRate: cfg.LearningRate, Epochs: cfg.Epochs, BatchSize: cfg.BatchSize,
			Standardize: true, Seed: cfg.ProbeSeed + uint64(l), BLAS: model.BLAS(),
			Progress: func(probe.Epoch) { bar.add(1) },
		}
		p, err := probe.Fit(fs.Train[i], fs.TrainLabels, ds.Classes, pc)
		if err != nil {
			return fmt.Errorf("eval: probe of layer %d (%s): %w", l, fs.Kind, err)
		}
		lr := LayerResult{
			Layer: l, TrainAcc: p.Accuracy(fs.Train[i], fs.TrainLabels), TestAcc: p.Accuracy(fs.Test[i], fs.TestLabels),
			TrainLoss: p.Loss(fs.Train[i], fs.TrainLabels),
			Features:  fs.features.Describe(l), Width: fs.Train[i].Cols, Rate: fs.features.Rate(l),
			TrainFrames: labelled(fs.TrainLabels), TestFrames: labelled(fs.TestLabels),
		}
		lr.Seconds = time.Since(t0).Seconds()
		res.Layers[i] = lr
		cfg.Logger.Info("eval: layer probed", "features", fs.Kind, "layer", l,
			"test_acc", lr.TestAcc, "train_acc", lr.TrainAcc, "seconds", lr.Seconds)
		return nil
	})
	bar.finish()
	if err != nil {
		return nil, err
	}
	res.ProbeSeconds = time.Since(start).Seconds()
	return res, nil
}

func labelled(l []int) int {
	n := 0
	for _, c := range l {
		if c >= 0 {
			n++
		}
	}
	return n
}

// chance returns the test accuracy of answering the most frequent training
// class.
func chance(train, test []int, classes int) float64 {
	count := make([]int, classes)
	for _, c := range train {
		if c >= 0 && c < classes {
			count[c]++
		}
	}
	best := 0
	for c := range count {
		if count[c] > count[best] {
			best = c
		}
	}
	hits, n := 0, 0
	for _, c := range test {
		if c < 0 {
			continue
		}
		n++
		if c == best {
			hits++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hits) / float64(n)
}
