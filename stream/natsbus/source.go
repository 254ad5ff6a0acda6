package natsbus

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go"

	"clapp/stream/frame"
)

// Source yields the audio blocks published live on clapp.<run>.audio, in
// the order they arrive, with the source convention of package stream:
// Next blocks until a block arrives and returns io.EOF once the source is
// closed. Blocks from several streams may interleave; a block with End
// set closes its stream, not the source.
//
// Blocks that are not 16 kHz mono audio, or whose declared shape
// contradicts their payload, are rejected and counted
// (Stats().Decode).
type Source struct {
	s *Subscriber
}

// NewSource subscribes to run's audio subject. cfg.Decoder, if set, must
// be an audio decoder (frame.NewAudioDecoder, possibly with a payload
// limit); nil means frame.NewAudioDecoder().
func NewSource(nc *nats.Conn, run string, cfg SubscriberConfig) (*Source, error) {
	subject, err := frame.AudioSubject(run)
	if err != nil {
		return nil, err
	}
	if cfg.Decoder == nil {
		cfg.Decoder = frame.NewAudioDecoder()
	}
	s, err := SubscribeChan(nc, subject, cfg)
	if err != nil {
		return nil, fmt.Errorf("natsbus: audio source: %w", err)
	}
	return &Source{s: s}, nil
}

// Next returns the next audio block, io.EOF once the source is closed, or
// the context's error.
func (s *Source) Next(ctx context.Context) (frame.Block, error) {
	select {
	case <-s.s.done: // closed: do not hand out what is still buffered
		return frame.Block{}, io.EOF
	default:
	}
	select {
	case b, ok := <-s.s.C():
		if !ok {
			return frame.Block{}, io.EOF
		}
		return b, nil
	case <-ctx.Done():
		return frame.Block{}, ctx.Err()
	}
}

// Stats returns the counters of the underlying subscriber.
func (s *Source) Stats() SubscriberStats { return s.s.Stats() }

// Close unsubscribes; a Next waiting returns io.EOF.
func (s *Source) Close() error { return s.s.Close() }
