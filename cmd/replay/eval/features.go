package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"clapp/model"
	"clapp/model/mfcc"
	"clapp/model/probe"
	"clapp/stream/labels"
)

// Kinds of features.
const (
	KindCheckpoint = "checkpoint"
	KindRandomInit = "random-init"
	KindMFCC       = "mfcc"
)

// Features is what the probes read: the layers 1..6 of an encoder, or the
// MFCC baseline as layer 0.
type Features struct {
	// Kind is KindCheckpoint, KindRandomInit or KindMFCC (any other name
	// for an encoder is fine too); Name says which one, e.g. the
	// checkpoint's path or the seed.
	Kind, Name string
	// Encoder is nil for MFCC.
	Encoder *model.Encoder

	geo  *labels.Geometry
	mfcc *mfcc.Extractor
}

// MFCC returns the MFCC baseline of a task: 13 coefficients with deltas and
// delta-deltas on the 10 ms grid (clapp/model/mfcc). For phones they are
// normalised per utterance, as usual; for speakers they are not, because
// that normalisation removes the long-term spectrum that tells speakers
// apart (a linear speaker probe on normalised MFCC frames is at chance).
func MFCC(task Task) Features {
	if task == TaskSpeaker {
		return Features{Kind: KindMFCC, Name: mfccRawName, mfcc: mfccRaw()}
	}
	return Features{Kind: KindMFCC, Name: mfccNormName, mfcc: mfccNorm()}
}

const (
	mfccNormName = "13+d+dd, per-utterance normalised"
	mfccRawName  = "13+d+dd, not normalised"
)

// The MFCC extractors (immutable, safe for concurrent use).
var (
	mfccNorm = sync.OnceValue(mfcc.Default)
	mfccRaw  = sync.OnceValue(func() *mfcc.Extractor {
		e, err := mfcc.New(mfcc.Config{NoNormalize: true})
		if err != nil {
			panic(err) // the defaults are valid
		}
		return e
	})
)

// EncoderFeatures returns the layers of enc, to be reported as kind and
// name.
func EncoderFeatures(kind, name string, enc *model.Encoder) (Features, error) {
	geo, err := Geometry(enc.Config)
	if err != nil {
		return Features{}, err
	}
	return Features{Kind: kind, Name: name, Encoder: enc, geo: geo}, nil
}

// CheckpointFeatures loads the encoder of a checkpoint.
func CheckpointFeatures(path string) (Features, error) {
	ck, err := model.LoadCheckpoint(path)
	if err != nil {
		return Features{}, fmt.Errorf("%w: checkpoint %s: %w", ErrData, path, err)
	}
	return EncoderFeatures(KindCheckpoint, path, ck.Encoder)
}

// RandomInit returns an encoder of configuration mc initialised as PyTorch
// does by default from seed: the random-init baseline.
func RandomInit(mc model.Config, seed uint64) (Features, error) {
	enc, err := model.NewEncoder(mc, seed)
	if err != nil {
		return Features{}, fmt.Errorf("%w: random-init encoder: %w", ErrConfig, err)
	}
	return EncoderFeatures(KindRandomInit, fmt.Sprintf("seed %d", seed), enc)
}

// Geometry returns the timing of an encoder configuration's layers: the
// convolutions, then the GRU, which keeps the last convolution's timing.
func Geometry(mc model.Config) (*labels.Geometry, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	convs := make([]labels.Conv, 0, len(mc.Convs)+1)
	for _, c := range mc.Convs {
		convs = append(convs, labels.Conv{Kernel: c.Kernel, Stride: c.Stride, Padding: c.Padding})
	}
	convs = append(convs, labels.Conv{Kernel: 1, Stride: 1, Padding: 0})
	return labels.NewGeometry(convs)
}

// Layers returns the layer numbers the features have: 0 for MFCC, 1..L for
// an encoder.
func (f Features) Layers() []int {
	if f.Encoder == nil {
		return []int{0}
	}
	ls := make([]int, f.Encoder.Layers())
	for i := range ls {
		ls[i] = i + 1
	}
	return ls
}

// Width returns the number of values per frame of layer n.
func (f Features) Width(n int) int {
	if f.Encoder == nil {
		return f.mfcc.Dim()
	}
	return f.Encoder.Config.Width(n)
}

// Rate returns the frame rate of layer n in Hz (MFCC: 100).
func (f Features) Rate(n int) float64 {
	if f.Encoder == nil {
		return labels.GridRate
	}
	return f.Encoder.Config.FrameRate(n)
}

// pooled reports whether layer n is averaged onto the grid (faster than
// 100 Hz) rather than sampled at the nearest frame.
func (f Features) pooled(n int) bool {
	return f.Encoder != nil && f.geo.Field(n).Jump < labels.Hop
}

// Describe says what layer n is and how it is brought to the grid.
func (f Features) Describe(n int) string {
	if f.Encoder == nil {
		return "MFCC " + f.Name
	}
	mc := f.Encoder.Config
	how := "nearest frame"
	if f.pooled(n) {
		how = "mean per 10 ms cell"
	}
	if n > len(mc.Convs) {
		return fmt.Sprintf("GRU %d, %g Hz, %s", mc.Hidden, mc.FrameRate(n), how)
	}
	c := mc.Convs[n-1]
	return fmt.Sprintf("conv %d/%d/%d x%d, %g Hz, %s", c.Kernel, c.Stride, c.Padding, mc.Channels, mc.FrameRate(n), how)
}

// Grid returns every layer's frames of one utterance on the 10 ms grid,
// positions 0..n-1 (layers in the order of Layers, each n rows x Width,
// row-major). Layers faster than the grid are averaged over the frames
// whose receptive-field centres fall inside each 10 ms cell (the nearest
// frame where a cell holds none, at the ends); the others take the frame
// whose centre is nearest the cell's centre. n is at most the grid length
// of the audio, floor(len(samples)/160); beyond the last frame of a layer
// its last frame is repeated.
//
// The encoder runs over the audio in blocks of one second, as the layer
// actors do, and every frame goes to its grid positions as it comes out:
// memory holds the grid and one block per layer, not the utterance's
// frames at 3200 Hz.
func (f Features) Grid(samples []float32, n int) [][]float32 {
	if f.Encoder == nil {
		m := f.mfcc
		x := m.Compute(samples)
		return [][]float32{gridRows(x, m.Dim(), m.Frames(len(samples)), n)}
	}
	enc := inference(f.Encoder)
	L := enc.Layers()
	accs := make([]*gridAcc, L)
	grid := make([][]float32, L)
	for i := range accs {
		layer := i + 1
		accs[i] = newGridAcc(f.geo.Field(layer), f.geo.Frames(layer, len(samples)), n, f.Width(layer), f.pooled(layer))
		grid[i] = accs[i].g
	}
	if len(samples) == 0 {
		return grid
	}
	convs := make([]*model.ConvStream, len(enc.Convs))
	for i, l := range enc.Convs {
		convs[i] = l.NewStream(0)
	}
	top := enc.Top.NewStream(0)
	const block = model.SampleRate // one second
	for off := 0; off < len(samples); off += block {
		x := samples[off:min(off+block, len(samples))]
		end := off+block >= len(samples)
		rows := len(x)
		for i, l := range enc.Convs {
			x = l.Forward(convs[i], x, rows, end) // aliases the stream; the next layer copies it
			rows = len(x) / l.Conv.Cout
			accs[i].add(x, rows)
		}
		accs[L-1].add(enc.Top.Forward(top, x, rows, end), rows)
	}
	for i, l := range enc.Convs {
		l.Release(convs[i]) // the next utterance takes over its buffers
	}
	for i, a := range accs {
		if a.seen != a.frames {
			panic(fmt.Sprintf("eval: layer %d gave %d frames for %d samples, its geometry says %d", i+1, a.seen, len(samples), a.frames))
		}
	}
	return grid
}

// gridAcc collects one layer's frames, as they come, into grid positions.
type gridAcc struct {
	g      []float32
	w      int
	routes []route // by frame, ascending
	next   int     // first route not yet applied
	seen   int     // frames received
	frames int     // frames the layer will have
}

// route sends frame t, times weight, to grid position j.
type route struct {
	t, j   int32
	weight float32
}

func newGridAcc(fd labels.Field, frames, n, w int, pooled bool) *gridAcc {
	a := &gridAcc{g: make([]float32, n*w), w: w, frames: frames}
	for j := range n {
		if pooled {
			if lo, hi := fd.Pool(j, frames); lo < hi {
				for t := lo; t < hi; t++ {
					a.routes = append(a.routes, route{int32(t), int32(j), 1 / float32(hi-lo)})
				}
				continue
			}
		}
		if t := fd.Nearest(j, frames); t >= 0 {
			a.routes = append(a.routes, route{int32(t), int32(j), 1})
		}
	}
	slices.SortStableFunc(a.routes, func(x, y route) int { return int(x.t) - int(y.t) })
	return a
}

// add takes the layer's next rows frames (rows x w).
func (a *gridAcc) add(z []float32, rows int) {
	first := a.seen
	a.seen += rows
	for ; a.next < len(a.routes) && int(a.routes[a.next].t) < a.seen; a.next++ {
		r := a.routes[a.next]
		src := z[(int(r.t)-first)*a.w : (int(r.t)-first+1)*a.w]
		dst := a.g[int(r.j)*a.w : (int(r.j)+1)*a.w]
		if r.weight == 1 {
			copy(dst, src)
			continue
		}
		for k, v := range src {
			dst[k] += r.weight * v
		}
	}
}

// gridRows picks rows of x (frames rows of w values) for grid positions
// 0..n-1: row nearest(j, frames) if given, else row j clamped to the last.
// With no frames at all the rows stay zero.
func gridRows(x []float32, w, frames, n int, nearest ...func(j, frames int) int) []float32 {
	g := make([]float32, n*w)
	if frames == 0 {
		return g
	}
	for j := range n {
		t := min(j, frames-1)
		if len(nearest) > 0 {
			t = nearest[0](j, frames)
		}
		copy(g[j*w:(j+1)*w], x[t*w:(t+1)*w])
	}
	return g
}

// inference returns a view of e that runs its GRU without e-prop
// bookkeeping: the same weights and the same outputs, but no eligibility
// traces and no writes to the layer, so that several goroutines can encode
// with it at once.
func inference(e *model.Encoder) *model.Encoder {
	c := *e
	top := *e.Top
	top.BPTT = true
	c.Top = &top
	return &c
}

// FrameSet holds what the probes learn from and are tested on: per layer
// the frames of the (subsampled) train and test grid positions, and their
// labels, which all layers share.
type FrameSet struct {
	Kind, Name string
	Layers     []int
	// Train[i] and Test[i] are the frames of Layers[i].
	Train, Test             []probe.Matrix
	TrainLabels, TestLabels []int
	// TrainAvailable and TestAvailable count the labelled frames before
	// subsampling.
	TrainAvailable, TestAvailable int
	// Failed lists utterances whose audio could not be read; their rows
	// are unlabelled (-1) and ignored by the probes.
	Failed []Skip
	// Seconds is the wall time of the extraction.
	Seconds float64

	features Features
}

// uttPlan is the work for one utterance: which of its grid positions are
// kept and where their rows go.
type uttPlan struct {
	u      *Utterance
	test   bool
	keep   []int // grid positions, ascending
	offset int   // first row in the split's matrices
}

// Extract encodes every utterance of both splits with f (in parallel, one
// utterance per worker), brings every layer to the 10 ms grid and keeps the
// frames chosen by the subsampling (Config.TrainFrames, TestFrames).
func Extract(ctx context.Context, ds *Dataset, f Features, cfg Config) (*FrameSet, error) {
	fss, err := ExtractAll(ctx, []*Dataset{ds}, f, cfg)
	if err != nil {
		return nil, err
	}
	return fss[0], nil
}

// ExtractAll is Extract for several datasets of the same audio, typically
// the phone and the speaker task of one split: an utterance that several of
// them hold is read and encoded once, which is most of an evaluation's
// time. It returns one FrameSet per dataset, in order.
func ExtractAll(ctx context.Context, dss []*Dataset, f Features, cfg Config) ([]*FrameSet, error) {
	cfg, err := cfg.Fill()
	if err != nil {
		return nil, err
	}
	ensureBLAS(cfg)
	start := time.Now()
	// A job is one utterance and what every FrameSet keeps of it.
	type part struct {
		set int
		p   uttPlan
	}
	type job struct {
		ds    *Dataset
		parts []part
	}
	var jobs []*job
	byID := map[string]*job{}
	fss := make([]*FrameSet, len(dss))
	for di, ds := range dss {
		fs := &FrameSet{Kind: f.Kind, Name: f.Name, Layers: f.Layers(), features: f,
			TrainAvailable: ds.Train.Frames(), TestAvailable: ds.Test.Frames()}
		fss[di] = fs
		trainPlan, nTrain := planSplit(&ds.Train, false, cfg.TrainFrames, cfg.SubsampleSeed, 0x7472_6169_6e) // "train"
		testPlan, nTest := planSplit(&ds.Test, true, cfg.TestFrames, cfg.SubsampleSeed, 0x7465_7374)         // "test"
		for _, l := range fs.Layers {
			w := f.Width(l)
			fs.Train = append(fs.Train, probe.NewMatrix(nTrain, w))
			fs.Test = append(fs.Test, probe.NewMatrix(nTest, w))
		}
		fs.TrainLabels, fs.TestLabels = make([]int, nTrain), make([]int, nTest)
		for _, p := range append(trainPlan, testPlan...) {
			lab := fs.TrainLabels
			if p.test {
				lab = fs.TestLabels
			}
			for k, j := range p.keep {
				lab[p.offset+k] = int(p.u.Labels[j])
			}
			jb := byID[p.u.ID]
			if jb == nil {
				jb = &job{ds: ds}
				byID[p.u.ID] = jb
				jobs = append(jobs, jb)
			}
			jb.parts = append(jb.parts, part{di, p})
		}
	}

	bar := newBar(cfg, len(jobs), fmt.Sprintf("encoding (%s)", f.Kind))
	type failure struct {
		jb     *job
		reason string
	}
	failed := make(chan failure, len(jobs))
	err = parallel(ctx, len(jobs), cfg.Workers, func(i int) error {
		jb := jobs[i]
		x, err := jb.ds.audio(jb.parts[0].p.u)
		if err != nil {
			cfg.Logger.Warn("eval: utterance unreadable, its frames are left out", "utt", jb.parts[0].p.u.ID, "err", err)
			failed <- failure{jb, err.Error()}
			return nil
		}
		// The label grids of one utterance have one length in practice;
		// encode once per length all the same.
		grids := map[int][][]float32{}
		for _, pt := range jb.parts {
			n := len(pt.p.u.Labels)
			grid, ok := grids[n]
			if !ok {
				grid = f.Grid(x, n)
				grids[n] = grid
			}
			fs := fss[pt.set]
			for li, l := range fs.Layers {
				m := fs.Train[li]
				if pt.p.test {
					m = fs.Test[li]
				}
				w := f.Width(l)
				for k, j := range pt.p.keep {
					copy(m.Row(pt.p.offset+k), grid[li][j*w:(j+1)*w])
				}
			}
		}
		bar.add(1)
		return nil
	})
	close(failed)
	bar.finish()
	for fl := range failed {
		for _, pt := range fl.jb.parts {
			fs := fss[pt.set]
			lab := fs.TrainLabels
			if pt.p.test {
				lab = fs.TestLabels
			}
			for k := range pt.p.keep {
				lab[pt.p.offset+k] = -1
			}
			// An utterance can be in both splits of a set; name it once.
			if len(fs.Failed) == 0 || fs.Failed[len(fs.Failed)-1].ID != pt.p.u.ID {
				fs.Failed = append(fs.Failed, Skip{pt.p.u.ID, fl.reason})
			}
		}
	}
	if err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	for _, fs := range fss {
		fs.Seconds = secs
	}
	return fss, nil
}

// planSplit chooses budget of the split's grid positions uniformly without
// replacement (all of them when budget is negative or not smaller than
// their number), by selection sampling (Knuth's Algorithm S) from a PCG
// seeded with seed and salt: the choice depends only on the utterances,
// their label counts, the budget and the seed.
func planSplit(sp *Split, test bool, budget int, seed, salt uint64) ([]uttPlan, int) {
	total := sp.Frames()
	all := budget < 0 || budget >= total
	r := rand.New(rand.NewPCG(seed, salt))
	need, left := budget, total
	var plans []uttPlan
	rows := 0
	for i := range sp.Utterances {
		u := &sp.Utterances[i]
		p := uttPlan{u: u, test: test, offset: rows}
		for j := range u.Labels {
			if all || r.IntN(left) < need {
				p.keep = append(p.keep, j)
				need--
			}
			left--
		}
		rows += len(p.keep)
		if len(p.keep) > 0 {
			plans = append(plans, p)
		}
	}
	return plans, rows
}

// audio returns the samples of u.
func (ds *Dataset) audio(u *Utterance) ([]float32, error) {
	if ds.gen != nil {
		return ds.gen.Utterance(u.Speaker, u.Index).Samples, nil
	}
	return readAudio(u.Path, u.Samples)
}
