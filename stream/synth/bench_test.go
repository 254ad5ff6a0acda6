package synth

import "testing"

// BenchmarkUtterance reports the generation speed in seconds of audio per
// second (audio-s/s).
func BenchmarkUtterance(b *testing.B) {
	g, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	samples := 0
	i := 0
	for b.Loop() {
		u := g.Utterance(i%g.cfg.Speakers, i)
		samples += len(u.Samples)
		i++
	}
	b.ReportMetric(float64(samples)/SampleRate/b.Elapsed().Seconds(), "audio-s/s")
}

// BenchmarkLabels reports the speed of Labels, which plans an utterance
// without rendering it.
func BenchmarkLabels(b *testing.B) {
	g, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	frames := 0
	i := 0
	for b.Loop() {
		frames += len(g.Labels(i%g.cfg.Speakers, i))
		i++
	}
	b.ReportMetric(float64(frames)/100/b.Elapsed().Seconds(), "audio-s/s")
}
