package probe

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// refLoss is an independent float64 forward pass: mean cross-entropy over
// the labelled rows plus wd/2 |W|^2, from parameters in PyTorch layouts.
func refLoss(x [][]float64, labels []int, hidden, classes int, w1, b1, w2, b2 []float64, wd float64) float64 {
	var sum float64
	n := 0
	for i, row := range x {
		if labels[i] < 0 {
			continue
		}
		in := row
		if hidden > 0 {
			h := make([]float64, hidden)
			for k := range h {
				s := b1[k]
				for j, v := range row {
					s += w1[k*len(row)+j] * v
				}
				h[k] = math.Max(s, 0)
			}
			in = h
		}
		z := make([]float64, classes)
		m := math.Inf(-1)
		for c := range z {
			s := b2[c]
			for j, v := range in {
				s += w2[c*len(in)+j] * v
			}
			z[c] = s
			m = math.Max(m, s)
		}
		var e float64
		for _, v := range z {
			e += math.Exp(v - m)
		}
		sum += math.Log(e) + m - z[labels[i]]
		n++
	}
	loss := sum / float64(n)
	var sq float64
	for _, v := range w1 {
		sq += v * v
	}
	for _, v := range w2 {
		sq += v * v
	}
	return loss + wd/2*sq
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func TestGradientAgainstFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hidden int
		wd     float64
	}{
		{"linear", 0, 0},
		{"linear, weight decay", 0, 0.05},
		{"MLP", 7, 0},
		{"MLP, weight decay", 7, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const dim, classes, rows = 5, 4, 9
			r := rand.New(rand.NewPCG(11, 12))
			p := New(dim, classes, Config{Hidden: tc.hidden, WeightDecay: tc.wd, Seed: 3})
			x := NewMatrix(rows, dim)
			x64 := make([][]float64, rows)
			for i := range rows {
				for j := range dim {
					x.Data[i*dim+j] = float32(r.NormFloat64())
				}
				x64[i] = to64(x.Row(i))
			}
			labels := []int{0, 1, 2, 3, -1, 1, 2, 0, 3} // one unlabelled row
			var s scratch
			loss, _ := p.gradients(x, labels, &s)

			params := make([][]float64, len(p.params))
			for i, t := range p.params {
				params[i] = to64(t)
			}
			f := func() float64 {
				if tc.hidden > 0 {
					return refLoss(x64, labels, tc.hidden, classes, params[0], params[1], params[2], params[3], tc.wd)
				}
				return refLoss(x64, labels, 0, classes, nil, nil, params[0], params[1], tc.wd)
			}
			if ref := f(); math.Abs(ref-loss) > 1e-5*math.Abs(ref) {
				t.Errorf("loss %.8g, reference %.8g", loss, ref)
			}
			const h = 1e-6
			for i, param := range params {
				fd := make([]float64, len(param))
				for k := range param {
					v := param[k]
					param[k] = v + h
					up := f()
					param[k] = v - h
					down := f()
					param[k] = v
					fd[k] = (up - down) / (2 * h)
				}
				// The conformance rule: max|a - r| <= 1e-3 max|r| + 1e-5.
				var worst, scale float64
				for k, r := range fd {
					worst = math.Max(worst, math.Abs(float64(p.grads[i][k])-r))
					scale = math.Max(scale, math.Abs(r))
				}
				if worst > 1e-3*scale+1e-5 {
					t.Errorf("parameter %d: gradient off by %.3g (largest %.3g)", i, worst, scale)
				}
				if scale == 0 {
					t.Errorf("parameter %d: zero gradient, the check proves nothing", i)
				}
			}
		})
	}
}

// blobs draws n rows of dim features in classes Gaussian clusters whose
// centres lie sep standard deviations apart, offset and scaled far from
// zero mean and unit variance so that standardisation matters.
func blobs(r *rand.Rand, n, dim, classes int, sep float64) (Matrix, []int) {
	centres := make([][]float64, classes)
	cr := rand.New(rand.NewPCG(99, uint64(dim*classes)))
	for c := range centres {
		centres[c] = make([]float64, dim)
		for j := range dim {
			centres[c][j] = sep * cr.NormFloat64()
		}
	}
	x := NewMatrix(n, dim)
	labels := make([]int, n)
	for i := range n {
		c := r.IntN(classes)
		labels[i] = c
		for j := range dim {
			x.Data[i*dim+j] = float32((centres[c][j]+r.NormFloat64())*float64(j+1)*10 + 500)
		}
	}
	return x, labels
}

func TestSeparable(t *testing.T) {
	for _, hidden := range []int{0, 32} {
		r := rand.New(rand.NewPCG(5, 5))
		x, y := blobs(r, 2000, 10, 5, 4)
		tx, ty := blobs(r, 1000, 10, 5, 4)
		p, err := Fit(x, y, 5, Config{Hidden: hidden, Standardize: true, Epochs: 10, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		train, test := p.Accuracy(x, y), p.Accuracy(tx, ty)
		if train < 0.99 || test < 0.99 {
			t.Errorf("hidden %d: accuracy train %.3f test %.3f on separable data, want >= 0.99", hidden, train, test)
		}
	}
}

func TestShuffledLabelsGiveChance(t *testing.T) {
	for _, hidden := range []int{0, 32} {
		r := rand.New(rand.NewPCG(6, 6))
		x, y := blobs(r, 3000, 10, 5, 4)
		tx, ty := blobs(r, 2000, 10, 5, 4)
		r.Shuffle(len(y), func(i, j int) { y[i], y[j] = y[j], y[i] })
		r.Shuffle(len(ty), func(i, j int) { ty[i], ty[j] = ty[j], ty[i] })
		p, err := Fit(x, y, 5, Config{Hidden: hidden, Standardize: true, Epochs: 10, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]int, 5)
		for _, l := range ty {
			counts[l]++
		}
		chance := float64(slices.Max(counts)) / float64(len(ty))
		if acc := p.Accuracy(tx, ty); acc > chance+0.04 {
			t.Errorf("hidden %d: held-out accuracy %.3f with shuffled labels, chance %.3f", hidden, acc, chance)
		}
	}
}

func TestStandardization(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	x, y := blobs(r, 5000, 3, 2, 1)
	p, err := Fit(x, y, 2, Config{Standardize: true, Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	mean, std := p.Standardization()
	for j := range 3 {
		var s, sq float64
		for i := range x.Rows {
			v := float64(x.Data[i*3+j])
			s += v
			sq += v * v
		}
		m := s / float64(x.Rows)
		sd := math.Sqrt(sq/float64(x.Rows) - m*m)
		if math.Abs(float64(mean[j])-m) > 1e-3*math.Abs(m) || math.Abs(float64(std[j])-sd) > 1e-3*sd {
			t.Errorf("feature %d: mean %g std %g, want %g %g", j, mean[j], std[j], m, sd)
		}
	}
	if m, s := New(3, 2, Config{}).Standardization(); m != nil || s != nil {
		t.Error("a probe without standardisation reports statistics")
	}
}

func TestDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	x, y := blobs(r, 500, 6, 3, 1)
	cfg := Config{Hidden: 8, Standardize: true, Epochs: 3, Seed: 42}
	a, _ := Fit(x, y, 3, cfg)
	b, _ := Fit(x, y, 3, cfg)
	if !slices.Equal(a.Logits(x).Data, b.Logits(x).Data) {
		t.Error("two fits with one seed differ")
	}
	cfg.Seed = 43
	c, _ := Fit(x, y, 3, cfg)
	if slices.Equal(a.Logits(x).Data, c.Logits(x).Data) {
		t.Error("fits with seeds 42 and 43 are identical")
	}
}

func TestBadInput(t *testing.T) {
	x := NewMatrix(3, 2)
	if _, err := Fit(x, []int{0, 1, 2}, 2, Config{}); !errors.Is(err, ErrLabel) {
		t.Errorf("label 2 of 2 classes: %v", err)
	}
	if _, err := Fit(x, []int{-1, -1, -1}, 2, Config{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("no labels: %v", err)
	}
	x.Data[3] = float32(math.NaN())
	if _, err := Fit(x, []int{0, 1, 0}, 2, Config{}); !errors.Is(err, ErrNotFinite) {
		t.Errorf("NaN feature: %v", err)
	}
	p := New(2, 2, Config{Standardize: true})
	before := p.Logits(NewMatrix(1, 2)).Data
	if _, err := p.Step(x, []int{0, 1, 0}); !errors.Is(err, ErrNotFinite) {
		t.Errorf("Step with a NaN: %v", err)
	}
	x.Data[4] = float32(math.Inf(1))
	if _, err := p.Step(NewMatrix(1, 2), []int{5}); !errors.Is(err, ErrLabel) {
		t.Errorf("Step with label 5: %v", err)
	}
	if p.Steps() != 0 || !slices.Equal(before, p.Logits(NewMatrix(1, 2)).Data) {
		t.Error("a rejected block changed the probe")
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic on a shape mismatch")
		}
	}()
	p.Predict(NewMatrix(2, 3))
}

func TestOnline(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const dim, classes, block = 8, 4, 32
	p := New(dim, classes, Config{Standardize: true, LearningRate: 1e-2, Window: 500})
	if _, n := p.RecentAccuracy(); n != 0 {
		t.Errorf("a new probe reports %d recent frames", n)
	}
	var first, last float64
	for step := range 400 {
		x, y := blobs(r, block, dim, classes, 3)
		y[0] = -1 // an unlabelled frame
		res, err := p.Step(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if res.Labelled != block-1 {
			t.Fatalf("step %d: %d labelled", step, res.Labelled)
		}
		if step == 0 {
			first = res.Accuracy
		}
		last = res.Accuracy
	}
	acc, n := p.RecentAccuracy()
	if n != 500 || acc < 0.97 || last < 0.9 {
		t.Errorf("recent accuracy %.3f over %d frames (first block %.2f, last %.2f), want >= 0.97 over 500", acc, n, first, last)
	}
	if p.Steps() != 400 {
		t.Errorf("%d steps, want 400", p.Steps())
	}
	// Running statistics match the data's.
	big, _ := blobs(r, 20000, dim, classes, 3)
	q, _ := Fit(big, make([]int, big.Rows), classes, Config{Standardize: true, Epochs: 1})
	wantMean, wantStd := q.Standardization()
	mean, std := p.Standardization()
	for j := range dim {
		if math.Abs(float64(mean[j]-wantMean[j])) > 0.05*float64(wantStd[j]) || math.Abs(float64(std[j]/wantStd[j])-1) > 0.05 {
			t.Errorf("feature %d: running mean %g std %g, data %g %g", j, mean[j], std[j], wantMean[j], wantStd[j])
		}
	}
}

// countingBLAS is gonum's implementation that counts its GEMMs, to check
// that Config.BLAS is the one used.
type countingBLAS struct {
	gonum.Implementation
	gemms int
}

func (c *countingBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cc []float32, ldc int) {
	c.gemms++
	c.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
}

func TestConfigBLAS(t *testing.T) {
	impl := &countingBLAS{}
	r := rand.New(rand.NewPCG(10, 10))
	x, y := blobs(r, 100, 4, 2, 3)
	if _, err := Fit(x, y, 2, Config{Hidden: 3, BLAS: impl, Epochs: 1, BatchSize: 50}); err != nil {
		t.Fatal(err)
	}
	// Two batches, five GEMMs each (two forward, three backward).
	if impl.gemms != 10 {
		t.Errorf("%d GEMMs through Config.BLAS, want 10", impl.gemms)
	}
}

func TestProgress(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	x, y := blobs(r, 300, 4, 3, 3)
	var epochs []Epoch
	if _, err := Fit(x, y, 3, Config{Epochs: 5, Standardize: true, Progress: func(e Epoch) { epochs = append(epochs, e) }}); err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 5 || epochs[4].Epoch != 5 || epochs[4].Loss >= epochs[0].Loss {
		t.Errorf("progress %+v, want 5 epochs with falling loss", epochs)
	}
}

func TestSplice(t *testing.T) {
	x := FromRows([][]float32{{1, 10}, {2, 20}, {3, 30}})
	got := Splice(x, 1, 1)
	want := []float32{1, 10, 1, 10, 2, 20, 1, 10, 2, 20, 3, 30, 2, 20, 3, 30, 3, 30}
	if got.Rows != 3 || got.Cols != 6 || !slices.Equal(got.Data, want) {
		t.Errorf("Splice = %+v, want rows of 6: %v", got, want)
	}
	a := Append(Matrix{}, x)
	a = Append(a, x)
	if a.Rows != 6 || a.Cols != 2 || !slices.Equal(a.Row(4), []float32{2, 20}) {
		t.Errorf("Append = %+v", a)
	}
}

func BenchmarkFit(b *testing.B) {
	for _, bc := range []struct {
		name                 string
		n, dim, classes, hid int
	}{
		{"linear/N=10000_D=256_C=41", 10000, 256, 41, 0},
		{"mlp/N=10000_D=273_H=128_C=30", 10000, 273, 30, 128},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x, y := blobs(r, bc.n, bc.dim, bc.classes, 1)
			for b.Loop() {
				if _, err := Fit(x, y, bc.classes, Config{Hidden: bc.hid, Epochs: 1, Standardize: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(bc.n*b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

func BenchmarkStep(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y := blobs(r, 128, 256, 41, 1)
	p := New(256, 41, Config{Standardize: true})
	for b.Loop() {
		if _, err := p.Step(x, y); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "frames/s")
}
