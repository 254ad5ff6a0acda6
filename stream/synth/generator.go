package synth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"clapp/stream/frame"
)

const (
	// SampleRate is the rate of the generated audio, in Hz.
	SampleRate = frame.SampleRate
	// FrameSamples is the number of samples per label (10 ms).
	FrameSamples = SampleRate / 100
)

// ErrConfig reports an invalid Config or SourceConfig.
var ErrConfig = errors.New("synth: invalid config")

// Config describes a family of synthetic speakers and their utterances.
// Zero fields take the defaults given in their comments.
type Config struct {
	// Seed selects the speakers and everything they say.
	Seed uint64
	// Speakers is the number of speakers (24). Even indices are male
	// voices, odd ones female.
	Speakers int
	// TestSpeakers is the number of held-out speakers (4): the last ones.
	TestSpeakers int
	// MinSeconds and MaxSeconds bound the length of an utterance (2, 4).
	MinSeconds, MaxSeconds float64
	// MinRate and MaxRate bound the speakers' speaking rates (0.85, 1.2).
	MinRate, MaxRate float64
	// MinSNR and MaxSNR bound the signal-to-noise ratio of the background
	// noise in dB (10, 30).
	MinSNR, MaxSNR float64
	// Clean turns off background noise and the random channel.
	Clean bool
	// Variability scales all speaker and token variation (1).
	Variability float64
}

// DefaultConfig returns the configuration behind the numbers in the
// package documentation.
func DefaultConfig() Config {
	return Config{
		Seed:         1,
		Speakers:     24,
		TestSpeakers: 4,
		MinSeconds:   2, MaxSeconds: 4,
		MinRate: 0.85, MaxRate: 1.2,
		MinSNR: 10, MaxSNR: 30,
		Variability: 1,
	}
}

func (c *Config) fill() error {
	d := DefaultConfig()
	if c.Speakers == 0 {
		c.Speakers = d.Speakers
	}
	if c.TestSpeakers == 0 {
		c.TestSpeakers = min(d.TestSpeakers, c.Speakers/2)
	}
	if c.MinSeconds == 0 && c.MaxSeconds == 0 {
		c.MinSeconds, c.MaxSeconds = d.MinSeconds, d.MaxSeconds
	}
	if c.MinRate == 0 && c.MaxRate == 0 {
		c.MinRate, c.MaxRate = d.MinRate, d.MaxRate
	}
	if c.MinSNR == 0 && c.MaxSNR == 0 {
		c.MinSNR, c.MaxSNR = d.MinSNR, d.MaxSNR
	}
	if c.Variability == 0 {
		c.Variability = d.Variability
	}
	switch {
	case c.Speakers < 1 || c.Speakers > 1<<20:
		return fmt.Errorf("%w: %d speakers", ErrConfig, c.Speakers)
	case c.TestSpeakers < 0 || c.TestSpeakers >= c.Speakers:
		return fmt.Errorf("%w: %d test speakers of %d", ErrConfig, c.TestSpeakers, c.Speakers)
	case !(c.MinSeconds > 0 && c.MinSeconds <= c.MaxSeconds && c.MaxSeconds <= 600):
		return fmt.Errorf("%w: utterance length %g-%g s", ErrConfig, c.MinSeconds, c.MaxSeconds)
	case !(c.MinRate >= 0.25 && c.MinRate <= c.MaxRate && c.MaxRate <= 4):
		return fmt.Errorf("%w: speaking rate %g-%g", ErrConfig, c.MinRate, c.MaxRate)
	case !(c.MinSNR <= c.MaxSNR && c.MinSNR > -40 && c.MaxSNR < 200):
		return fmt.Errorf("%w: SNR %g-%g dB", ErrConfig, c.MinSNR, c.MaxSNR)
	case !(c.Variability > 0 && c.Variability <= 3):
		return fmt.Errorf("%w: variability %g", ErrConfig, c.Variability)
	}
	return nil
}

// Generator makes utterances of synthetic speakers. It is immutable and
// safe for concurrent use.
type Generator struct {
	cfg      Config
	speakers []Speaker
}

// New returns a generator for cfg.
func New(cfg Config) (*Generator, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg, speakers: make([]Speaker, cfg.Speakers)}
	for i := range g.speakers {
		g.speakers[i] = newSpeaker(&cfg, i)
	}
	return g, nil
}

// Config returns the generator's configuration with defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Speaker returns speaker i. It panics if i is out of range.
func (g *Generator) Speaker(i int) Speaker { return g.speakers[i] }

// TrainSpeakers returns the indices of the speakers used for training.
func (g *Generator) TrainSpeakers() []int {
	return seq(0, g.cfg.Speakers-g.cfg.TestSpeakers)
}

// TestSpeakers returns the indices of the held-out speakers.
func (g *Generator) TestSpeakers() []int {
	return seq(g.cfg.Speakers-g.cfg.TestSpeakers, g.cfg.Speakers)
}

func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// Segment is one phone of an utterance: samples [Start, End) are of class
// Phone.
type Segment struct {
	Phone      int
	Start, End int
}

// Utterance is one generated recording.
type Utterance struct {
	// ID names the utterance, e.g. "synth-s03-u000012".
	ID      string
	Speaker int
	Index   int
	// Samples holds the audio at SampleRate, in [-1, 1].
	Samples []float32
	// Labels holds one class per 10 ms: Labels[i] is the class at sample
	// 160 i + 80; there are len(Samples)/160 of them.
	Labels []int
	// Segments lists the phones in order; they tile [0, len(Samples)).
	Segments []Segment
}

// Utterance returns utterance index (>= 0) of speaker. The result depends
// only on the seed, the speaker and the index, bit for bit. It panics if
// speaker or index is out of range.
func (g *Generator) Utterance(speaker, index int) Utterance {
	spk := g.speaker(speaker, index)
	tokens, n := g.plan(spk, index)
	u := Utterance{
		ID:      ID(speaker, index),
		Speaker: speaker,
		Index:   index,
		Samples: g.render(spk, tokens, n, index),
		Labels:  labelsOf(tokens, n),
	}
	u.Segments = make([]Segment, len(tokens))
	for i, t := range tokens {
		u.Segments[i] = Segment{t.phone, t.start, t.end}
	}
	return u
}

// Labels returns the labels of utterance index of speaker without
// synthesising its audio (about a hundred times faster).
func (g *Generator) Labels(speaker, index int) []int {
	tokens, n := g.plan(g.speaker(speaker, index), index)
	return labelsOf(tokens, n)
}

// Len returns the number of samples of utterance index of speaker without
// synthesising it.
func (g *Generator) Len(speaker, index int) int {
	_, n := g.plan(g.speaker(speaker, index), index)
	return n
}

// LabelsOf returns the labels of the utterance named id, and false if id
// does not name an utterance of this generator.
func (g *Generator) LabelsOf(id string) ([]int, bool) {
	s, i, ok := ParseID(id)
	if !ok || s >= g.cfg.Speakers {
		return nil, false
	}
	return g.Labels(s, i), true
}

func (g *Generator) speaker(speaker, index int) *Speaker {
	if speaker < 0 || speaker >= len(g.speakers) {
		panic(fmt.Sprintf("synth: speaker %d out of range [0, %d)", speaker, len(g.speakers)))
	}
	if index < 0 || index > maxIndex {
		panic(fmt.Sprintf("synth: utterance index %d out of range [0, %d]", index, maxIndex))
	}
	return &g.speakers[speaker]
}

const maxIndex = 1<<31 - 1

// ID returns the stream id of utterance index of speaker,
// "synth-s<speaker>-u<index>" with at least 2 and 6 digits.
func ID(speaker, index int) string {
	return fmt.Sprintf("synth-s%02d-u%06d", speaker, index)
}

// ParseID returns the speaker and index named by an id made by ID.
func ParseID(id string) (speaker, index int, ok bool) {
	rest, found := strings.CutPrefix(id, "synth-s")
	if !found {
		return 0, 0, false
	}
	ss, us, found := strings.Cut(rest, "-u")
	if !found || len(ss) < 2 || len(us) < 6 {
		return 0, 0, false
	}
	s, err1 := strconv.Atoi(ss)
	u, err2 := strconv.Atoi(us)
	if err1 != nil || err2 != nil || s < 0 || u < 0 || u > maxIndex || ID(s, u) != id {
		return 0, 0, false
	}
	return s, u, true
}
