package probe

import "math"

// StepResult reports one online step: the loss and accuracy of the block
// as predicted before the step learned from it.
type StepResult struct {
	Loss     float64
	Accuracy float64
	// Labelled is the number of rows with a label.
	Labelled int
}

// Step learns online from one block of frames: it updates the running
// standardisation (with Config.Standardize), predicts every row (feeding
// RecentAccuracy, so the accuracy is measured on frames not yet learned
// from), then takes one Adam step on the block's mean cross-entropy. Rows
// with a negative label are skipped. A block with a non-finite value or
// an out-of-range label is rejected whole, before it changes anything.
func (p *Probe) Step(x Matrix, labels []int) (StepResult, error) {
	if err := p.validate(x, labels); err != nil {
		return StepResult{}, err
	}
	if p.standardize {
		p.updateRunning(x)
	}
	xb := Matrix{Rows: x.Rows, Cols: x.Cols, Data: grow(p.scratchRow, len(x.Data))}
	p.scratchRow = xb.Data
	copy(xb.Data, x.Data)
	p.applyStandardization(xb)
	s := &p.scratch
	loss, hits := p.gradients(xb, labels, s)
	labelled := 0
	z := Matrix{Rows: x.Rows, Cols: p.classes, Data: s.z[:x.Rows*p.classes]}
	for i, l := range labels {
		if l < 0 {
			continue
		}
		labelled++
		p.record(argmax(z.Row(i)) == l)
	}
	if labelled == 0 {
		return StepResult{}, nil
	}
	p.adam()
	return StepResult{Loss: loss, Accuracy: float64(hits) / float64(labelled), Labelled: labelled}, nil
}

// updateRunning folds the rows of x into the running mean and variance:
// exact cumulative statistics for the first Horizon frames, an
// exponential moving average with that memory after.
func (p *Probe) updateRunning(x Matrix) {
	h := float64(p.cfg.Horizon)
	for i := range x.Rows {
		p.seen++
		a := max(1/p.seen, 1/h)
		row := x.Row(i)
		for j, v := range row {
			d := float64(v) - float64(p.mean[j])
			p.mean[j] = float32(float64(p.mean[j]) + a*d)
			p.variance[j] = (1 - a) * (p.variance[j] + a*d*d)
		}
	}
	for j, v := range p.variance {
		p.scale[j] = invStd(v)
	}
}

func (p *Probe) record(hit bool) {
	if p.ringFull && p.ring[p.ringNext] {
		p.ringHits--
	}
	p.ring[p.ringNext] = hit
	if hit {
		p.ringHits++
	}
	p.ringNext++
	if p.ringNext == len(p.ring) {
		p.ringNext = 0
		p.ringFull = true
	}
}

// RecentAccuracy returns the accuracy of Step's predictions over the last
// Config.Window labelled frames, and how many frames that is (fewer until
// the window has filled).
func (p *Probe) RecentAccuracy() (accuracy float64, frames int) {
	n := p.ringNext
	if p.ringFull {
		n = len(p.ring)
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return float64(p.ringHits) / float64(n), n
}

// Steps returns the number of Adam steps taken so far.
func (p *Probe) Steps() int { return p.steps }
