package synth_test

import (
	"runtime"
	"sync"
	"testing"

	"clapp/model/mfcc"
	"clapp/model/probe"
	"clapp/stream/synth"
)

// dataset holds the frames of a set of utterances, two ways.
type dataset struct {
	raw    probe.Matrix // 160 samples per 10 ms frame
	mfcc   probe.Matrix // 39 MFCC features per frame
	ctx    probe.Matrix // MFCCs of the frame and its neighbours
	labels []int
}

const context = 3 // frames each side for the MLP

func buildDataset(g *synth.Generator, speakers []int, perSpeaker int) dataset {
	type part struct {
		raw, feat, ctx probe.Matrix
		labels         []int
	}
	ex := mfcc.Default()
	parts := make([]part, len(speakers)*perSpeaker)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range parts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			u := g.Utterance(speakers[i/perSpeaker], i%perSpeaker)
			n := len(u.Labels)
			f := probe.Matrix{Rows: n, Cols: ex.Dim(), Data: ex.Compute(u.Samples)}
			parts[i] = part{
				raw:    probe.Matrix{Rows: n, Cols: synth.FrameSamples, Data: u.Samples[:n*synth.FrameSamples]},
				feat:   f,
				ctx:    probe.Splice(f, context, context),
				labels: u.Labels,
			}
		}()
	}
	wg.Wait()
	var d dataset
	for _, p := range parts {
		d.raw = probe.Append(d.raw, p.raw)
		d.mfcc = probe.Append(d.mfcc, p.feat)
		d.ctx = probe.Append(d.ctx, p.ctx)
		d.labels = append(d.labels, p.labels...)
	}
	return d
}

func majority(labels []int) float64 {
	counts := make([]int, synth.NumClasses)
	best := 0
	for _, l := range labels {
		counts[l]++
		best = max(best, counts[l])
	}
	return float64(best) / float64(len(labels))
}

// TestLearnable measures, on held-out speakers, how well phones can be
// read from the synthetic speech: the floor (a linear probe on raw 10 ms
// sample frames), a linear probe on MFCCs, and the ceiling (an MLP on MFCCs
// with context). The task must leave room: at least 30 points between
// floor and ceiling, a ceiling well above chance and short of perfect.
func TestLearnable(t *testing.T) {
	g, err := synth.New(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	per := 6
	if testing.Short() {
		per = 3
	}
	train := buildDataset(g, g.TrainSpeakers(), per)
	test := buildDataset(g, g.TestSpeakers(), per)
	t.Logf("train %d frames (%d speakers), test %d frames (%d held-out speakers), majority class %.1f %%",
		len(train.labels), len(g.TrainSpeakers()), len(test.labels), len(g.TestSpeakers()), 100*majority(test.labels))

	fit := func(name string, x, tx probe.Matrix, cfg probe.Config) float64 {
		p, err := probe.Fit(x, train.labels, synth.NumClasses, cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr, te := p.Accuracy(x, train.labels), p.Accuracy(tx, test.labels)
		t.Logf("%-28s train %5.1f %%  held-out %5.1f %%", name, 100*tr, 100*te)
		return te
	}
	floor := fit("linear, raw samples (floor)", train.raw, test.raw,
		probe.Config{Standardize: true, Epochs: 10, Seed: 1})
	fit("linear, MFCC", train.mfcc, test.mfcc, probe.Config{Standardize: true, Epochs: 10, Seed: 1})
	ceiling := fit("MLP, MFCC +-3 frames (ceiling)", train.ctx, test.ctx,
		probe.Config{Hidden: 128, Standardize: true, Epochs: 10, BatchSize: 128, WeightDecay: 1e-4, Seed: 1})

	chance := majority(test.labels)
	if ceiling-floor < 0.30 {
		t.Errorf("ceiling %.1f %% - floor %.1f %% = %.1f points, want >= 30", 100*ceiling, 100*floor, 100*(ceiling-floor))
	}
	if ceiling < chance+0.30 {
		t.Errorf("ceiling %.1f %% is not well above chance %.1f %%", 100*ceiling, 100*chance)
	}
	if ceiling > 0.95 {
		t.Errorf("ceiling %.1f %%: the task is trivial", 100*ceiling)
	}
}
