package synth

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"clapp/stream/frame"
)

func drain(t *testing.T, s *Source) []frame.Block {
	t.Helper()
	var blocks []frame.Block
	for {
		b, err := s.Next(context.Background())
		if err == io.EOF {
			return blocks
		}
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
		if len(blocks) > 1e6 {
			t.Fatal("source does not end")
		}
	}
}

func TestSource(t *testing.T) {
	g := newGen(t, DefaultConfig())
	for _, tc := range []struct {
		name string
		cfg  SourceConfig
	}{
		{"defaults", SourceConfig{Utterances: 2}},
		{"batch of 3, labels", SourceConfig{Speakers: []int{20, 21}, FirstIndex: 5, Utterances: 7, Chunk: 1000, Streams: 3, Labels: true}},
		{"chunk below a frame", SourceConfig{Speakers: []int{4}, Utterances: 2, Chunk: 100, Streams: 2, Labels: true}},
		{"more streams than utterances", SourceConfig{Utterances: 2, Streams: 8, Labels: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := g.NewSource(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg := s.Config()
			blocks := drain(t, s)
			// Which utterances, in which order they were opened.
			var order []string
			type state struct {
				u            Utterance
				sent, labels int
				ended        bool
			}
			streams := map[string]*state{}
			var last *frame.Block
			open := 0
			for i := range blocks {
				b := &blocks[i]
				st := streams[b.Stream]
				if st == nil {
					sp, idx, ok := ParseID(b.Stream)
					if !ok {
						t.Fatalf("block %d: stream id %q", i, b.Stream)
					}
					st = &state{u: g.Utterance(sp, idx)}
					streams[b.Stream] = st
					order = append(order, b.Stream)
					open++
					if open > cfg.Streams {
						t.Fatalf("block %d: %d streams open at once, want at most %d", i, open, cfg.Streams)
					}
				}
				if st.ended {
					t.Fatalf("block %d: %s after its end", i, b.Stream)
				}
				if b.Cols != 1 || len(b.Data) != b.Rows {
					t.Fatalf("block %d: %d rows x %d cols, %d values", i, b.Rows, b.Cols, len(b.Data))
				}
				switch b.Layer {
				case frame.AudioLayer:
					if b.Rate != 16000 || b.First != int64(st.sent) || (b.Rows != cfg.Chunk && !b.End) || b.Rows == 0 {
						t.Fatalf("block %d: audio %+v after %d samples", i, *b, st.sent)
					}
					if !slices.Equal(b.Data, st.u.Samples[st.sent:st.sent+b.Rows]) {
						t.Fatalf("block %d: samples differ from the utterance", i)
					}
					st.sent += b.Rows
					if b.End != (st.sent == len(st.u.Samples)) {
						t.Fatalf("block %d: End %v at %d of %d samples", i, b.End, st.sent, len(st.u.Samples))
					}
					if b.End && !cfg.Labels {
						st.ended = true
						open--
					}
				case frame.LabelLayer:
					if !cfg.Labels {
						t.Fatalf("block %d: label block without Labels", i)
					}
					if last == nil || last.Layer != frame.AudioLayer || last.Stream != b.Stream {
						t.Fatalf("block %d: label block does not follow its audio block", i)
					}
					if b.Rate != 100 || b.First != int64(st.labels) || b.End != last.End {
						t.Fatalf("block %d: labels %+v after %d labels", i, *b, st.labels)
					}
					for k, v := range b.Data {
						if int(v) != st.u.Labels[st.labels+k] || float32(int(v)) != v {
							t.Fatalf("block %d: label %d is %v, want %d", i, st.labels+k, v, st.u.Labels[st.labels+k])
						}
					}
					st.labels += b.Rows
					// Only frames whose 10 ms the audio has completed.
					if !b.End && st.labels*FrameSamples > st.sent {
						t.Fatalf("block %d: %d labels after %d samples", i, st.labels, st.sent)
					}
					if b.End {
						if st.labels != len(st.u.Labels) {
							t.Fatalf("block %d: %d labels at the end, want %d", i, st.labels, len(st.u.Labels))
						}
						st.ended = true
						open--
					}
				default:
					t.Fatalf("block %d: layer %d", i, b.Layer)
				}
				last = b
			}
			if len(order) != cfg.Utterances {
				t.Fatalf("%d utterances, want %d", len(order), cfg.Utterances)
			}
			for k, id := range order {
				n := len(cfg.Speakers)
				if want := ID(cfg.Speakers[k%n], cfg.FirstIndex+k/n); id != want {
					t.Errorf("utterance %d is %s, want %s", k, id, want)
				}
				if !streams[id].ended {
					t.Errorf("%s never ended", id)
				}
				if l, ok := s.Labels(id); !ok || !slices.Equal(l, streams[id].u.Labels) {
					t.Errorf("Labels(%s) = %v, %v", id, len(l), ok)
				}
			}
			// Round robin: with several streams, the first blocks cycle
			// through different streams.
			if cfg.Streams > 1 && cfg.Utterances > 1 {
				var audio []string
				for _, b := range blocks {
					if b.Layer == frame.AudioLayer {
						audio = append(audio, b.Stream)
					}
				}
				if audio[0] == audio[1] {
					t.Errorf("first two audio blocks both from %s, want interleaving", audio[0])
				}
			}
			if _, err := s.Next(context.Background()); err != io.EOF {
				t.Errorf("Next after the end: %v, want io.EOF", err)
			}
		})
	}
}

func TestSourceEndless(t *testing.T) {
	g := newGen(t, DefaultConfig())
	s, err := g.NewSource(SourceConfig{Speakers: []int{0, 1}, Streams: 4, Chunk: 16000})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for range 200 {
		b, err := s.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids[b.Stream] = true
	}
	if len(ids) < 40 {
		t.Errorf("%d utterances in 200 one-second blocks", len(ids))
	}
}

func TestSourceStops(t *testing.T) {
	g := newGen(t, DefaultConfig())
	s, err := g.NewSource(SourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := s.Next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a cancelled context: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
	if _, ok := s.Labels("synth-s00-u000000"); !ok {
		t.Error("Labels after Close")
	}
	if _, ok := s.Labels("103-1240-0000"); ok {
		t.Error("Labels of a LibriSpeech id")
	}
}

func TestSourceConfigErrors(t *testing.T) {
	g := newGen(t, DefaultConfig())
	for _, cfg := range []SourceConfig{
		{Speakers: []int{}},
		{Speakers: []int{24}},
		{Speakers: []int{-1}},
		{Chunk: -1},
		{Streams: -2},
		{Utterances: -1},
		{FirstIndex: -1},
	} {
		if _, err := g.NewSource(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("NewSource(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}
