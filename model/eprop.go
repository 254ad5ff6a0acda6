package model

import "fmt"

// EpropStream runs a GRU forward in time over one stream and computes the
// exact gradient of the paper's Eqs. 15-18 (h' constant inside the gates,
// the leak z*h' kept) with eligibility traces, in memory that does not
// grow with the length of the stream.
//
// For the blocked network, dh[t]/dh[t-1] is the diagonal z[t], so the
// total derivative of h[t] with respect to a parameter of unit j is the
// trace e[t] = z[t] * e[t-1] + psi[t] * pre[t], where psi is the local
// derivative of h_j through its gate and pre the presynaptic activity (x,
// h' or 1). The gradient is sum_t delta[t] . e[t] with delta[t] = dL/dh[t]
// from the loss at step t.
//
// A context's learning signal delta[t] is complete only when its last
// target, K steps later, has arrived. The traces therefore wait: the
// stream keeps the trace at the last step whose signal is complete, and
// for each younger step only its compact factors (x, h', psi, z, delta so
// far: O(Cin + 4H) values). When the signals of a run of steps are
// complete, Absorb folds them in at once:
//
//	lambda[s] = delta[s] + z[s+1] * lambda[s+1]        (within the run)
//	grad     += (z[a] * lambda[a]) . e[a-1] + sum_s lambda[s] psi[s] pre[s]^T
//	e[b]      = (prod z) . e[a-1]           + sum_s D[s]      psi[s] pre[s]^T
//
// which is the step-by-step recursion regrouped: two GEMMs per parameter
// matrix instead of one pass over all traces per step. Memory is one trace
// per parameter plus the pending steps, at most K plus a block.
type EpropStream struct {
	g *GRU
	h []float32
	// next is the index of the next step; absorbed the index of the oldest
	// pending step.
	next, absorbed int64
	// Traces at step absorbed-1.
	eih, ehh, ebih, ebhh []float32
	pend                 []epropStep
	free                 []epropStep
	gi, gh, r, z, n      []float32
	a, b, xs, hs         []float32
	lam, dd, kappa, dtot []float32
}

type epropStep struct {
	x, hprev   []float32
	psiI, psiH []float32 // 3H each
	z, delta   []float32 // H each
}

// NewEpropStream starts a stream at h = h0 (nil means zeros) with zero
// traces. It uses g's weights at the time of each call.
func (g *GRU) NewEpropStream(h0 []float32) *EpropStream {
	H := g.H
	e := &EpropStream{g: g, h: make([]float32, H),
		eih: make([]float32, 3*H*g.Cin), ehh: make([]float32, 3*H*H),
		ebih: make([]float32, 3*H), ebhh: make([]float32, 3*H),
		gi: make([]float32, 3*H), gh: make([]float32, 3*H),
		r: make([]float32, H), z: make([]float32, H), n: make([]float32, H)}
	if h0 != nil {
		copy(e.h, h0)
	}
	return e
}

// H returns the current hidden state (aliased; do not modify).
func (e *EpropStream) H() []float32 { return e.h }

// Next returns the index of the next step.
func (e *EpropStream) Next() int64 { return e.next }

// Absorbed returns the index of the oldest step whose signal may still
// change; steps before it are folded into the traces.
func (e *EpropStream) Absorbed() int64 { return e.absorbed }

// Pending returns the number of steps waiting for their learning signal.
func (e *EpropStream) Pending() int { return len(e.pend) }

func (e *EpropStream) newStep() epropStep {
	if n := len(e.free); n > 0 {
		s := e.free[n-1]
		e.free = e.free[:n-1]
		zero(s.delta)
		return s
	}
	H, cin := e.g.H, e.g.Cin
	buf := make([]float32, cin+H+3*H+3*H+H+H)
	return epropStep{x: buf[:cin], hprev: buf[cin : cin+H],
		psiI: buf[cin+H : cin+4*H], psiH: buf[cin+4*H : cin+7*H],
		z: buf[cin+7*H : cin+8*H], delta: buf[cin+8*H:]}
}

// Forward runs t steps of input x (t x Cin), writing the hidden states to
// out (t x H), and records each step as pending. The input gates of the
// whole block are one GEMM.
func (e *EpropStream) Forward(x []float32, t int, out []float32) {
	g, H := e.g, e.g.H
	e.gi = grow(e.gi, t*3*H)
	g.InputGates(x, t, e.gi)
	for s := 0; s < t; s++ {
		st := e.newStep()
		copy(st.x, x[s*g.Cin:(s+1)*g.Cin])
		copy(st.hprev, e.h)
		g.gruStep(e.gi[s*3*H:(s+1)*3*H], st.hprev, e.gh, e.r, e.z, e.n, e.h)
		ghn := e.gh[2*H:]
		for j := 0; j < H; j++ {
			r, z, n := e.r[j], e.z[j], e.n[j]
			dn := (1 - z) * (1 - n*n)
			pr := dn * ghn[j] * r * (1 - r)
			pz := (st.hprev[j] - n) * z * (1 - z)
			st.psiI[j], st.psiI[H+j], st.psiI[2*H+j] = pr, pz, dn
			st.psiH[j], st.psiH[H+j], st.psiH[2*H+j] = pr, pz, dn*r
			st.z[j] = z
		}
		copy(out[s*H:(s+1)*H], e.h)
		e.pend = append(e.pend, st)
		e.next++
	}
}

// Signal adds dh (H values) to the learning signal dL/dh of step, which
// must still be pending.
func (e *EpropStream) Signal(step int64, dh []float32) {
	i := step - e.absorbed
	if i < 0 || i >= int64(len(e.pend)) {
		panic(fmt.Sprintf("model: e-prop signal for step %d outside pending steps [%d, %d)", step, e.absorbed, e.next))
	}
	axpy(1, dh[:e.g.H], e.pend[i].delta)
}

// Absorb folds the pending steps before index upto into the traces and
// adds their contribution to gr. Their signals must be complete.
func (e *EpropStream) Absorb(upto int64, gr *GRUGrads) {
	n := int(min(upto, e.next) - e.absorbed)
	if n <= 0 {
		return
	}
	g, H := e.g, e.g.H
	h3 := 3 * H
	steps := e.pend[:n]
	// lambda[s] and D[s] per step (H values each), backwards in time.
	e.lam = grow(e.lam, n*H)
	e.dd = grow(e.dd, n*H)
	last := (n - 1) * H
	copy(e.lam[last:], steps[n-1].delta)
	for j := 0; j < H; j++ {
		e.dd[last+j] = 1
	}
	for s := n - 2; s >= 0; s-- {
		zn, d := steps[s+1].z, steps[s].delta
		lo, hi := s*H, (s+1)*H
		for j := 0; j < H; j++ {
			e.lam[lo+j] = d[j] + zn[j]*e.lam[hi+j]
			e.dd[lo+j] = zn[j] * e.dd[hi+j]
		}
	}
	// kappa = z[0]*lambda[0] weighs the old traces into the gradient;
	// z[0]*D[0] decays them.
	z0 := steps[0].z
	kappa := grow(e.kappa, H)
	dtot := grow(e.dtot, H)
	e.kappa, e.dtot = kappa, dtot
	for j := 0; j < H; j++ {
		kappa[j] = z0[j] * e.lam[j]
		dtot[j] = z0[j] * e.dd[j]
	}
	if e.absorbed > 0 {
		decay(e.eih, gr.Wih, kappa, dtot, H, g.Cin)
		decay(e.ehh, gr.Whh, kappa, dtot, H, H)
		decay(e.ebih, gr.Bih, kappa, dtot, H, 1)
		decay(e.ebhh, gr.Bhh, kappa, dtot, H, 1)
	}
	// Presynaptic activity of the run, contiguous.
	e.xs = grow(e.xs, n*g.Cin)
	e.hs = grow(e.hs, n*H)
	for s, st := range steps {
		copy(e.xs[s*g.Cin:(s+1)*g.Cin], st.x)
		copy(e.hs[s*H:(s+1)*H], st.hprev)
	}
	e.a = grow(e.a, n*h3)
	e.b = grow(e.b, n*h3)
	e.fill(steps, false)
	gemm(true, false, h3, g.Cin, n, 1, e.a, h3, e.xs, g.Cin, 1, gr.Wih, g.Cin)
	gemm(true, false, h3, g.Cin, n, 1, e.b, h3, e.xs, g.Cin, 1, e.eih, g.Cin)
	colsum(e.a, n, h3, gr.Bih)
	colsum(e.b, n, h3, e.ebih)
	// For W_hh and b_hh the n gate's local factor carries r.
	e.fill(steps, true)
	gemm(true, false, h3, H, n, 1, e.a, h3, e.hs, H, 1, gr.Whh, H)
	gemm(true, false, h3, H, n, 1, e.b, h3, e.hs, H, 1, e.ehh, H)
	colsum(e.a, n, h3, gr.Bhh)
	colsum(e.b, n, h3, e.ebhh)
	e.free = append(e.free, steps...)
	e.pend = append(e.pend[:0], e.pend[n:]...)
	e.absorbed += int64(n)
}

// fill writes A[s] = lambda[s]*psi[s] and B[s] = D[s]*psi[s] (n x 3H), with
// psi the input-side or the recurrent-side local factors.
func (e *EpropStream) fill(steps []epropStep, recurrent bool) {
	H := e.g.H
	h3 := 3 * H
	for s, st := range steps {
		psi := st.psiI
		if recurrent {
			psi = st.psiH
		}
		lam, dd := e.lam[s*H:(s+1)*H], e.dd[s*H:(s+1)*H]
		ar, br := e.a[s*h3:(s+1)*h3], e.b[s*h3:(s+1)*h3]
		for gt := 0; gt < 3; gt++ {
			o := gt * H
			for j := 0; j < H; j++ {
				ar[o+j] = lam[j] * psi[o+j]
				br[o+j] = dd[j] * psi[o+j]
			}
		}
	}
}

func colsum(a []float32, rows, cols int, out []float32) {
	for s := 0; s < rows; s++ {
		axpy(1, a[s*cols:(s+1)*cols], out)
	}
}

// decay adds kappa-weighted traces to the gradient and decays the traces,
// row by row, for the three gate blocks of H units with cols inputs.
func decay(tr, gr, kappa, dtot []float32, H, cols int) {
	for gt := 0; gt < 3; gt++ {
		for j := 0; j < H; j++ {
			o := (gt*H + j) * cols
			row, grow := tr[o:o+cols], gr[o:o+cols]
			k, d := kappa[j], dtot[j]
			for i, v := range row {
				grow[i] += k * v
				row[i] = d * v
			}
		}
	}
}

// Flush absorbs every pending step; call it when no more signal can come
// (the end of the stream).
func (e *EpropStream) Flush(gr *GRUGrads) { e.Absorb(e.next, gr) }
