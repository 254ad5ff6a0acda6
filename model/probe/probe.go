package probe

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Sentinel errors.
var (
	// ErrLabel reports a label outside [0, classes) (negative labels mean
	// "unlabelled" and are skipped).
	ErrLabel = errors.New("probe: label out of range")
	// ErrNotFinite reports a NaN or infinite feature.
	ErrNotFinite = errors.New("probe: feature not finite")
	// ErrEmpty reports training data without a single labelled row.
	ErrEmpty = errors.New("probe: no labelled rows")
)

// Config sets up a probe. Zero fields take the defaults in their comments.
type Config struct {
	// Hidden is the width of a hidden ReLU layer; 0 (default) makes the
	// probe linear: softmax regression with a bias.
	Hidden int
	// LearningRate is Adam's step size (1e-3).
	LearningRate float64
	// Beta1, Beta2 and Epsilon are Adam's constants (0.9, 0.999, 1e-8).
	Beta1, Beta2, Epsilon float64
	// WeightDecay adds WeightDecay/2 |W|^2 to the loss (weights only).
	WeightDecay float64
	// Epochs is the number of passes of Fit over the data (20).
	Epochs int
	// BatchSize is Fit's minibatch size (64).
	BatchSize int
	// Standardize maps every feature to zero mean and unit variance before
	// the linear layer: Fit uses the training set's statistics, Step
	// running estimates.
	Standardize bool
	// Seed drives initialisation and shuffling.
	Seed uint64
	// Window is the number of recent frames RecentAccuracy covers (1000).
	Window int
	// Horizon is the memory of Step's running standardisation, in frames
	// (100000): cumulative statistics until then, an exponential average
	// after.
	Horizon int
	// BLAS does the matrix products (gonum's pure-Go implementation).
	BLAS blas.Float32
	// Progress, if set, is called after each epoch of Fit.
	Progress func(Epoch)
}

// Epoch reports one pass of Fit over the training data: the mean loss and
// the accuracy of the minibatches as they were met during the pass.
type Epoch struct {
	Epoch    int
	Loss     float64
	Accuracy float64
}

func (c *Config) fill() {
	if c.LearningRate == 0 {
		c.LearningRate = 1e-3
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Epsilon == 0 {
		c.Epsilon = 1e-8
	}
	if c.Epochs == 0 {
		c.Epochs = 20
	}
	if c.BatchSize == 0 {
		c.BatchSize = 64
	}
	if c.Window == 0 {
		c.Window = 1000
	}
	if c.Horizon == 0 {
		c.Horizon = 100000
	}
	if c.BLAS == nil {
		c.BLAS = gonum.Implementation{}
	}
}

// Probe is a softmax classifier over feature vectors: linear, or with one
// hidden ReLU layer. It is not safe for concurrent use.
type Probe struct {
	cfg          Config
	dim, classes int

	// Parameters, PyTorch layouts: w1 (Hidden x dim), b1, w2 (classes x
	// in), b2 where in is Hidden or dim.
	w1, b1, w2, b2 []float32
	params, grads  [][]float32
	m, v           [][]float32
	steps          int

	// Standardisation: x' = (x - mean) * scale.
	standardize bool
	mean, scale []float32
	variance    []float64
	seen        float64 // frames seen by Step's running estimates

	// Recent predictions of Step, a ring of Window hits.
	ring       []bool
	ringNext   int
	ringFull   bool
	ringHits   int
	scratchRow []float32
	scratch    scratch
}

// New returns an untrained probe from dim features to classes classes,
// initialised like PyTorch's nn.Linear (uniform in +-1/sqrt(fan in)).
func New(dim, classes int, cfg Config) *Probe {
	if dim < 1 || classes < 2 || cfg.Hidden < 0 {
		panic(fmt.Sprintf("probe: %d features, %d classes, %d hidden", dim, classes, cfg.Hidden))
	}
	cfg.fill()
	p := &Probe{cfg: cfg, dim: dim, classes: classes, standardize: cfg.Standardize}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x7072_6f62_65)) // "probe"
	in := dim
	if cfg.Hidden > 0 {
		p.w1 = initUniform(r, cfg.Hidden*dim, dim)
		p.b1 = initUniform(r, cfg.Hidden, dim)
		in = cfg.Hidden
		p.params = append(p.params, p.w1, p.b1)
	}
	p.w2 = initUniform(r, classes*in, in)
	p.b2 = initUniform(r, classes, in)
	p.params = append(p.params, p.w2, p.b2)
	for _, t := range p.params {
		p.grads = append(p.grads, make([]float32, len(t)))
		p.m = append(p.m, make([]float32, len(t)))
		p.v = append(p.v, make([]float32, len(t)))
	}
	p.mean = make([]float32, dim)
	p.scale = make([]float32, dim)
	p.variance = make([]float64, dim)
	for i := range p.scale {
		p.scale[i] = 1
	}
	p.ring = make([]bool, cfg.Window)
	return p
}

func initUniform(r *rand.Rand, n, fanIn int) []float32 {
	bound := 1 / math.Sqrt(float64(fanIn))
	w := make([]float32, n)
	for i := range w {
		w[i] = float32((2*r.Float64() - 1) * bound)
	}
	return w
}

// Dim returns the number of input features.
func (p *Probe) Dim() int { return p.dim }

// Classes returns the number of classes.
func (p *Probe) Classes() int { return p.classes }

// Config returns the probe's configuration with defaults filled in.
func (p *Probe) Config() Config { return p.cfg }

// Fit trains a new probe on the rows of x with their labels for
// cfg.Epochs passes of Adam over shuffled minibatches. With
// cfg.Standardize, the per-feature mean and standard deviation of x are
// stored in the probe and applied to every input.
func Fit(x Matrix, labels []int, classes int, cfg Config) (*Probe, error) {
	p := New(x.Cols, classes, cfg)
	if err := p.Train(x, labels); err != nil {
		return nil, err
	}
	return p, nil
}

// Train continues training p on the rows of x for Config.Epochs passes.
// With Standardize, the statistics are refitted on x first.
func (p *Probe) Train(x Matrix, labels []int) error {
	if err := p.validate(x, labels); err != nil {
		return err
	}
	var idx []int
	for i, l := range labels {
		if l >= 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return ErrEmpty
	}
	if p.standardize {
		p.fitStandardization(x)
	}
	cfg := &p.cfg
	bs := min(cfg.BatchSize, len(idx))
	s := &p.scratch
	xb := NewMatrix(bs, p.dim)
	lb := make([]int, bs)
	r := rand.New(rand.NewPCG(cfg.Seed, 0x7368_7566_666c_65)) // "shuffle"
	for epoch := range cfg.Epochs {
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		var loss float64
		hits, n := 0, 0
		for start := 0; start < len(idx); start += bs {
			batch := idx[start:min(start+bs, len(idx))]
			xb.Rows = len(batch)
			xb.Data = xb.Data[:len(batch)*p.dim]
			for k, i := range batch {
				copy(xb.Row(k), x.Row(i))
				lb[k] = labels[i]
			}
			p.applyStandardization(xb)
			l, h := p.gradients(xb, lb[:len(batch)], s)
			p.adam()
			loss += l * float64(len(batch))
			hits += h
			n += len(batch)
		}
		if cfg.Progress != nil {
			cfg.Progress(Epoch{Epoch: epoch + 1, Loss: loss / float64(n), Accuracy: float64(hits) / float64(n)})
		}
	}
	return nil
}

// validate checks shapes (panicking: a programmer error), labels and
// finiteness (returning an error: bad data).
func (p *Probe) validate(x Matrix, labels []int) error {
	x.check()
	if x.Cols != p.dim {
		panic(fmt.Sprintf("probe: %d features, probe takes %d", x.Cols, p.dim))
	}
	if labels != nil && len(labels) != x.Rows {
		panic(fmt.Sprintf("probe: %d labels for %d rows", len(labels), x.Rows))
	}
	for i, l := range labels {
		if l >= p.classes {
			return fmt.Errorf("%w: row %d has label %d of %d classes", ErrLabel, i, l, p.classes)
		}
	}
	for i, v := range x.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: row %d column %d is %v", ErrNotFinite, i/p.dim, i%p.dim, v)
		}
	}
	return nil
}

func (p *Probe) fitStandardization(x Matrix) {
	for j := range p.dim {
		var s float64
		for i := range x.Rows {
			s += float64(x.Data[i*p.dim+j])
		}
		mean := s / float64(x.Rows)
		var v float64
		for i := range x.Rows {
			d := float64(x.Data[i*p.dim+j]) - mean
			v += d * d
		}
		v /= float64(x.Rows)
		p.mean[j] = float32(mean)
		p.variance[j] = v
		p.scale[j] = invStd(v)
	}
	p.seen = float64(x.Rows)
}

func invStd(v float64) float32 {
	if v < 1e-12 {
		return 0 // a constant feature carries nothing
	}
	return float32(1 / math.Sqrt(v))
}

// applyStandardization maps the rows of x in place.
func (p *Probe) applyStandardization(x Matrix) {
	if !p.standardize {
		return
	}
	for i := range x.Rows {
		row := x.Row(i)
		for j, v := range row {
			row[j] = (v - p.mean[j]) * p.scale[j]
		}
	}
}

// Standardization returns copies of the per-feature means and standard
// deviations applied to inputs (nil when the probe does not standardise).
func (p *Probe) Standardization() (mean, std []float32) {
	if !p.standardize {
		return nil, nil
	}
	mean = append([]float32(nil), p.mean...)
	std = make([]float32, p.dim)
	for j, v := range p.variance {
		std[j] = float32(math.Sqrt(v))
	}
	return mean, std
}

// predictBatch is the number of rows Predict pushes through at once.
const predictBatch = 1024

// Logits returns the class scores (before the softmax) of every row of x.
func (p *Probe) Logits(x Matrix) Matrix {
	x.check()
	if x.Cols != p.dim {
		panic(fmt.Sprintf("probe: %d features, probe takes %d", x.Cols, p.dim))
	}
	out := NewMatrix(x.Rows, p.classes)
	var s scratch
	xb := NewMatrix(0, p.dim)
	for start := 0; start < x.Rows; start += predictBatch {
		n := min(predictBatch, x.Rows-start)
		xb.Rows = n
		xb.Data = append(xb.Data[:0], x.Data[start*p.dim:(start+n)*p.dim]...)
		p.applyStandardization(xb)
		z := p.forward(xb, &s)
		copy(out.Data[start*p.classes:], z.Data)
	}
	return out
}

// Predict returns the most likely class of every row of x.
func (p *Probe) Predict(x Matrix) []int {
	z := p.Logits(x)
	out := make([]int, z.Rows)
	for i := range out {
		out[i] = argmax(z.Row(i))
	}
	return out
}

// Accuracy returns the fraction of labelled rows of x whose predicted
// class is their label (rows with a negative label are skipped), and 0
// when no row is labelled.
func (p *Probe) Accuracy(x Matrix, labels []int) float64 {
	if len(labels) != x.Rows {
		panic(fmt.Sprintf("probe: %d labels for %d rows", len(labels), x.Rows))
	}
	pred := p.Predict(x)
	hits, n := 0, 0
	for i, l := range labels {
		if l < 0 {
			continue
		}
		n++
		if pred[i] == l {
			hits++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hits) / float64(n)
}

// Loss returns the mean cross-entropy of the labelled rows of x.
func (p *Probe) Loss(x Matrix, labels []int) float64 {
	z := p.Logits(x)
	var sum float64
	n := 0
	for i, l := range labels {
		if l < 0 {
			continue
		}
		row := z.Row(i)
		m := row[argmax(row)]
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - m))
		}
		sum += math.Log(s) - float64(row[l]-m)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
