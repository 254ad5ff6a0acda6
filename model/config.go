package model

import (
	"errors"
	"fmt"
)

// ConvSpec is the geometry of one convolution of the encoder.
type ConvSpec struct {
	Kernel  int `json:"kernel"`
	Stride  int `json:"stride"`
	Padding int `json:"padding"`
}

// Config describes an encoder: the convolutions, the GRU on top, and the
// CLAPP heads of every layer.
type Config struct {
	// Channels is the width of every convolution, Hidden the GRU's.
	Channels int        `json:"channels"`
	Hidden   int        `json:"hidden"`
	Convs    []ConvSpec `json:"convs"`
	// K is the number of prediction steps of every layer.
	K int `json:"k"`
	// Split selects the weight-transport-free rule (Appendix C, Eq. 10).
	Split bool `json:"split"`
	// ContextRate is the rate (Hz) at which every layer takes contexts
	// (Greedy InfoMax's --subsample); 0 means every frame.
	ContextRate float64 `json:"context_rate"`
	// InputMean and InputStd normalise the samples (on the [-1, 1) scale)
	// as Greedy InfoMax does: x' = (x - mean) / std.
	InputMean float32 `json:"input_mean"`
	InputStd  float32 `json:"input_std"`
}

// SampleRate is the audio rate every encoder expects, in Hz.
const SampleRate = 16000

// PaperConfig returns the paper's encoder: five convolutions of 512
// channels (10/5/2, 8/4/2, 4/2/2, 4/2/2, 4/2/1), a GRU of 256, K = 12,
// contexts at 100 Hz, GIM's input normalisation.
func PaperConfig() Config {
	return Config{
		Channels: 512, Hidden: 256, K: 12, ContextRate: 100,
		Convs:     []ConvSpec{{10, 5, 2}, {8, 4, 2}, {4, 2, 2}, {4, 2, 2}, {4, 2, 1}},
		InputMean: -6.78e-4, InputStd: 0.0630,
	}
}

// NarrowConfig returns the paper's geometry with other widths, for small
// machines and tests.
func NarrowConfig(channels, hidden int) Config {
	c := PaperConfig()
	c.Channels, c.Hidden = channels, hidden
	return c
}

// ErrConfig reports an encoder configuration that cannot be built.
var ErrConfig = errors.New("model: invalid configuration")

// Validate checks that the configuration can be built.
func (c Config) Validate() error {
	switch {
	case c.Channels <= 0 || c.Hidden <= 0:
		return fmt.Errorf("%w: channels %d and hidden %d must be positive", ErrConfig, c.Channels, c.Hidden)
	case len(c.Convs) == 0:
		return fmt.Errorf("%w: no convolutions", ErrConfig)
	case c.K <= 0:
		return fmt.Errorf("%w: K = %d must be positive", ErrConfig, c.K)
	case c.ContextRate < 0:
		return fmt.Errorf("%w: context rate %g must be >= 0", ErrConfig, c.ContextRate)
	case c.InputStd <= 0:
		return fmt.Errorf("%w: input std %g must be positive", ErrConfig, c.InputStd)
	}
	for i, s := range c.Convs {
		if s.Kernel <= 0 || s.Stride <= 0 || s.Padding < 0 {
			return fmt.Errorf("%w: convolution %d has kernel %d stride %d padding %d", ErrConfig, i+1, s.Kernel, s.Stride, s.Padding)
		}
	}
	return nil
}

// Layers returns the number of layers: the convolutions and the GRU.
func (c Config) Layers() int { return len(c.Convs) + 1 }

// Hop returns the number of samples between frames of layer n (1-based;
// the GRU keeps the last convolution's rate).
func (c Config) Hop(n int) int {
	h := 1
	for i := 0; i < min(n, len(c.Convs)); i++ {
		h *= c.Convs[i].Stride
	}
	return h
}

// FrameRate returns layer n's frames per second.
func (c Config) FrameRate(n int) float64 { return SampleRate / float64(c.Hop(n)) }

// ContextEvery returns how many frames of layer n lie between two
// contexts: the frame rate over ContextRate, at least 1.
func (c Config) ContextEvery(n int) int {
	if c.ContextRate <= 0 {
		return 1
	}
	e := int(c.FrameRate(n)/c.ContextRate + 0.5)
	return max(e, 1)
}

// Width returns the number of channels of layer n's output.
func (c Config) Width(n int) int {
	if n == c.Layers() {
		return c.Hidden
	}
	if n == 0 {
		return 1
	}
	return c.Channels
}
