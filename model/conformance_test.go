package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The conformance vectors are reference values of the CLAPP rule and of the
// e-prop GRU computed independently with automatic differentiation
// (../shared/conformance/README.md). Shapes come from each file.

func vectorsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("CLAPP_VECTORS"); d != "" {
		return d
	}
	return filepath.Join(repoRoot(t), "..", "shared", "conformance", "vectors")
}

// repoRoot walks up from the working directory to the folder holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// tensor is a flattened nested JSON array with its shape.
type tensor struct {
	shape []int
	data  []float64
}

func (x *tensor) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	x.shape, x.data = nil, nil
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		switch v := v.(type) {
		case float64:
			if depth != len(x.shape) {
				return fmt.Errorf("ragged tensor")
			}
			x.data = append(x.data, v)
		case []any:
			if depth == len(x.shape) {
				if len(x.data) > 0 {
					return fmt.Errorf("ragged tensor")
				}
				x.shape = append(x.shape, len(v))
			} else if x.shape[depth] != len(v) {
				return fmt.Errorf("ragged tensor: %d != %d at depth %d", len(v), x.shape[depth], depth)
			}
			for _, e := range v {
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unexpected %T in tensor", v)
		}
		return nil
	}
	return walk(v, 0)
}

func (x tensor) f32() []float32 {
	out := make([]float32, len(x.data))
	for i, v := range x.data {
		out[i] = float32(v)
	}
	return out
}

type vectorFile struct {
	Kind      string            `json:"kind"`
	Shapes    map[string]int    `json:"shapes"`
	Input     tensor            `json:"input"`
	Targets   *tensor           `json:"targets"`
	Params    map[string]tensor `json:"params"`
	Negatives [][]int           `json:"negatives"`
	Output    tensor            `json:"output"`
	Loss      float64           `json:"loss"`
	LossPos   float64           `json:"loss_pos"`
	LossNeg   float64           `json:"loss_neg"`
	Grads     map[string]tensor `json:"grads"`
	GradsPos  map[string]tensor `json:"grads_pos"`
	GradsNeg  map[string]tensor `json:"grads_neg"`
}

// result is what an implementation produced for one file.
type result struct {
	output                    []float32
	loss, lossPos, lossNeg    float64
	grads, gradsPos, gradsNeg map[string][]float32
}

func TestConformance(t *testing.T) {
	dir := vectorsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no conformance vectors in %s (set CLAPP_VECTORS or put shared/ beside the repository)", dir)
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			var v vectorFile
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			var got result
			switch v.Kind {
			case "conv1d", "conv1d_split":
				got = runConv(t, &v)
			case "gru_bptt":
				got = runGRU(t, &v, false)
			case "gru_eprop":
				got = runGRU(t, &v, true)
			default:
				t.Fatalf("%s: unknown kind %q", f, v.Kind)
			}
			checkTensor(t, "output", got.output, &v.Output)
			checkScalar(t, "loss", got.loss, v.Loss)
			checkScalar(t, "loss_pos", got.lossPos, v.LossPos)
			checkScalar(t, "loss_neg", got.lossNeg, v.LossNeg)
			checkGrads(t, "grads", got.grads, v.Grads)
			checkGrads(t, "grads_pos", got.gradsPos, v.GradsPos)
			checkGrads(t, "grads_neg", got.gradsNeg, v.GradsNeg)
		})
	}
}

func tolerance(ref []float64) float64 {
	m := 0.0
	for _, r := range ref {
		m = math.Max(m, math.Abs(r))
	}
	return 1e-3*m + 1e-5
}

func checkTensor(t *testing.T, what string, got []float32, ref *tensor) {
	t.Helper()
	if len(got) != len(ref.data) {
		t.Errorf("%s: %d values, reference has %d (shape %v)", what, len(got), len(ref.data), ref.shape)
		return
	}
	tol := tolerance(ref.data)
	worst, at := 0.0, -1
	for i, r := range ref.data {
		if d := math.Abs(float64(got[i]) - r); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if worst > tol || at >= 0 && math.IsNaN(worst) {
		t.Errorf("%s: max |a-r| = %.3g at %d (got %g, want %g), tolerance %.3g", what, worst, at, got[at], ref.data[at], tol)
	}
}

func checkScalar(t *testing.T, what string, got, want float64) {
	t.Helper()
	if d := math.Abs(got - want); d > 1e-3*math.Abs(want)+1e-5 || math.IsNaN(got) {
		t.Errorf("%s = %.6g, want %.6g", what, got, want)
	}
}

func checkGrads(t *testing.T, what string, got map[string][]float32, ref map[string]tensor) {
	t.Helper()
	if len(ref) == 0 {
		t.Errorf("%s: reference has no tensors", what)
	}
	for name, r := range ref {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: no gradient computed for %s", what, name)
			continue
		}
		r := r
		checkTensor(t, what+"."+name, g, &r)
	}
}

func shape(t *testing.T, v *vectorFile, key string) int {
	t.Helper()
	n, ok := v.Shapes[key]
	if !ok {
		t.Fatalf("shapes has no %q", key)
	}
	return n
}

// stepWeights returns the per-pair weight of step k of a window of T
// positions and B sequences: the loss is 1/K sum_k mean over B*(T-k) pairs.
func stepWeights(K, B, T int) []float32 {
	w := make([]float32, K)
	for k := 1; k <= K; k++ {
		if T > k {
			w[k-1] = float32(1 / (float64(K) * float64(B*(T-k))))
		}
	}
	return w
}

func runConv(t *testing.T, v *vectorFile) result {
	B, Cin, Tin := shape(t, v, "B"), shape(t, v, "Cin"), shape(t, v, "Tin")
	C, kern, stride, pad, K := shape(t, v, "C"), shape(t, v, "kernel"), shape(t, v, "stride"), shape(t, v, "padding"), shape(t, v, "K")
	conv := NewConv1d(Cin, C, kern, stride, pad, rand.New(rand.NewPCG(1, 2)))
	conv.weightParam("").SetTorch(v.Params["conv.weight"].f32())
	copy(conv.B, v.Params["conv.bias"].f32())
	split := v.Kind == "conv1d_split"
	head := NewHead(K, C, C, split, rand.New(rand.NewPCG(1, 2)))
	pw := v.Params["pred.weight"]
	copy(head.W, pw.f32())
	if split {
		pc := v.Params["pred_c.weight"]
		copy(head.Wc, pc.f32())
	}
	T := conv.OutLen(Tin)
	if want := shape(t, v, "T"); T != want {
		t.Fatalf("OutLen(%d) = %d, shapes say T = %d", Tin, T, want)
	}
	// Input (B, Cin, Tin) -> time-major, padded, per sequence.
	in := v.Input.f32()
	xps := make([][]float32, B)
	for b := 0; b < B; b++ {
		x := make([]float32, Tin*Cin)
		for c := 0; c < Cin; c++ {
			for s := 0; s < Tin; s++ {
				x[s*Cin+c] = in[(b*Cin+c)*Tin+s]
			}
		}
		xps[b] = conv.Pad(x, Tin, nil)
	}
	a := make([]float32, B*T*C)
	z := make([]float32, B*T*C)
	for b := 0; b < B; b++ {
		conv.Forward(xps[b], T, a[b*T*C:(b+1)*T*C])
	}
	ReLU(a, z)
	weights := stepWeights(K, B, T)
	pos, neg := convPairs(B, T, K, v.Negatives)

	run := func(kinds ...Kind) (float64, map[string][]float32) {
		var sc Scorer
		head.Score(z, B*T, &sc)
		dz := make([]float32, len(z))
		var terms Terms
		for _, k := range kinds {
			p := pos
			if k == Negative {
				p = neg
			}
			terms.Add(sc.Hinge(z, p, k, weights, dz))
		}
		dW := make([]float32, len(head.W))
		var dWc []float32
		if split {
			dWc = make([]float32, len(head.Wc))
		}
		sc.Backward(dz, dW, dWc) // contexts are z itself
		ReLUGrad(a, dz)
		gW := make([]float32, len(conv.W))
		gB := make([]float32, len(conv.B))
		for b := 0; b < B; b++ {
			conv.WeightGrad(xps[b], T, dz[b*T*C:(b+1)*T*C], gW, gB)
		}
		p := &Param{Shape: []int{C, Cin, kern}, Layout: ConvTimeMajor, Data: gW}
		g := map[string][]float32{"conv.weight": p.Torch(), "conv.bias": gB, "pred.weight": dW}
		if split {
			g["pred_c.weight"] = dWc
		}
		return terms.Loss, g
	}
	var r result
	r.output = z
	r.lossPos, r.gradsPos = run(Positive)
	r.lossNeg, r.gradsNeg = run(Negative)
	r.loss, r.grads = run(Positive, Negative)
	return r
}

// convPairs lists every (context t, target t+k) pair of B sequences of T
// frames stacked as B*T rows, and the negatives: the target at the same
// time in sequence negatives[k-1][b].
func convPairs(B, T, K int, negatives [][]int) (pos, neg []Pair) {
	for k := 1; k <= K; k++ {
		for b := 0; b < B; b++ {
			n := negatives[k-1][b]
			for s := 0; s+k < T; s++ {
				pos = append(pos, Pair{C: int32(b*T + s), Z: int32(b*T + s + k), K: int32(k)})
				neg = append(neg, Pair{C: int32(b*T + s), Z: int32(n*T + s + k), K: int32(k)})
			}
		}
	}
	return pos, neg
}

func loadGRU(t *testing.T, v *vectorFile) (*GRU, *Head) {
	Cin, H, Cz, K := shape(t, v, "Cin"), shape(t, v, "H"), shape(t, v, "Cz"), shape(t, v, "K")
	g := NewGRU(Cin, H, rand.New(rand.NewPCG(1, 2)))
	for name, dst := range map[string][]float32{"gru.weight_ih": g.Wih, "gru.weight_hh": g.Whh, "gru.bias_ih": g.Bih, "gru.bias_hh": g.Bhh} {
		p, ok := v.Params[name]
		if !ok {
			t.Fatalf("params has no %s", name)
		}
		if len(p.data) != len(dst) {
			t.Fatalf("%s has %d values, want %d", name, len(p.data), len(dst))
		}
		copy(dst, p.f32())
	}
	head := NewHead(K, Cz, H, false, rand.New(rand.NewPCG(1, 2)))
	pw := v.Params["pred.weight"]
	copy(head.W, pw.f32())
	return g, head
}

func gruGradMap(gr *GRUGrads, dW []float32) map[string][]float32 {
	return map[string][]float32{"gru.weight_ih": gr.Wih, "gru.weight_hh": gr.Whh, "gru.bias_ih": gr.Bih, "gru.bias_hh": gr.Bhh, "pred.weight": dW}
}

func runGRU(t *testing.T, v *vectorFile, eprop bool) result {
	B, T, Cin, H, Cz, K := shape(t, v, "B"), shape(t, v, "T"), shape(t, v, "Cin"), shape(t, v, "H"), shape(t, v, "Cz"), shape(t, v, "K")
	g, head := loadGRU(t, v)
	if v.Targets == nil {
		t.Fatal("no targets")
	}
	x := v.Input.f32()
	zt := v.Targets.f32()
	if len(x) != B*T*Cin || len(zt) != B*T*Cz {
		t.Fatalf("input/targets sizes %d/%d do not match shapes", len(x), len(zt))
	}
	weights := stepWeights(K, B, T)
	var r result
	if eprop {
		r.output, r.lossPos, r.gradsPos = runEprop(g, head, x, zt, B, T, weights, v.Negatives, Positive)
		_, r.lossNeg, r.gradsNeg = runEprop(g, head, x, zt, B, T, weights, v.Negatives, Negative)
		_, r.loss, r.grads = runEprop(g, head, x, zt, B, T, weights, v.Negatives, Positive, Negative)
		return r
	}
	tapes := make([]GRUTape, B)
	hs := make([]float32, B*T*H)
	for b := 0; b < B; b++ {
		g.Forward(x[b*T*Cin:(b+1)*T*Cin], T, nil, &tapes[b])
		copy(hs[b*T*H:], tapes[b].Hs)
	}
	pos, neg := convPairs(B, T, K, v.Negatives)
	run := func(kinds ...Kind) (float64, map[string][]float32) {
		var sc Scorer
		head.Score(hs, B*T, &sc)
		var terms Terms
		for _, k := range kinds {
			p := pos
			if k == Negative {
				p = neg
			}
			terms.Add(sc.Hinge(zt, p, k, weights, nil))
		}
		dh := make([]float32, len(hs))
		dW := make([]float32, len(head.W))
		sc.Backward(dh, dW, nil)
		gr := g.NewGrads()
		for b := 0; b < B; b++ {
			g.Backward(&tapes[b], dh[b*T*H:(b+1)*T*H], gr, nil, false)
		}
		return terms.Loss, gruGradMap(gr, dW)
	}
	r.output = hs
	r.lossPos, r.gradsPos = run(Positive)
	r.lossNeg, r.gradsNeg = run(Negative)
	r.loss, r.grads = run(Positive, Negative)
	return r
}

// runEprop drives the e-prop GRU the way it runs in a stream: one timestep
// at a time for every sequence, scoring the contexts of the last K steps
// against each target as it arrives, and absorbing a context's signal into
// the traces as soon as its last target has come.
func runEprop(g *GRU, head *Head, x, zt []float32, B, T int, weights []float32, negatives [][]int, kinds ...Kind) ([]float32, float64, map[string][]float32) {
	H, Cin, Cz, K := g.H, g.Cin, head.Cz, head.K
	streams := make([]*EpropStream, B)
	for b := range streams {
		streams[b] = g.NewEpropStream(nil)
	}
	gr := g.NewGrads()
	dW := make([]float32, len(head.W))
	hs := make([]float32, B*T*H)
	var terms Terms
	var sc Scorer
	for s := 0; s < T; s++ {
		for b := 0; b < B; b++ {
			streams[b].Forward(x[(b*T+s)*Cin:(b*T+s+1)*Cin], 1, hs[(b*T+s)*H:(b*T+s+1)*H])
		}
		// The targets of step s arrive: contexts s-k of every sequence.
		lo := max(0, s-K)
		n := s - lo
		if n > 0 {
			ctx := make([]float32, B*n*H)
			for b := 0; b < B; b++ {
				copy(ctx[b*n*H:], hs[(b*T+lo)*H:(b*T+s)*H])
			}
			head.Score(ctx, B*n, &sc)
			var pos, neg []Pair
			for b := 0; b < B; b++ {
				for c := lo; c < s; c++ {
					k := s - c
					nb := negatives[k-1][b]
					pos = append(pos, Pair{C: int32(b*n + c - lo), Z: int32(b*T + s), K: int32(k)})
					neg = append(neg, Pair{C: int32(b*n + c - lo), Z: int32(nb*T + s), K: int32(k)})
				}
			}
			for _, k := range kinds {
				p := pos
				if k == Negative {
					p = neg
				}
				terms.Add(sc.Hinge(zt, p, k, weights, nil))
			}
			dctx := make([]float32, len(ctx))
			sc.Backward(dctx, dW, nil)
			for b := 0; b < B; b++ {
				for c := lo; c < s; c++ {
					streams[b].Signal(int64(c), dctx[(b*n+c-lo)*H:(b*n+c-lo+1)*H])
				}
			}
		}
		// Context s-K has received its last target.
		for b := 0; b < B; b++ {
			streams[b].Absorb(int64(s-K+1), gr)
		}
		_ = Cz
	}
	for b := 0; b < B; b++ {
		streams[b].Flush(gr)
		if p := streams[b].Pending(); p != 0 {
			panic("pending after flush")
		}
	}
	return hs, terms.Loss, gruGradMap(gr, dW)
}
