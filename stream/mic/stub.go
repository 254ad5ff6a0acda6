//go:build !portaudio || !cgo

package mic

import (
	"context"
	"fmt"

	"clapp/stream/frame"
)

// Available reports whether microphone support is built in: it is not in
// this build (no portaudio build tag, or cgo disabled).
const Available = false

// Mic is a microphone; in this build there is none, and Open says how to
// get one.
type Mic struct{}

// Open returns an error wrapping ErrUnavailable that says how to build
// with microphone support.
func Open(cfg Config) (*Mic, error) {
	if _, err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: this build has no microphone support; %s", ErrUnavailable, howTo)
}

// Next returns ErrUnavailable.
func (m *Mic) Next(ctx context.Context) (frame.Block, error) {
	return frame.Block{}, ErrUnavailable
}

// Close does nothing.
func (m *Mic) Close() error { return nil }

// Stats returns zero counts.
func (m *Mic) Stats() Stats { return Stats{} }
