package probe

import (
	"math"

	"gonum.org/v1/gonum/blas"
)

// scratch holds the activations of one batch.
type scratch struct {
	h, z, g, dh []float32
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// forward returns the logits of the (standardised) rows of x; with a
// hidden layer, s.h keeps its ReLU output.
func (p *Probe) forward(x Matrix, s *scratch) Matrix {
	n := x.Rows
	bl := p.cfg.BLAS
	in, a := p.dim, x.Data
	if hd := p.cfg.Hidden; hd > 0 {
		s.h = grow(s.h, n*hd)
		for i := range n {
			copy(s.h[i*hd:(i+1)*hd], p.b1)
		}
		bl.Sgemm(blas.NoTrans, blas.Trans, n, hd, p.dim, 1, x.Data, p.dim, p.w1, p.dim, 1, s.h, hd)
		for i, v := range s.h {
			if v < 0 {
				s.h[i] = 0
			}
		}
		in, a = hd, s.h
	}
	c := p.classes
	s.z = grow(s.z, n*c)
	for i := range n {
		copy(s.z[i*c:(i+1)*c], p.b2)
	}
	bl.Sgemm(blas.NoTrans, blas.Trans, n, c, in, 1, a, in, p.w2, in, 1, s.z, c)
	return Matrix{Rows: n, Cols: c, Data: s.z}
}

// gradients runs x forward and back and leaves dLoss/dParam in p.grads,
// where the loss is the mean cross-entropy over the labelled rows (plus
// weight decay). It returns that mean cross-entropy and the number of
// labelled rows predicted right.
func (p *Probe) gradients(x Matrix, labels []int, s *scratch) (loss float64, hits int) {
	z := p.forward(x, s)
	n, c := x.Rows, p.classes
	labelled := 0
	for _, l := range labels {
		if l >= 0 {
			labelled++
		}
	}
	for _, g := range p.grads {
		clear(g)
	}
	if labelled == 0 {
		return 0, 0
	}
	// g = (softmax(z) - onehot) / labelled, zero for unlabelled rows.
	s.g = grow(s.g, n*c)
	inv := 1 / float64(labelled)
	for i := range n {
		row, g := z.Row(i), s.g[i*c:(i+1)*c]
		l := labels[i]
		if l < 0 {
			clear(g)
			continue
		}
		best := argmax(row)
		if best == l {
			hits++
		}
		m := row[best]
		var sum float64
		for k, v := range row {
			e := math.Exp(float64(v - m))
			g[k] = float32(e)
			sum += e
		}
		loss += math.Log(sum) - float64(row[l]-m)
		for k := range g {
			g[k] = float32(float64(g[k]) / sum * inv)
		}
		g[l] -= float32(inv)
	}
	loss *= inv

	bl := p.cfg.BLAS
	in, a := p.dim, x.Data
	hd := p.cfg.Hidden
	if hd > 0 {
		in, a = hd, s.h
	}
	gw2, gb2 := p.grads[len(p.grads)-2], p.grads[len(p.grads)-1]
	// dW2 = g^T a, db2 = column sums of g.
	bl.Sgemm(blas.Trans, blas.NoTrans, c, in, n, 1, s.g, c, a, in, 0, gw2, in)
	for i := range n {
		for k, v := range s.g[i*c : (i+1)*c] {
			gb2[k] += v
		}
	}
	if hd > 0 {
		gw1, gb1 := p.grads[0], p.grads[1]
		// dh = g W2, through the ReLU.
		s.dh = grow(s.dh, n*hd)
		bl.Sgemm(blas.NoTrans, blas.NoTrans, n, hd, c, 1, s.g, c, p.w2, hd, 0, s.dh, hd)
		for i, v := range s.h {
			if v <= 0 {
				s.dh[i] = 0
			}
		}
		bl.Sgemm(blas.Trans, blas.NoTrans, hd, p.dim, n, 1, s.dh, hd, x.Data, p.dim, 0, gw1, p.dim)
		for i := range n {
			for k, v := range s.dh[i*hd : (i+1)*hd] {
				gb1[k] += v
			}
		}
	}
	if wd := float32(p.cfg.WeightDecay); wd != 0 {
		var sq float64
		for _, w := range p.weights() {
			g := p.gradOf(w)
			for k, v := range w {
				g[k] += wd * v
				sq += float64(v) * float64(v)
			}
		}
		loss += float64(wd) / 2 * sq
	}
	return loss, hits
}

// weights returns the weight matrices (not the biases).
func (p *Probe) weights() [][]float32 {
	if p.cfg.Hidden > 0 {
		return [][]float32{p.w1, p.w2}
	}
	return [][]float32{p.w2}
}

func (p *Probe) gradOf(w []float32) []float32 {
	for i, t := range p.params {
		if &t[0] == &w[0] {
			return p.grads[i]
		}
	}
	panic("probe: unknown parameter")
}

// adam applies one Adam step with the gradients in p.grads.
func (p *Probe) adam() {
	p.steps++
	cfg := &p.cfg
	b1, b2 := cfg.Beta1, cfg.Beta2
	// Bias corrections folded into the step size.
	c1 := 1 - math.Pow(b1, float64(p.steps))
	c2 := 1 - math.Pow(b2, float64(p.steps))
	lr := float32(cfg.LearningRate * math.Sqrt(c2) / c1)
	eps := float32(cfg.Epsilon * math.Sqrt(c2))
	fb1, fb2 := float32(b1), float32(b2)
	for i, w := range p.params {
		g, m, v := p.grads[i], p.m[i], p.v[i]
		for k := range w {
			gk := g[k]
			m[k] = fb1*m[k] + (1-fb1)*gk
			v[k] = fb2*v[k] + (1-fb2)*gk*gk
			w[k] -= lr * m[k] / (float32(math.Sqrt(float64(v[k]))) + eps)
		}
	}
}
