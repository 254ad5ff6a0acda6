package model

import (
	"fmt"
	"math"
)

// Layout says how a parameter's memory order differs from PyTorch's.
type Layout int

const (
	// Native: the data is in PyTorch's order for Shape.
	Native Layout = iota
	// ConvTimeMajor: Shape is PyTorch's (Cout, Cin, kernel) but the data is
	// stored (Cout, kernel, Cin), so that a window of consecutive input
	// frames is one contiguous row and the convolution needs no im2col.
	ConvTimeMajor
)

// Param is one named tensor of learnable values.
type Param struct {
	// Name is the tensor's name in checkpoints, e.g. "layers.0.conv.weight".
	Name string
	// Shape is the tensor's shape in PyTorch's layout.
	Shape  []int
	Layout Layout
	Data   []float32
}

// Size returns the number of values.
func (p *Param) Size() int { return len(p.Data) }

// Torch returns the values in PyTorch's memory order (a copy when the
// layout differs, else Data itself).
func (p *Param) Torch() []float32 {
	switch p.Layout {
	case ConvTimeMajor:
		cout, cin, k := p.Shape[0], p.Shape[1], p.Shape[2]
		out := make([]float32, len(p.Data))
		for o := 0; o < cout; o++ {
			for t := 0; t < k; t++ {
				for i := 0; i < cin; i++ {
					out[(o*cin+i)*k+t] = p.Data[(o*k+t)*cin+i]
				}
			}
		}
		return out
	default:
		return p.Data
	}
}

// SetTorch copies values given in PyTorch's memory order into Data.
func (p *Param) SetTorch(v []float32) {
	if len(v) != len(p.Data) {
		panic(fmt.Sprintf("model: SetTorch %s: %d values for %d", p.Name, len(v), len(p.Data)))
	}
	switch p.Layout {
	case ConvTimeMajor:
		cout, cin, k := p.Shape[0], p.Shape[1], p.Shape[2]
		for o := 0; o < cout; o++ {
			for t := 0; t < k; t++ {
				for i := 0; i < cin; i++ {
					p.Data[(o*k+t)*cin+i] = v[(o*cin+i)*k+t]
				}
			}
		}
	default:
		copy(p.Data, v)
	}
}

// Grads holds one gradient buffer per parameter of a set, in the same order
// and memory layout.
type Grads [][]float32

// NewGrads returns zeroed gradient buffers shaped like ps.
func NewGrads(ps []*Param) Grads {
	g := make(Grads, len(ps))
	for i, p := range ps {
		g[i] = make([]float32, len(p.Data))
	}
	return g
}

// Zero clears every buffer.
func (g Grads) Zero() {
	for _, b := range g {
		zero(b)
	}
}

// Add accumulates alpha*o into g.
func (g Grads) Add(alpha float32, o Grads) {
	for i := range g {
		axpy(alpha, o[i], g[i])
	}
}

// Finite reports whether every value is finite.
func (g Grads) Finite() bool {
	for _, b := range g {
		if !finite(b) {
			return false
		}
	}
	return true
}

// Clone returns a deep copy.
func (g Grads) Clone() Grads {
	c := make(Grads, len(g))
	for i, b := range g {
		c[i] = append([]float32(nil), b...)
	}
	return c
}

func finite(x []float32) bool {
	// NaN and Inf are the values whose exponent bits are all ones.
	for _, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return false
		}
	}
	return true
}

// Finite reports whether every value of x is finite.
func Finite(x []float32) bool { return finite(x) }
