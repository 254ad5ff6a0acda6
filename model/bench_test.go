package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	mblas "clapp/model/blas"
)

// Benchmarks of the paper encoder's layers, per block of 1.28 s of audio
// (20480 samples: the paper's window), on both BLAS backends. Each reports
// frames/s, the GFLOP/s they mean, and that as a fraction of the sgemm rate
// measured in the same run (sgemm_frac).

func backends(b *testing.B) []mblas.Backend {
	out := []mblas.Backend{mblas.PureGo{}}
	if o, err := mblas.LoadOpenBLAS(); err == nil {
		out = append(out, o)
	}
	return out
}

var sgemmRate = map[string]float64{}

func sgemmPeak(bk mblas.Backend) float64 {
	if r, ok := sgemmRate[bk.Name()]; ok {
		return r
	}
	r := mblas.MeasureSgemm(bk, 512, 1024, 2048, 500*time.Millisecond)
	sgemmRate[bk.Name()] = r
	return r
}

func report(b *testing.B, bk mblas.Backend, frames int, flops float64) {
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(frames*b.N)/s, "frames/s")
	g := flops * float64(b.N) / s / 1e9
	b.ReportMetric(g, "GFLOP/s")
	b.ReportMetric(g/sgemmPeak(bk), "sgemm_frac")
}

// paperBlock returns layer n's input for one 1.28 s block and its frames.
func paperBlock(e *Encoder, n int) (x []float32, rows int) {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	rows = 20480
	for i := 1; i < n; i++ {
		rows = e.Convs[i-1].Conv.OutLen(rows)
	}
	w := e.Config.Width(n - 1)
	x = make([]float32, rows*w)
	for i := range x {
		if n == 1 {
			x[i] = float32(rng.NormFloat64() * 0.05)
		} else {
			x[i] = float32(rng.Float64())
		}
	}
	return x, rows
}

func BenchmarkPaperLayers(b *testing.B) {
	e, err := NewEncoder(PaperConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer SetBLAS(BLAS())
	for _, bk := range backends(b) {
		SetBLAS(bk)
		for n := 1; n <= e.Layers(); n++ {
			x, rows := paperBlock(e, n)
			if n <= len(e.Convs) {
				l := e.Convs[n-1]
				c := l.Conv
				T := c.OutLen(rows)
				fwd := 2 * float64(T) * float64(c.Cout*c.Cin*c.Kernel)
				name := fmt.Sprintf("backend=%s/layer=%d/op=%%s/T=%d_Cin=%d_Cout=%d_k=%d", bk.Name(), n, T, c.Cin, c.Cout, c.Kernel)
				b.Run(fmt.Sprintf(name, "forward"), func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						s := l.NewStream(0)
						l.Forward(s, x, rows, true)
					}
					report(b, bk, T, fwd)
				})
				b.Run(fmt.Sprintf(name, "learn"), func(b *testing.B) {
					sa, sb := l.NewStream(0), l.NewStream(0)
					l.Forward(sa, x, rows, true)
					l.Forward(sb, x, rows, true)
					g := NewGrads(l.Params())
					var sc LearnScratch
					ctx := (T + l.Every - 1) / l.Every
					head := 3 * 2 * float64(ctx*l.Head.K*l.Head.Cz*l.Head.Cc)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						l.Learn(sa.Window(), Learning{Positive: true, Negative: sb.Window()}, g, &sc)
					}
					// Positive and negative conv gradients plus the head.
					report(b, bk, T, 2*fwd+head)
				})
				continue
			}
			l := e.Top
			T := rows
			g := l.GRU
			fwd := 2 * float64(T) * float64(3*g.H*(g.Cin+g.H))
			name := fmt.Sprintf("backend=%s/layer=%d/op=%%s/T=%d_Cin=%d_H=%d", bk.Name(), n, T, g.Cin, g.H)
			b.Run(fmt.Sprintf(name, "forward"), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					s := l.NewStream(0)
					l.Forward(s, x, rows, true)
				}
				report(b, bk, T, fwd)
			})
			b.Run(fmt.Sprintf(name, "learn-eprop"), func(b *testing.B) {
				gr := NewGrads(l.Params())
				var sc LearnScratch
				other := l.NewStream(0)
				l.Forward(other, x, rows, true)
				partner := l.Capture(other.Window())
				head := 3 * 2 * float64(T*l.Head.K*l.Head.Cz*l.Head.Cc)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					s := l.NewStream(0)
					b.StartTimer()
					l.Forward(s, x, rows, false)
					l.Learn(s, s.Window(), GRULearning{Positive: true, Negative: partner}, gr, &sc)
				}
				// Forward, traces (about two forwards) and the head.
				report(b, bk, T, 3*fwd+head)
			})
		}
	}
}
