package synth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"clapp/stream/frame"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("synth: source closed")

// SourceConfig describes a stream of utterances. Zero fields take the
// defaults in their comments.
type SourceConfig struct {
	// Speakers lists the speakers to draw from (the generator's training
	// speakers). Utterance k of the source is utterance FirstIndex +
	// k/len(Speakers) of speaker Speakers[k%len(Speakers)].
	Speakers []int
	// FirstIndex is the index of each speaker's first utterance (0).
	FirstIndex int
	// Utterances is the total number of utterances; 0 means endless.
	Utterances int
	// Chunk is the number of samples per audio block (1600 = 100 ms).
	Chunk int
	// Streams is the number of utterances open at once (1); their blocks
	// are interleaved round-robin, as a learner's batch wants them.
	Streams int
	// Labels adds, after each audio block, a frame.LabelLayer block with
	// the labels of the 10 ms frames that the audio has now completed.
	Labels bool
}

// Source yields the audio of generated utterances as frame.Blocks:
// Layer frame.AudioLayer, Cols 1, Rate 16000, Stream the utterance id,
// First the index of the block's first sample in its utterance, End set on
// an utterance's last block. With SourceConfig.Labels, every audio block
// is followed by a block of Layer frame.LabelLayer, Rate 100, Cols 1, with
// the classes (as float32) of labels First .. First+Rows-1 of the same
// stream: those whose 10 ms frame ends within the audio delivered so far
// (all remaining ones at the end, where it too has End set).
//
// A Source is safe for concurrent use.
type Source struct {
	g   *Generator
	cfg SourceConfig

	mu      sync.Mutex
	started int // utterances opened so far
	slots   []*openStream
	cur     int
	pending *frame.Block // label block to deliver next
	closed  bool
}

type openStream struct {
	u      Utterance
	sent   int // samples delivered
	labels int // labels delivered
}

// NewSource returns a Source of utterances from g.
func (g *Generator) NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.Speakers == nil {
		cfg.Speakers = g.TrainSpeakers()
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = 1600
	}
	if cfg.Streams == 0 {
		cfg.Streams = 1
	}
	switch {
	case len(cfg.Speakers) == 0:
		return nil, fmt.Errorf("%w: no speakers", ErrConfig)
	case cfg.Chunk < 1:
		return nil, fmt.Errorf("%w: chunk of %d samples", ErrConfig, cfg.Chunk)
	case cfg.Streams < 1:
		return nil, fmt.Errorf("%w: %d streams", ErrConfig, cfg.Streams)
	case cfg.Utterances < 0:
		return nil, fmt.Errorf("%w: %d utterances", ErrConfig, cfg.Utterances)
	case cfg.FirstIndex < 0 || cfg.FirstIndex > maxIndex:
		return nil, fmt.Errorf("%w: first index %d", ErrConfig, cfg.FirstIndex)
	}
	for _, s := range cfg.Speakers {
		if s < 0 || s >= g.cfg.Speakers {
			return nil, fmt.Errorf("%w: speaker %d of %d", ErrConfig, s, g.cfg.Speakers)
		}
	}
	cfg.Speakers = append([]int(nil), cfg.Speakers...)
	return &Source{g: g, cfg: cfg, slots: make([]*openStream, cfg.Streams)}, nil
}

// Config returns the source's configuration with defaults filled in.
func (s *Source) Config() SourceConfig { return s.cfg }

// Next returns the next block, io.EOF after the last one, ErrClosed after
// Close, or ctx's error if ctx is done.
func (s *Source) Next(ctx context.Context) (frame.Block, error) {
	if err := ctx.Err(); err != nil {
		return frame.Block{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return frame.Block{}, ErrClosed
	}
	if b := s.pending; b != nil {
		s.pending = nil
		return *b, nil
	}
	for range s.slots {
		i := s.cur
		s.cur = (s.cur + 1) % len(s.slots)
		if s.slots[i] == nil && !s.open(i) {
			continue
		}
		return s.emit(i), nil
	}
	return frame.Block{}, io.EOF
}

// open starts the next utterance in slot i, if any remain.
func (s *Source) open(i int) bool {
	k := s.started
	if s.cfg.Utterances > 0 && k >= s.cfg.Utterances {
		return false
	}
	n := len(s.cfg.Speakers)
	index := s.cfg.FirstIndex + k/n
	if index > maxIndex {
		return false
	}
	s.started++
	s.slots[i] = &openStream{u: s.g.Utterance(s.cfg.Speakers[k%n], index)}
	return true
}

// emit returns the next audio block of slot i and queues its label block.
func (s *Source) emit(i int) frame.Block {
	st := s.slots[i]
	u := &st.u
	from := st.sent
	to := min(from+s.cfg.Chunk, len(u.Samples))
	end := to == len(u.Samples)
	b := frame.Block{
		Stream: u.ID,
		Layer:  frame.AudioLayer,
		First:  int64(from),
		Rows:   to - from,
		Cols:   1,
		Data:   u.Samples[from:to:to],
		Rate:   SampleRate,
		End:    end,
	}
	st.sent = to
	if s.cfg.Labels {
		hi := to / FrameSamples
		if end {
			hi = len(u.Labels)
		}
		if hi > st.labels || end {
			lb := &frame.Block{
				Stream: u.ID,
				Layer:  frame.LabelLayer,
				First:  int64(st.labels),
				Rows:   hi - st.labels,
				Cols:   1,
				Data:   make([]float32, hi-st.labels),
				Rate:   100,
				End:    end,
			}
			for k, l := range u.Labels[st.labels:hi] {
				lb.Data[k] = float32(l)
			}
			st.labels = hi
			s.pending = lb
		}
	}
	if end {
		s.slots[i] = nil
	}
	return b
}

// Labels returns the labels of the stream id (any utterance of the
// generator, open or not), and false if id names none.
func (s *Source) Labels(id string) ([]int, bool) {
	s.mu.Lock()
	for _, st := range s.slots {
		if st != nil && st.u.ID == id {
			l := append([]int(nil), st.u.Labels...)
			s.mu.Unlock()
			return l, true
		}
	}
	s.mu.Unlock()
	return s.g.LabelsOf(id)
}

// Close ends the source; Next then returns ErrClosed.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.slots = nil
	s.pending = nil
	return nil
}
