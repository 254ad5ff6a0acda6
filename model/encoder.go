package model

import (
	"fmt"
	"math/rand/v2"
)

// Encoder is the paper's audio encoder: convolutional layers and a GRU on
// top, each with its own CLAPP head. Layers are numbered 1..Layers() as in
// the paper (1 is the first convolution, the last is the GRU); tensor names
// use PyTorch's 0-based layers.{i}.
type Encoder struct {
	Config Config
	Convs  []*ConvLayer
	Top    *GRULayer
}

// NewEncoder builds an encoder with PyTorch's default initialisation drawn
// from seed.
func NewEncoder(cfg Config, seed uint64) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x636c617070)) // "clapp"
	e := &Encoder{Config: cfg}
	cin := 1
	for i, s := range cfg.Convs {
		l := &ConvLayer{
			Conv:   NewConv1d(cin, cfg.Channels, s.Kernel, s.Stride, s.Padding, rng),
			Head:   NewHead(cfg.K, cfg.Channels, cfg.Channels, cfg.Split, rng),
			Every:  cfg.ContextEvery(i + 1),
			Prefix: fmt.Sprintf("layers.%d.", i),
		}
		if i == 0 {
			l.Norm = &[2]float32{cfg.InputMean, cfg.InputStd}
		}
		e.Convs = append(e.Convs, l)
		cin = cfg.Channels
	}
	n := len(cfg.Convs)
	e.Top = &GRULayer{
		GRU:    NewGRU(cin, cfg.Hidden, rng),
		Head:   NewHead(cfg.K, cin, cfg.Hidden, cfg.Split, rng),
		Every:  cfg.ContextEvery(n + 1),
		Warm:   cfg.K,
		Prefix: fmt.Sprintf("layers.%d.", n),
	}
	return e, nil
}

// Layers returns the number of layers.
func (e *Encoder) Layers() int { return len(e.Convs) + 1 }

// LayerParams returns the parameters of layer n (1-based): its weights and
// its head, in the order of the layer's Grads.
func (e *Encoder) LayerParams(n int) []*Param {
	if n < 1 || n > e.Layers() {
		panic(fmt.Sprintf("model: layer %d outside 1..%d", n, e.Layers()))
	}
	if n == e.Layers() {
		return e.Top.Params()
	}
	return e.Convs[n-1].Params()
}

// Params returns every parameter, layer by layer.
func (e *Encoder) Params() []*Param {
	var ps []*Param
	for n := 1; n <= e.Layers(); n++ {
		ps = append(ps, e.LayerParams(n)...)
	}
	return ps
}

// Encode runs a whole utterance of samples (16 kHz, [-1, 1) scale) through
// the encoder without learning and returns every layer's frames (layer n at
// index n-1, rows x width, time-major). It only reads the weights: several
// goroutines may encode with one encoder at once.
func (e *Encoder) Encode(samples []float32) [][]float32 {
	out := make([][]float32, e.Layers())
	x, rows := samples, len(samples)
	for i, l := range e.Convs {
		s := l.NewStream(0)
		z := l.Forward(s, x, rows, true)
		out[i] = append([]float32(nil), z...)
		x, rows = out[i], len(z)/l.Conv.Cout
		l.Release(s)
	}
	s := e.Top.NewInferenceStream()
	out[len(e.Convs)] = append([]float32(nil), e.Top.Forward(s, x, rows, true)...)
	return out
}

// Modules groups the encoder's layers into gradient-isolated modules of the
// given sizes (bottom first, summing to Layers()), sharing the encoder's
// weights; each module's loss is the head of its top layer.
func (e *Encoder) Modules(sizes []int, loss LossKind, negatives int) ([]*Module, error) {
	total := 0
	for _, s := range sizes {
		if s <= 0 {
			return nil, fmt.Errorf("%w: module size %d", ErrConfig, s)
		}
		total += s
	}
	if total != e.Layers() {
		return nil, fmt.Errorf("%w: module sizes %v cover %d layers, the encoder has %d", ErrConfig, sizes, total, e.Layers())
	}
	var mods []*Module
	first := 0
	for _, s := range sizes {
		m := &Module{Loss: loss, Negatives: negatives, First: first}
		for i := first; i < first+s; i++ {
			if i < len(e.Convs) {
				m.Convs = append(m.Convs, e.Convs[i].Conv)
				m.Head, m.Every = e.Convs[i].Head, e.Convs[i].Every
				continue
			}
			m.GRU, m.Head, m.Every = e.Top.GRU, e.Top.Head, e.Top.Every
		}
		if first == 0 {
			m.Norm = e.Convs[0].Norm
		}
		mods = append(mods, m)
		first += s
	}
	return mods, nil
}

// ModuleSizes splits n layers into m modules as evenly as possible, the
// larger modules at the bottom: 6 layers in 4 modules are 2, 2, 1, 1.
func ModuleSizes(layers, m int) ([]int, error) {
	if m < 1 || m > layers {
		return nil, fmt.Errorf("%w: %d modules for %d layers", ErrConfig, m, layers)
	}
	sizes := make([]int, m)
	for i := range sizes {
		sizes[i] = layers / m
		if i < layers%m {
			sizes[i]++
		}
	}
	return sizes, nil
}

// Clone returns a deep copy of the layer (weights and head), for work on
// a snapshot of the weights while the original goes on learning.
func (l *ConvLayer) Clone() *ConvLayer {
	c := *l
	conv := *l.Conv
	conv.W, conv.B = append([]float32(nil), l.Conv.W...), append([]float32(nil), l.Conv.B...)
	c.Conv = &conv
	c.Head = l.Head.clone()
	return &c
}

// Clone returns a deep copy of the layer (weights and head).
func (l *GRULayer) Clone() *GRULayer {
	c := *l
	g := *l.GRU
	g.Wih, g.Whh = append([]float32(nil), l.GRU.Wih...), append([]float32(nil), l.GRU.Whh...)
	g.Bih, g.Bhh = append([]float32(nil), l.GRU.Bih...), append([]float32(nil), l.GRU.Bhh...)
	c.GRU = &g
	c.Head = l.Head.clone()
	c.acc = nil
	return &c
}

func (h *Head) clone() *Head {
	c := *h
	c.W = append([]float32(nil), h.W...)
	if h.Wc != nil {
		c.Wc = append([]float32(nil), h.Wc...)
	}
	return &c
}
