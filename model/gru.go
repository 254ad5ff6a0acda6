package model

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GRU is a one-layer gated recurrent unit with PyTorch's gate order
// (r, z, n) and parameter layout:
//
//	r = sigma(W_ir x + b_ir + W_hr h' + b_hr)
//	z = sigma(W_iz x + b_iz + W_hz h' + b_hz)
//	n = tanh(W_in x + b_in + r * (W_hn h' + b_hn))
//	h = (1 - z) * n + z * h'
//
// where h' is the previous hidden state.
type GRU struct {
	Cin, H int
	// Wih is 3H x Cin, Whh 3H x H, Bih and Bhh 3H, rows in gate order r, z, n.
	Wih, Whh, Bih, Bhh []float32
}

// NewGRU returns a GRU initialised as PyTorch's nn.GRU: every parameter
// uniform in +-1/sqrt(H).
func NewGRU(cin, h int, rng *rand.Rand) *GRU {
	if cin <= 0 || h <= 0 {
		panic(fmt.Sprintf("model: bad GRU geometry cin=%d h=%d", cin, h))
	}
	g := &GRU{Cin: cin, H: h,
		Wih: make([]float32, 3*h*cin), Whh: make([]float32, 3*h*h),
		Bih: make([]float32, 3*h), Bhh: make([]float32, 3*h)}
	bound := 1 / math.Sqrt(float64(h))
	for _, p := range [][]float32{g.Wih, g.Whh, g.Bih, g.Bhh} {
		uniform(rng, p, bound)
	}
	return g
}

// Params returns the four tensors under PyTorch's names with prefix.
func (g *GRU) Params(prefix string) []*Param {
	h := g.H
	return []*Param{
		{Name: prefix + "weight_ih_l0", Shape: []int{3 * h, g.Cin}, Data: g.Wih},
		{Name: prefix + "weight_hh_l0", Shape: []int{3 * h, h}, Data: g.Whh},
		{Name: prefix + "bias_ih_l0", Shape: []int{3 * h}, Data: g.Bih},
		{Name: prefix + "bias_hh_l0", Shape: []int{3 * h}, Data: g.Bhh},
	}
}

// GRUGrads holds gradients shaped like a GRU's parameters.
type GRUGrads struct{ Wih, Whh, Bih, Bhh []float32 }

// NewGrads returns zeroed gradients for g.
func (g *GRU) NewGrads() *GRUGrads {
	return &GRUGrads{make([]float32, len(g.Wih)), make([]float32, len(g.Whh)), make([]float32, len(g.Bih)), make([]float32, len(g.Bhh))}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
func tanh32(x float32) float32  { return float32(math.Tanh(float64(x))) }

// InputGates computes gi = X W_ih^T + b_ih for t steps (t x 3H), one GEMM
// for a whole block.
func (g *GRU) InputGates(x []float32, t int, gi []float32) {
	h3 := 3 * g.H
	for i := 0; i < t; i++ {
		copy(gi[i*h3:(i+1)*h3], g.Bih)
	}
	gemm(false, true, t, h3, g.Cin, 1, x, g.Cin, g.Wih, g.Cin, 1, gi, h3)
}

// gruStep runs one step from the input gates gi (3H) and hprev (H); it
// writes gh = W_hh h' + b_hh (3H), the gates r, z, n and the new state h.
func (g *GRU) gruStep(gi, hprev, gh, r, z, n, h []float32) {
	H := g.H
	copy(gh, g.Bhh)
	gemv(false, 3*H, H, 1, g.Whh, H, hprev, 1, gh)
	for j := 0; j < H; j++ {
		rj := sigmoid(gi[j] + gh[j])
		zj := sigmoid(gi[H+j] + gh[H+j])
		nj := tanh32(gi[2*H+j] + rj*gh[2*H+j])
		r[j], z[j], n[j] = rj, zj, nj
		h[j] = (1-zj)*nj + zj*hprev[j]
	}
}

// GRUTape records a forward pass over a window for back-propagation
// through time.
type GRUTape struct {
	T               int
	X               []float32 // T x Cin (aliases the caller's input)
	H0              []float32 // H
	Hs              []float32 // T x H outputs
	R, Z, N, GHn    []float32 // T x H
	gi, gh, scratch []float32
}

// Forward runs the GRU over t steps of x (t x Cin) from h0 (nil means
// zeros), writing the outputs to tape.Hs and recording what BPTT needs.
func (g *GRU) Forward(x []float32, t int, h0 []float32, tape *GRUTape) {
	H := g.H
	tape.T, tape.X = t, x
	tape.H0 = growZero(tape.H0, H)
	if h0 != nil {
		copy(tape.H0, h0)
	}
	tape.Hs = grow(tape.Hs, t*H)
	tape.R = grow(tape.R, t*H)
	tape.Z = grow(tape.Z, t*H)
	tape.N = grow(tape.N, t*H)
	tape.GHn = grow(tape.GHn, t*H)
	tape.gi = grow(tape.gi, t*3*H)
	tape.gh = grow(tape.gh, 3*H)
	g.InputGates(x, t, tape.gi)
	hprev := tape.H0
	for s := 0; s < t; s++ {
		o := s * H
		g.gruStep(tape.gi[s*3*H:(s+1)*3*H], hprev, tape.gh, tape.R[o:o+H], tape.Z[o:o+H], tape.N[o:o+H], tape.Hs[o:o+H])
		copy(tape.GHn[o:o+H], tape.gh[2*H:])
		hprev = tape.Hs[o : o+H]
	}
}

// Backward back-propagates through time the direct gradients dHs (t x H,
// dL/dh[t] from the loss at each step) over the recorded window,
// accumulating parameter gradients into gr and, when dx is not nil, the
// input gradient into dx (t x Cin). With blockRecurrent set, h' is treated
// as a constant inside the gates (the paper's Eqs. 15-18, whose exact
// gradient e-prop computes forward in time); the leak z*h' keeps its
// gradient either way.
func (g *GRU) Backward(tape *GRUTape, dHs []float32, gr *GRUGrads, dx []float32, blockRecurrent bool) {
	H, t := g.H, tape.T
	h3 := 3 * H
	dgi := make([]float32, t*h3)
	dgh := make([]float32, t*h3)
	dnext := make([]float32, H)
	dh := make([]float32, H)
	for s := t - 1; s >= 0; s-- {
		o := s * H
		hprev := tape.H0
		if s > 0 {
			hprev = tape.Hs[o-H : o]
		}
		r, z, n, ghn := tape.R[o:o+H], tape.Z[o:o+H], tape.N[o:o+H], tape.GHn[o:o+H]
		gis, ghs := dgi[s*h3:(s+1)*h3], dgh[s*h3:(s+1)*h3]
		for j := 0; j < H; j++ {
			d := dHs[o+j] + dnext[j]
			dh[j] = d
			dn := d * (1 - z[j])
			dz := d * (hprev[j] - n[j])
			dan := dn * (1 - n[j]*n[j])
			dar := dan * ghn[j] * r[j] * (1 - r[j])
			daz := dz * z[j] * (1 - z[j])
			gis[j], gis[H+j], gis[2*H+j] = dar, daz, dan
			ghs[j], ghs[H+j], ghs[2*H+j] = dar, daz, dan*r[j]
			dnext[j] = d * z[j]
		}
		if !blockRecurrent {
			gemv(true, h3, H, 1, g.Whh, H, ghs, 1, dnext)
		}
	}
	// Parameter gradients: one GEMM each over the window.
	gemm(true, false, h3, g.Cin, t, 1, dgi, h3, tape.X, g.Cin, 1, gr.Wih, g.Cin)
	hp := make([]float32, t*H)
	copy(hp[:H], tape.H0)
	copy(hp[H:], tape.Hs[:(t-1)*H])
	gemm(true, false, h3, H, t, 1, dgh, h3, hp, H, 1, gr.Whh, H)
	for s := 0; s < t; s++ {
		axpy(1, dgi[s*h3:(s+1)*h3], gr.Bih)
		axpy(1, dgh[s*h3:(s+1)*h3], gr.Bhh)
	}
	if dx != nil {
		gemm(false, false, t, g.Cin, h3, 1, dgi, h3, g.Wih, g.Cin, 1, dx, g.Cin)
	}
}
