package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"clapp/model/safetensors"
)

// ErrCheckpoint reports a checkpoint that cannot be used: unreadable,
// truncated, corrupt, or made for another model.
var ErrCheckpoint = errors.New("model: bad checkpoint")

// checkpointFormat versions the JSON metadata.
const checkpointFormat = 1

// metaKey is the __metadata__ entry holding clapp's JSON.
const metaKey = "clapp"

// Checkpoint is everything a run saves: the encoder's weights, one
// optimiser state per layer, and free-form metadata (counters, random
// state, stream positions) as JSON.
type Checkpoint struct {
	Encoder *Encoder
	// Optim holds the optimiser state of layer n at index n-1; a nil entry
	// (or a short slice) means the layer has none.
	Optim []*OptimState
	// Meta is stored verbatim; nil means {}.
	Meta json.RawMessage
}

type checkpointMeta struct {
	Format int             `json:"format"`
	Config Config          `json:"config"`
	Optim  []optimMeta     `json:"optim,omitempty"`
	Meta   json.RawMessage `json:"meta,omitempty"`
}

type optimMeta struct {
	Layer  int    `json:"layer"`
	Kind   string `json:"kind"`
	Cycles int64  `json:"cycles"`
}

// Save writes the checkpoint atomically (temporary file, fsync, rename) in
// the safetensors format: the encoder's tensors under PyTorch's names and
// layouts, optimiser moments as optim.<tensor>.m / .v (and .g, the open
// cycle's gradient), and the configuration, counters and Meta as JSON in
// __metadata__["clapp"].
func (c *Checkpoint) Save(path string) error {
	e := c.Encoder
	var tensors []safetensors.Tensor
	for _, p := range e.Params() {
		tensors = append(tensors, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Torch()})
	}
	m := checkpointMeta{Format: checkpointFormat, Config: e.Config, Meta: c.Meta}
	for i, st := range c.Optim {
		if st == nil {
			continue
		}
		n := i + 1
		m.Optim = append(m.Optim, optimMeta{Layer: n, Kind: st.Kind, Cycles: st.Cycles})
		for _, p := range e.LayerParams(n) {
			for _, suffix := range []string{".m", ".v", ".g"} {
				v, ok := st.Tensors[p.Name+suffix]
				if !ok {
					continue
				}
				q := &Param{Shape: p.Shape, Layout: p.Layout, Data: v}
				tensors = append(tensors, safetensors.Tensor{Name: "optim." + p.Name + suffix, Shape: p.Shape, Data: q.Torch()})
			}
		}
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("model: checkpoint metadata: %w", err)
	}
	if err := safetensors.WriteFile(path, tensors, map[string]string{metaKey: string(meta), "format": "pt"}); err != nil {
		return fmt.Errorf("model: save checkpoint: %w", err)
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by Save. It checks every name,
// shape and size against the configuration stored in the file and rejects
// anything missing, unknown or mismatched with an error wrapping
// ErrCheckpoint that names the problem; it never panics on bad input.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	c, err := DecodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// DecodeCheckpoint is LoadCheckpoint on bytes.
func DecodeCheckpoint(data []byte) (*Checkpoint, error) {
	f, err := safetensors.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	raw, ok := f.Metadata[metaKey]
	if !ok {
		return nil, fmt.Errorf("%w: no %q entry in __metadata__ (not a clapp checkpoint)", ErrCheckpoint, metaKey)
	}
	var m checkpointMeta
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("%w: metadata: %w", ErrCheckpoint, err)
	}
	if m.Format != checkpointFormat {
		return nil, fmt.Errorf("%w: format %d, this build reads %d", ErrCheckpoint, m.Format, checkpointFormat)
	}
	if err := m.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := m.Config.sane(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	// The configuration must not claim more weights than the file holds:
	// check before allocating them.
	have := 0
	for _, t := range f.Tensors {
		have += len(t.Data)
	}
	if need := m.Config.paramCount(); need > have {
		return nil, fmt.Errorf("%w: the configuration needs %d weights, the file holds %d values", ErrCheckpoint, need, have)
	}
	e, err := NewEncoder(m.Config, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	used := map[string]bool{}
	take := func(name string, p *Param) ([]float32, error) {
		t, ok := f.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("%w: tensor %s missing", ErrCheckpoint, name)
		}
		if !sameShape(t.Shape, p.Shape) {
			return nil, fmt.Errorf("%w: tensor %s has shape %v, the configuration needs %v", ErrCheckpoint, name, t.Shape, p.Shape)
		}
		used[name] = true
		return t.Data, nil
	}
	for _, p := range e.Params() {
		v, err := take(p.Name, p)
		if err != nil {
			return nil, err
		}
		p.SetTorch(v)
	}
	c := &Checkpoint{Encoder: e, Meta: m.Meta}
	for _, om := range m.Optim {
		if om.Layer < 1 || om.Layer > e.Layers() {
			return nil, fmt.Errorf("%w: optimiser state for layer %d of %d", ErrCheckpoint, om.Layer, e.Layers())
		}
		st := &OptimState{Kind: om.Kind, Cycles: om.Cycles, Tensors: map[string][]float32{}}
		if om.Kind == "adam" {
			for _, p := range e.LayerParams(om.Layer) {
				for _, suffix := range []string{".m", ".v", ".g"} {
					v, err := take("optim."+p.Name+suffix, p)
					if err != nil {
						return nil, err
					}
					q := &Param{Shape: p.Shape, Layout: p.Layout, Data: make([]float32, len(v))}
					q.SetTorch(v)
					st.Tensors[p.Name+suffix] = q.Data
				}
			}
		}
		for len(c.Optim) < om.Layer {
			c.Optim = append(c.Optim, nil)
		}
		c.Optim[om.Layer-1] = st
	}
	var unknown []string
	for _, t := range f.Tensors {
		if !used[t.Name] {
			unknown = append(unknown, t.Name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%w: unexpected tensors %v", ErrCheckpoint, unknown)
	}
	return c, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sane bounds a configuration read from a file, so a hostile header cannot
// make NewEncoder allocate without limit before the tensors are checked.
func (c Config) sane() error {
	if c.Channels > 8192 || c.Hidden > 8192 || c.K > 1024 || len(c.Convs) > 64 {
		return fmt.Errorf("%w: implausible size (channels %d, hidden %d, K %d, %d convolutions)", ErrConfig, c.Channels, c.Hidden, c.K, len(c.Convs))
	}
	for _, s := range c.Convs {
		if s.Kernel > 4096 || s.Stride > 4096 || s.Padding > 4096 {
			return fmt.Errorf("%w: implausible convolution %+v", ErrConfig, s)
		}
	}
	return nil
}

// paramCount returns the number of weights of the encoder c describes.
func (c Config) paramCount() int {
	n, cin := 0, 1
	heads := 1
	if c.Split {
		heads = 2
	}
	for _, s := range c.Convs {
		n += c.Channels*cin*s.Kernel + c.Channels + heads*c.K*c.Channels*c.Channels
		cin = c.Channels
	}
	h := c.Hidden
	return n + 3*h*cin + 3*h*h + 6*h + heads*c.K*cin*h
}
