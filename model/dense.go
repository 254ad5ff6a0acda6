package model

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Dense is a fully connected layer y = x W^T + b on rows of x, PyTorch's
// nn.Linear layout (W is Out x In).
type Dense struct {
	In, Out int
	W, B    []float32
}

// NewDense returns a layer initialised as PyTorch's nn.Linear: uniform in
// +-1/sqrt(In).
func NewDense(in, out int, rng *rand.Rand) *Dense {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("model: bad Dense geometry in=%d out=%d", in, out))
	}
	d := &Dense{In: in, Out: out, W: make([]float32, out*in), B: make([]float32, out)}
	bound := 1 / math.Sqrt(float64(in))
	uniform(rng, d.W, bound)
	uniform(rng, d.B, bound)
	return d
}

// Params returns weight and bias under prefix.
func (d *Dense) Params(prefix string) []*Param {
	return []*Param{{Name: prefix + "weight", Shape: []int{d.Out, d.In}, Data: d.W},
		{Name: prefix + "bias", Shape: []int{d.Out}, Data: d.B}}
}

// Forward computes y (n x Out) from x (n x In).
func (d *Dense) Forward(x []float32, n int, y []float32) {
	for i := 0; i < n; i++ {
		copy(y[i*d.Out:(i+1)*d.Out], d.B)
	}
	gemm(false, true, n, d.Out, d.In, 1, x, d.In, d.W, d.In, 1, y, d.Out)
}

// Backward accumulates the gradients of W and b for output gradient dy
// (n x Out) and, when dx is not nil, the input gradient.
func (d *Dense) Backward(x []float32, n int, dy []float32, dW, dB, dx []float32) {
	gemm(true, false, d.Out, d.In, n, 1, dy, d.Out, x, d.In, 1, dW, d.In)
	colsum(dy, n, d.Out, dB)
	if dx != nil {
		gemm(false, false, n, d.In, d.Out, 1, dy, d.Out, d.W, d.In, 1, dx, d.In)
	}
}
