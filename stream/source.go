package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"github.com/nats-io/nats.go"

	"clapp/stream/audio"
	"clapp/stream/frame"
	"clapp/stream/mic"
	"clapp/stream/natsbus"
	"clapp/stream/synth"
)

// Source yields blocks: audio (frame.AudioLayer), a layer's frames, or
// labels (frame.LabelLayer). Next returns io.EOF when nothing remains.
type Source interface {
	Next(ctx context.Context) (frame.Block, error)
	Close() error
}

// Labeler is a source that knows the phone labels of its streams, on the
// canonical 10 ms grid.
type Labeler interface {
	Labels(stream string) ([]int, bool)
}

// ErrSource reports a source name that cannot be opened.
var ErrSource = errors.New("stream: cannot open source")

// Options set how a named source is opened. Zero fields take the defaults
// of the source behind the name.
type Options struct {
	// Chunk is the number of samples per audio block (1600 = 100 ms).
	Chunk int
	// Streams is the number of streams read at once, interleaved.
	Streams int
	// Shuffle and Seed order the files (or synthetic utterances).
	Shuffle bool
	Seed    uint64
	// Loop starts over at the end of a file list (and makes synthetic
	// speech endless).
	Loop bool
	// IDs restricts a directory to these utterance ids (a split file).
	IDs []string
	// Utterances bounds the synthetic speech; 0 means endless with Loop,
	// else 16 utterances per speaker.
	Utterances int
	// Labels makes a labelled source (synthetic speech) interleave label
	// blocks with its audio.
	Labels bool
	// Realtime paces the blocks in real time.
	Realtime bool
	// NATS is the connection for nats:// names.
	NATS *nats.Conn
	// Durable names the JetStream consumer of a recorded stream's replay.
	Durable string
	// OnSkip is told of every file skipped or cut short.
	OnSkip func(path string, err error)
	// Mic configures the microphone.
	Mic    mic.Config
	Logger *slog.Logger
}

var jetstreamName = regexp.MustCompile(`^clapp_([A-Za-z0-9_-]+)_audio$`)

// Open opens the source a name describes (see the package documentation).
func Open(ctx context.Context, name string, o Options) (Source, error) {
	src, err := open(ctx, name, o)
	if err != nil {
		return nil, err
	}
	if o.Realtime {
		return Paced(src), nil
	}
	return src, nil
}

func open(ctx context.Context, name string, o Options) (Source, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case name == "" || name == "synthetic" || strings.HasPrefix(name, "synthetic:"):
		return openSynth(name, o)
	case name == "mic":
		m, err := mic.Open(o.Mic)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrSource, name, err)
		}
		return m, nil
	case strings.HasPrefix(name, "nats://"):
		return openNATS(ctx, strings.TrimPrefix(name, "nats://"), o)
	}
	if _, err := os.Stat(name); err != nil {
		return nil, fmt.Errorf("%w %q: not a file, a directory, \"synthetic\", \"mic\" or a nats:// address: %w", ErrSource, name, err)
	}
	src, err := audio.Open(name, audio.Config{Chunk: o.Chunk, Streams: o.Streams, Shuffle: o.Shuffle, Seed: o.Seed,
		Loop: o.Loop, IDs: o.IDs, OnSkip: o.OnSkip, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrSource, name, err)
	}
	return src, nil
}

// SynthConfig returns the generator configuration behind "synthetic".
func SynthConfig() synth.Config { return synth.DefaultConfig() }

func openSynth(name string, o Options) (Source, error) {
	g, err := synth.New(SynthConfig())
	if err != nil {
		return nil, err
	}
	speakers := g.TrainSpeakers()
	switch strings.TrimPrefix(strings.TrimPrefix(name, "synthetic"), ":") {
	case "", "train":
	case "test":
		speakers = g.TestSpeakers()
	default:
		return nil, fmt.Errorf("%w %q: want synthetic, synthetic:train or synthetic:test", ErrSource, name)
	}
	n := o.Utterances
	if n == 0 && !o.Loop {
		n = 16 * len(speakers)
	}
	src, err := g.NewSource(synth.SourceConfig{Speakers: speakers, Utterances: n, Chunk: o.Chunk, Streams: o.Streams, Labels: o.Labels})
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrSource, name, err)
	}
	return src, nil
}

func openNATS(ctx context.Context, target string, o Options) (Source, error) {
	if o.NATS == nil {
		return nil, fmt.Errorf("%w nats://%s: no NATS connection", ErrSource, target)
	}
	if m := jetstreamName.FindStringSubmatch(target); m != nil {
		r, err := natsbus.NewReplay(ctx, o.NATS, m[1], natsbus.ReplayConfig{Durable: o.Durable, Logger: o.Logger})
		if err != nil {
			return nil, fmt.Errorf("%w nats://%s: %w", ErrSource, target, err)
		}
		return r, nil
	}
	sub, err := frame.ParseSubject(target)
	if err != nil {
		return nil, fmt.Errorf("%w nats://%s: want clapp.RUN.audio, clapp.RUN.layer.N or a recorded stream clapp_RUN_audio: %w", ErrSource, target, err)
	}
	switch sub.Kind {
	case frame.KindAudio:
		s, err := natsbus.NewSource(o.NATS, sub.Run, natsbus.SubscriberConfig{Logger: o.Logger})
		if err != nil {
			return nil, fmt.Errorf("%w nats://%s: %w", ErrSource, target, err)
		}
		return s, nil
	case frame.KindLayer:
		s, err := natsbus.SubscribeChan(o.NATS, target, natsbus.SubscriberConfig{Logger: o.Logger})
		if err != nil {
			return nil, fmt.Errorf("%w nats://%s: %w", ErrSource, target, err)
		}
		return &chanSource{s: s}, nil
	}
	return nil, fmt.Errorf("%w nats://%s: subjects of kind %s carry no input", ErrSource, target, sub.Kind)
}

// chanSource adapts a channel subscriber to Source.
type chanSource struct{ s *natsbus.Subscriber }

func (c *chanSource) Next(ctx context.Context) (frame.Block, error) {
	select {
	case b, ok := <-c.s.C():
		if !ok {
			return frame.Block{}, errEOF
		}
		return b, nil
	case <-ctx.Done():
		return frame.Block{}, ctx.Err()
	}
}

func (c *chanSource) Close() error { return c.s.Close() }
