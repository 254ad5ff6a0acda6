package stream

import (
	"context"
	"fmt"
	"math"
	"time"

	"clapp/stream/frame"
)

// SegmentConfig says where an endless stream is cut.
type SegmentConfig struct {
	// Every cuts a segment after this much audio (0: no length limit).
	Every time.Duration
	// Silence cuts at the first block after at least MinLength of audio
	// whose level stays below SilenceRMS for Silence (0: no silence cuts).
	Silence    time.Duration
	SilenceRMS float64
	MinLength  time.Duration
}

// Segment cuts each audio stream of src into segments, so that a learner's
// per-stream state (and its positive and negative pairs) never spans an
// endless live stream: each segment is a stream of its own, named
// "<stream>/<n>", starting at sample 0 and ending with an End block.
func Segment(src Source, cfg SegmentConfig) Source {
	if cfg.SilenceRMS == 0 {
		cfg.SilenceRMS = 0.003
	}
	return &segmenter{src: src, cfg: cfg, state: map[string]*segState{}}
}

type segmenter struct {
	src   Source
	cfg   SegmentConfig
	state map[string]*segState
}

type segState struct {
	n     int
	first int64 // stream sample index where the segment began
	quiet int64 // samples of silence so far
}

func (s *segmenter) Next(ctx context.Context) (frame.Block, error) {
	b, err := s.src.Next(ctx)
	if err != nil || b.Layer != frame.AudioLayer {
		return b, err
	}
	st := s.state[b.Stream]
	if st == nil {
		st = &segState{first: b.First}
		s.state[b.Stream] = st
	}
	orig := b.Stream
	b.Stream = fmt.Sprintf("%s/%d", orig, st.n)
	b.First -= st.first
	if b.End {
		delete(s.state, orig)
		return b, nil
	}
	length := time.Duration(float64(b.First+int64(b.Rows)) / frame.SampleRate * float64(time.Second))
	if rmsOf(b.Data) < s.cfg.SilenceRMS {
		st.quiet += int64(b.Rows)
	} else {
		st.quiet = 0
	}
	quiet := time.Duration(float64(st.quiet) / frame.SampleRate * float64(time.Second))
	cut := s.cfg.Every > 0 && length >= s.cfg.Every
	if s.cfg.Silence > 0 && quiet >= s.cfg.Silence && length >= s.cfg.MinLength {
		cut = true
	}
	if cut {
		b.End = true
		st.n++
		st.first += b.First + int64(b.Rows)
		st.quiet = 0
	}
	return b, nil
}

func (s *segmenter) Close() error { return s.src.Close() }

func rmsOf(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(x)))
}
