package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randn(rng *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * scale
	}
	return x
}

func maxRelDiff(a, b []float32) float64 {
	m, d := 0.0, 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(b[i])))
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d / (m + 1e-12)
}

// allPairs lists, for one sequence of T frames, every context t (t%every
// == phase) with every target t+k < T.
func allPairs(T, K, every, phase int, negRows int) (ctx []int32, pos, neg []Pair) {
	for t := phase; t < T-1; t += every {
		ci := int32(len(ctx))
		ctx = append(ctx, int32(t))
		for k := 1; k <= K && t+k < T; k++ {
			pos = append(pos, Pair{C: ci, Z: int32(t + k), K: int32(k)})
			neg = append(neg, Pair{C: ci, Z: int32((t + k) % negRows), K: int32(k)})
		}
	}
	return
}

// TestConvLayerStreamsLikeBatch feeds a sequence in blocks of assorted
// sizes and checks that the outputs and the summed gradient of every
// block's positive terms equal one batch pass over the whole sequence.
func TestConvLayerStreamsLikeBatch(t *testing.T) {
	cases := []struct {
		name                      string
		cin, cout, kern, str, pad int
		K, every                  int
		split                     bool
		tin                       int
		blocks                    []int
	}{
		{"k10s5", 1, 6, 10, 5, 2, 4, 3, false, 400, []int{7, 1, 50, 3, 100}},
		{"k8s4-split", 3, 5, 8, 4, 2, 5, 2, true, 300, []int{13, 29, 64}},
		{"k4s2", 4, 4, 4, 2, 1, 3, 1, false, 120, []int{1, 2, 3, 5, 8}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 9))
			l := &ConvLayer{Conv: NewConv1d(tc.cin, tc.cout, tc.kern, tc.str, tc.pad, rng),
				Head: NewHead(tc.K, tc.cout, tc.cout, tc.split, rng), Every: tc.every}
			x := randn(rng, tc.tin*tc.cin, 1)
			// Batch reference.
			T := l.Conv.OutLen(tc.tin)
			xp := l.Conv.Pad(x, tc.tin, nil)
			a := make([]float32, T*tc.cout)
			z := make([]float32, T*tc.cout)
			l.Conv.Forward(xp, T, a)
			ReLU(a, z)
			ref := NewGrads(l.Params())
			refW := &ConvWindow{XP: xp, Rows: T, A: a, Z: z, Phase: 1 % tc.every}
			var sc LearnScratch
			refPos, _ := l.Learn(refW, Learning{Positive: true}, ref, &sc)
			// Streaming.
			s := l.NewStream(1 % tc.every)
			got := NewGrads(l.Params())
			var out []float32
			var pos Terms
			at := 0
			for i := 0; at < tc.tin; i++ {
				n := min(tc.blocks[i%len(tc.blocks)], tc.tin-at)
				end := at+n == tc.tin
				out = append(out, l.Forward(s, x[at*tc.cin:(at+n)*tc.cin], n, end)...)
				p, _ := l.Learn(s.Window(), Learning{Positive: true}, got, &sc)
				pos.Add(p)
				at += n
			}
			if len(out) != len(z) {
				t.Fatalf("streamed %d values, batch %d", len(out), len(z))
			}
			if d := maxRelDiff(out, z); d > 1e-5 {
				t.Errorf("outputs differ by %g", d)
			}
			if math.Abs(pos.Loss-refPos.Loss) > 1e-4*math.Abs(refPos.Loss)+1e-6 || pos.Pairs != refPos.Pairs {
				t.Errorf("terms %+v, batch %+v", pos, refPos)
			}
			for i := range ref {
				if d := maxRelDiff(got[i], ref[i]); d > 1e-4 {
					t.Errorf("grad %s differs by %g", l.Params()[i].Name, d)
				}
			}
		})
	}
}

// TestGRULayerStreamsLikeBatch checks the e-prop and BPTT layers, fed in
// blocks, against one pass over the whole sequence: e-prop must equal the
// blocked network's exact gradient; truncated BPTT is only compared on its
// outputs and loss.
func TestGRULayerStreamsLikeBatch(t *testing.T) {
	for _, bptt := range []bool{false, true} {
		name := "eprop"
		if bptt {
			name = "bptt"
		}
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			cin, H, K, T := 5, 4, 3, 40
			l := &GRULayer{GRU: NewGRU(cin, H, rng), Head: NewHead(K, cin, H, false, rng), Every: 1, BPTT: bptt}
			x := randn(rng, T*cin, 1)
			var tape GRUTape
			l.GRU.Forward(x, T, nil, &tape)
			hs := append([]float32(nil), tape.Hs...)
			_, pos, _ := allPairs(T, K, 1, 0, T)
			var sc Scorer
			l.Head.Score(hs, T, &sc)
			w := make([]float32, K)
			for i := range w {
				w[i] = 1 / float32(K)
			}
			refT := sc.Hinge(x, pos, Positive, w, nil)
			dh := make([]float32, T*H)
			ref := NewGrads(l.Params())
			sc.Backward(dh, ref[4], nil)
			l.GRU.Backward(&tape, dh, &GRUGrads{ref[0], ref[1], ref[2], ref[3]}, nil, true)

			s := l.NewStream(0)
			got := NewGrads(l.Params())
			var out []float32
			var terms Terms
			var ls LearnScratch
			blocks := []int{1, 4, 2, 7, 3}
			for at, i := 0, 0; at < T; i++ {
				n := min(blocks[i%len(blocks)], T-at)
				out = append(out, l.Forward(s, x[at*cin:(at+n)*cin], n, at+n == T)...)
				p, _ := l.Learn(s, s.Window(), GRULearning{Positive: true}, got, &ls)
				terms.Add(p)
				at += n
			}
			if d := maxRelDiff(out, hs); d > 1e-5 {
				t.Errorf("outputs differ by %g", d)
			}
			if math.Abs(terms.Loss-refT.Loss) > 1e-4*refT.Loss || terms.Pairs != refT.Pairs {
				t.Errorf("terms %+v, batch %+v", terms, refT)
			}
			if bptt {
				return
			}
			for i := range ref {
				if d := maxRelDiff(got[i], ref[i]); d > 1e-4 {
					t.Errorf("grad %s differs by %g", l.Params()[i].Name, d)
				}
			}
		})
	}
}

// TestConvLearnDeferred: gathering the gradients of the window and of the
// negative window and back-propagating each once gives what Learn gives
// when it back-propagates them itself.
func TestConvLearnDeferred(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	l := &ConvLayer{Conv: NewConv1d(3, 6, 4, 2, 1, rng), Head: NewHead(3, 6, 6, false, rng), Every: 2}
	tin := 60
	wa := &ConvWindow{XP: l.Conv.Pad(randn(rng, tin*3, 1), tin, nil), Rows: l.Conv.OutLen(tin), Phase: 1}
	wb := &ConvWindow{XP: l.Conv.Pad(randn(rng, tin*3, 1), tin, nil), Rows: l.Conv.OutLen(tin)}
	l.Recompute(wa)
	l.Recompute(wb)
	var sc LearnScratch
	direct := NewGrads(l.Params())
	l.Learn(wa, Learning{Positive: true, Negative: wb}, direct, &sc)
	deferred := NewGrads(l.Params())
	dza := make([]float32, wa.Rows*6)
	dzb := make([]float32, wb.Rows*6)
	l.Learn(wa, Learning{Positive: true, Negative: wb, DZ: dza, NegDZ: dzb}, deferred, &sc)
	l.Backprop(wa, dza, deferred)
	l.Backprop(wb, dzb, deferred)
	for i := range direct {
		if d := maxRelDiff(deferred[i], direct[i]); d > 1e-5 {
			t.Errorf("%s differs by %g", l.Params()[i].Name, d)
		}
	}
}

// TestReplayNegativesFromContexts: replaying the negatives of a window
// from its contexts' input windows alone gives the negative half of Learn
// on the full window.
func TestReplayNegativesFromContexts(t *testing.T) {
	for _, split := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(8, 1))
		l := &ConvLayer{Conv: NewConv1d(6, 5, 8, 4, 2, rng), Head: NewHead(3, 5, 5, split, rng), Every: 4}
		// A stream's second block: contexts before NewFrom pair with new targets only.
		s := l.NewStream(1)
		x := randn(rng, 200*6, 1)
		l.Forward(s, x[:90*6], 90, false)
		l.Forward(s, x[90*6:], 110, true)
		w := s.Window()
		pw := &ConvWindow{XP: l.Conv.Pad(randn(rng, 150*6, 1), 150, nil), Rows: l.Conv.OutLen(150)}
		l.Recompute(pw)
		var sc LearnScratch
		want := NewGrads(l.Params())
		_, wantT := l.Learn(w, Learning{Negative: pw}, want, &sc)
		compact := l.CaptureContexts(w)
		full := l.Capture(pw)
		got := NewGrads(l.Params())
		gotT := l.ReplayNegatives(compact, full, got, &sc)
		if math.Abs(gotT.Loss-wantT.Loss) > 1e-5*math.Abs(wantT.Loss) || gotT.Pairs != wantT.Pairs {
			t.Errorf("split %v: terms %+v, Learn's %+v", split, gotT, wantT)
		}
		for i := range want {
			if d := maxRelDiff(got[i], want[i]); d > 1e-4 {
				t.Errorf("split %v: %s differs by %g", split, l.Params()[i].Name, d)
			}
		}
		if compact.Bytes() >= l.Capture(w).Bytes() {
			t.Errorf("the compact record (%d bytes) is not smaller than the window's input (%d)", compact.Bytes(), l.Capture(w).Bytes())
		}
	}
}
