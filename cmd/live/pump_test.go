package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"clapp/actors"
	"clapp/model"
	"clapp/stream"
	"clapp/stream/frame"
)

// cutSource yields n blocks of its source, then fails the way an unplugged
// capture device does. No machine here has a microphone to unplug, so the
// fault is injected around real synthetic speech.
type cutSource struct {
	stream.Source
	n   int
	err error
}

func (c *cutSource) Next(ctx context.Context) (frame.Block, error) {
	if c.n == 0 {
		return frame.Block{}, c.err
	}
	c.n--
	return c.Source.Next(ctx)
}

// renamed gives a source's streams other ids (the microphone that comes
// back starts a new stream).
type renamed struct {
	stream.Source
	prefix string
}

func (r renamed) Next(ctx context.Context) (frame.Block, error) {
	b, err := r.Source.Next(ctx)
	b.Stream = r.prefix + b.Stream
	return b, err
}

func synthetic(t *testing.T, utterances int) stream.Source {
	t.Helper()
	src, err := stream.Open(context.Background(), "synthetic", stream.Options{Chunk: 1600, Streams: 1, Utterances: utterances, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestInputGoneKeepsLearning: when the microphone goes away mid-utterance,
// live says so, ends the streams it cut, waits for the input, and goes on
// learning in the same pipeline with the same optimiser state.
func TestInputGoneKeepsLearning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	enc, err := model.NewEncoder(model.NarrowConfig(32, 16), 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := actors.New(actors.Config{Encoder: enc, Night: actors.NightPolicy{Kind: actors.NightEvery, Every: 2}, Batch: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	o := &options{input: "mic", every: time.Hour}
	unplugged := errors.New("portaudio: device unavailable")
	first := &cutSource{Source: synthetic(t, 0), n: 20, err: unplugged} // 2 s, mid-utterance

	var atCut actors.LayerStats
	reopens := 0
	reopen := func(ctx context.Context) (stream.Source, error) {
		reopens++
		if err := p.Drain(ctx); err != nil {
			return nil, err
		}
		for _, s := range p.Stats() {
			if s.Streams != 0 {
				t.Errorf("layer %d: %d streams still open after the input went away; the cut stream was not ended", s.Layer, s.Streams)
			}
		}
		atCut = p.Stats()[len(p.Stats())-1]
		return renamed{Source: synthetic(t, 1), prefix: "back-"}, nil
	}
	if err := pump(ctx, o, first, reopen, p, nil, log); err != nil {
		t.Fatalf("pump: %v", err)
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if reopens != 1 {
		t.Fatalf("input reopened %d times, want 1", reopens)
	}
	if !strings.Contains(logs.String(), "the input went away") || !strings.Contains(logs.String(), unplugged.Error()) {
		t.Errorf("no clear message naming the failure; log:\n%s", logs.String())
	}
	stats := p.Stats()
	for _, s := range stats {
		if s.BadInput != 0 || s.Restarts != 0 || s.Streams != 0 {
			t.Errorf("layer %d: bad input %d, restarts %d, open streams %d after the input came back; want 0", s.Layer, s.BadInput, s.Restarts, s.Streams)
		}
	}
	end := stats[len(stats)-1]
	if atCut.Learned == 0 || atCut.Cycles == 0 {
		t.Fatalf("nothing learned before the cut: %+v", atCut)
	}
	if end.Learned <= atCut.Learned || end.Cycles <= atCut.Cycles {
		t.Errorf("learning did not go on from where it was: learned %d -> %d blocks, optimiser cycles %d -> %d",
			atCut.Learned, end.Learned, atCut.Cycles, end.Cycles)
	}
}
