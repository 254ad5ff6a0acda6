package model

import (
	"fmt"
	"math"
)

// InfoNCE scores each positive pair against nneg negative targets and
// accumulates the gradient of the InfoNCE loss of CPC and Greedy InfoMax
// (the paper's Eq. 1):
//
//	sum over pairs of weight[k-1] * -log( exp(u_pos) / (exp(u_pos) + sum_j exp(u_neg_j)) )
//
// The negatives of pair i are the rows negRows[i*nneg:(i+1)*nneg] of zneg.
// Gradients reaching the targets go to dz and dzneg unless nil. The head's
// W scores every term (InfoNCE is a baseline of the symmetric rule; a split
// head's Wc is not used). Active counts pairs whose positive is not the
// highest score.
func (s *Scorer) InfoNCE(z []float32, pairs []Pair, zneg []float32, negRows []int32, nneg int, weight []float32, dz, dzneg []float32) Terms {
	h := s.h
	if len(negRows) < len(pairs)*nneg {
		panic(fmt.Sprintf("model: InfoNCE: %d negative rows for %d pairs x %d", len(negRows), len(pairs), nneg))
	}
	cz, kz := h.Cz, h.K*h.Cz
	u := make([]float64, nneg+1)
	var t Terms
	for i, p := range pairs {
		k := int(p.K) - 1
		w := weight[k]
		off := int(p.C)*kz + k*cz
		pr := s.pred[off : off+cz]
		zr := z[int(p.Z)*cz : int(p.Z)*cz+cz]
		u[0] = float64(dot(zr, pr))
		best := u[0]
		for j := 0; j < nneg; j++ {
			r := int(negRows[i*nneg+j])
			u[j+1] = float64(dot(zneg[r*cz:(r+1)*cz], pr))
			best = math.Max(best, u[j+1])
		}
		sum := 0.0
		for j := range u {
			u[j] = math.Exp(u[j] - best)
			sum += u[j]
		}
		// u now holds softmax numerators; p_j = u[j]/sum.
		t.Loss += float64(w) * -math.Log(u[0]/sum)
		t.Pairs++
		if u[0] < 1 { // some negative scored higher than the positive
			t.Active++
		}
		dp := s.dpred[off : off+cz]
		g0 := w * float32(u[0]/sum-1)
		axpy(g0, zr, dp)
		if dz != nil {
			axpy(g0, pr, dz[int(p.Z)*cz:int(p.Z)*cz+cz])
		}
		for j := 0; j < nneg; j++ {
			r := int(negRows[i*nneg+j])
			gj := w * float32(u[j+1]/sum)
			axpy(gj, zneg[r*cz:(r+1)*cz], dp)
			if dzneg != nil {
				axpy(gj, pr, dzneg[r*cz:(r+1)*cz])
			}
		}
	}
	return t
}
