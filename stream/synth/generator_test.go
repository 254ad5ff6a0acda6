package synth

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func newGen(t testing.TB, cfg Config) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestLabelsOnGrid(t *testing.T) {
	g := newGen(t, DefaultConfig())
	for _, tc := range []struct{ speaker, index int }{{0, 0}, {1, 5}, {7, 99}, {21, 2}} {
		u := g.Utterance(tc.speaker, tc.index)
		if want := len(u.Samples) / FrameSamples; len(u.Labels) != want {
			t.Fatalf("%s: %d labels for %d samples, want %d", u.ID, len(u.Labels), len(u.Samples), want)
		}
		// Segments tile the utterance.
		pos := 0
		for _, s := range u.Segments {
			if s.Start != pos || s.End <= s.Start || s.Phone < 0 || s.Phone >= NumClasses {
				t.Fatalf("%s: bad segment %+v at %d", u.ID, s, pos)
			}
			pos = s.End
		}
		if pos != len(u.Samples) {
			t.Fatalf("%s: segments end at %d of %d samples", u.ID, pos, len(u.Samples))
		}
		// Label i is the class of sample 160 i + 80.
		for i, l := range u.Labels {
			c := 160*i + 80
			k, _ := slices.BinarySearchFunc(u.Segments, c, func(s Segment, c int) int {
				switch {
				case s.End <= c:
					return -1
				case s.Start > c:
					return 1
				}
				return 0
			})
			if u.Segments[k].Phone != l {
				t.Fatalf("%s: label %d is %d, sample %d is in %+v", u.ID, i, l, c, u.Segments[k])
			}
		}
		if u.Labels[0] != Sil || u.Labels[len(u.Labels)-1] != Sil {
			t.Errorf("%s: does not start and end in silence", u.ID)
		}
		if got := g.Labels(tc.speaker, tc.index); !slices.Equal(got, u.Labels) {
			t.Errorf("%s: Labels differs from Utterance's labels", u.ID)
		}
		if got, ok := g.LabelsOf(u.ID); !ok || !slices.Equal(got, u.Labels) {
			t.Errorf("%s: LabelsOf = %v, %v", u.ID, ok, len(got))
		}
		if n := g.Len(tc.speaker, tc.index); n != len(u.Samples) {
			t.Errorf("%s: Len %d, %d samples", u.ID, n, len(u.Samples))
		}
	}
}

func TestUtteranceSignal(t *testing.T) {
	cfg := DefaultConfig()
	g := newGen(t, cfg)
	seen := make([]int, NumClasses)
	var clipped, total int
	for k := range 48 {
		u := g.Utterance(k%cfg.Speakers, k)
		sec := float64(len(u.Samples)) / SampleRate
		if sec < cfg.MinSeconds || sec > cfg.MaxSeconds+1.5 {
			t.Errorf("%s lasts %.2f s, want about %g-%g", u.ID, sec, cfg.MinSeconds, cfg.MaxSeconds)
		}
		var sum, sq float64
		for i, v := range u.Samples {
			if math.IsNaN(float64(v)) || v < -1 || v > 1 {
				t.Fatalf("%s: sample %d is %v", u.ID, i, v)
			}
			if v == 1 || v == -1 {
				clipped++
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		total += len(u.Samples)
		mean, rms := sum/float64(len(u.Samples)), math.Sqrt(sq/float64(len(u.Samples)))
		if math.Abs(mean) > 0.01*rms {
			t.Errorf("%s: mean %.2g with RMS %.2g, want no DC", u.ID, mean, rms)
		}
		for _, l := range u.Labels {
			seen[l]++
		}
	}
	if frac := float64(clipped) / float64(total); frac > 1e-4 {
		t.Errorf("%.2g of samples clipped", frac)
	}
	for c, n := range seen {
		if n == 0 {
			t.Errorf("class %d (%s) never appears in 48 utterances", c, PhoneName(c))
		}
	}
	if frac := float64(seen[Sil]) / float64(total/FrameSamples); frac < 0.08 || frac > 0.25 {
		t.Errorf("silence is %.0f %% of frames, want 8-25 %%", 100*frac)
	}
}

// TestLevels checks the loudness of phone classes against each other in
// clean speech: stressed vowels loudest, then nasals and approximants,
// /s/ louder than /f/, stop closures and silence far below.
func TestLevels(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clean = true
	g := newGen(t, cfg)
	var sum, n [NumClasses]float64
	for k := range 40 {
		u := g.Utterance(k%cfg.Speakers, k)
		for _, s := range u.Segments {
			// The middle half of each segment, away from transitions.
			q := (s.End - s.Start) / 4
			for _, v := range u.Samples[s.Start+q : s.End-q] {
				sum[s.Phone] += float64(v) * float64(v)
			}
			n[s.Phone] += float64(s.End - s.Start - 2*q)
		}
	}
	db := func(c ...int) float64 {
		var s, m float64
		for _, k := range c {
			s += sum[k]
			m += n[k]
		}
		return 10 * math.Log10(s/m+1e-20)
	}
	vowels, nasals, approx := db(IY, IH, EH, AE, AA, AH, UW, ER, OW, AY), db(M, N, NG), db(W, Y, L, R)
	for c := range NumClasses {
		t.Logf("%-3s %6.1f dB", PhoneName(c), db(c))
	}
	for _, tc := range []struct {
		name         string
		louder, than float64
		by           float64
	}{
		{"vowels over nasals", vowels, nasals, 2},
		{"vowels over approximants", vowels, approx, 1},
		{"nasals over voiced stops", nasals, db(B, D, G), 3},
		{"s over f", db(S), db(F), 6},
		{"sh over f", db(SH), db(F), 6},
		{"vowels over s", vowels, db(S), 3},
		{"f over silence", db(F), db(Sil), 10},
		{"voiceless stops over silence", db(P, T, K), db(Sil), 10},
	} {
		if tc.louder < tc.than+tc.by {
			t.Errorf("%s: %.1f dB vs %.1f dB, want a margin of %g dB", tc.name, tc.louder, tc.than, tc.by)
		}
	}
}

func TestSpeakers(t *testing.T) {
	g := newGen(t, DefaultConfig())
	train, test := g.TrainSpeakers(), g.TestSpeakers()
	if len(train) != 20 || len(test) != 4 {
		t.Fatalf("%d train and %d test speakers, want 20 and 4", len(train), len(test))
	}
	for _, s := range test {
		if slices.Contains(train, s) {
			t.Errorf("speaker %d is in both splits", s)
		}
	}
	var female int
	for _, s := range test {
		if g.Speaker(s).Female {
			female++
		}
	}
	if female != 2 {
		t.Errorf("%d of 4 test speakers are female, want 2", female)
	}
	for i := range g.Config().Speakers {
		s := g.Speaker(i)
		lo, hi := 85.0, 140.0
		if s.Female {
			lo, hi = 165, 245
		}
		if s.F0 < lo || s.F0 >= hi || s.Rate < 0.85 || s.Rate >= 1.2 {
			t.Errorf("speaker %d: F0 %.0f Hz, rate %.2f", i, s.F0, s.Rate)
		}
	}
}

func TestIDs(t *testing.T) {
	for _, tc := range []struct{ speaker, index int }{{0, 0}, {3, 12}, {123, 1234567}} {
		id := ID(tc.speaker, tc.index)
		s, i, ok := ParseID(id)
		if !ok || s != tc.speaker || i != tc.index {
			t.Errorf("ParseID(%q) = %d, %d, %v", id, s, i, ok)
		}
	}
	if id := ID(3, 12); id != "synth-s03-u000012" {
		t.Errorf("ID(3, 12) = %q", id)
	}
	for _, bad := range []string{"", "synth-s3-u000012", "synth-s03-u12", "synth-s03-u0000x2", "x-s03-u000012",
		"synth-s-1-u000012", "synth-s03-u-00001", "synth-s03-u000012 ", "synth-s003-u000012"} {
		if _, _, ok := ParseID(bad); ok {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	g := newGen(t, DefaultConfig())
	if _, ok := g.LabelsOf("synth-s99-u000000"); ok {
		t.Error("LabelsOf accepted a speaker the generator does not have")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Speakers: -1},
		{Speakers: 4, TestSpeakers: 4},
		{MinSeconds: 3, MaxSeconds: 2},
		{MinRate: 0.1, MaxRate: 1},
		{MinSNR: 30, MaxSNR: 10},
		{Variability: -1},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}
