package actors

import (
	"testing"

	"clapp/model"
	"clapp/model/probe"
	"clapp/stream/labels"
	"clapp/stream/synth"
)

// probeAccuracies fits a linear probe per layer on utterances of the
// synthetic generator's training speakers and returns the frame accuracy
// on its held-out speakers, the paper's protocol on built-in speech.
func probeAccuracies(t testing.TB, e *model.Encoder, trainUtts, testUtts int) []float64 {
	t.Helper()
	g, err := synth.New(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var convs []labels.Conv
	for _, c := range e.Config.Convs {
		convs = append(convs, labels.Conv{Kernel: c.Kernel, Stride: c.Stride, Padding: c.Padding})
	}
	convs = append(convs, labels.Conv{Kernel: 1, Stride: 1})
	geo, err := labels.NewGeometry(convs)
	if err != nil {
		t.Fatal(err)
	}
	collect := func(speakers []int, n int) ([]probe.Matrix, []int) {
		feats := make([][][]float32, e.Layers())
		var ys []int
		for i := 0; i < n; i++ {
			u := g.Utterance(speakers[i%len(speakers)], 1000+i/len(speakers))
			out := e.Encode(u.Samples)
			for l := 1; l <= e.Layers(); l++ {
				// Frames whose receptive-field centres fall in a label's
				// 10 ms cell are averaged (the nearest one where none do).
				w := e.Config.Width(l)
				f := geo.Field(l)
				frames := len(out[l-1]) / w
				for j := range u.Labels {
					lo, hi := f.Pool(j, frames)
					if hi <= lo {
						lo = f.Nearest(j, frames)
						hi = lo + 1
					}
					row := make([]float32, w)
					for t := lo; t < hi; t++ {
						for c := range row {
							row[c] += out[l-1][t*w+c] / float32(hi-lo)
						}
					}
					feats[l-1] = append(feats[l-1], row)
				}
			}
			ys = append(ys, u.Labels...)
		}
		ms := make([]probe.Matrix, len(feats))
		for l := range feats {
			ms[l] = probe.FromRows(feats[l])
		}
		return ms, ys
	}
	trX, trY := collect(g.TrainSpeakers(), trainUtts)
	teX, teY := collect(g.TestSpeakers(), testUtts)
	classes := len(synth.PhoneNames())
	acc := make([]float64, e.Layers())
	for l := range acc {
		p, err := probe.Fit(trX[l], trY, classes, probe.Config{Standardize: true, Epochs: 20, BatchSize: 256, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		acc[l] = p.Accuracy(teX[l], teY)
	}
	return acc
}
