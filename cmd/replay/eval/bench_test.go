package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"clapp/model"
	"clapp/model/probe"
)

// BenchmarkGrid measures encoding one real utterance and bringing every
// layer to the grid, in seconds of audio per second, for the paper's
// encoder and a narrow one. Run it alone: it uses the BLAS that Extract
// would (OpenBLAS when it loads).
func BenchmarkGrid(b *testing.B) {
	cfg := smallConfig(b, 1, 1)
	ds, err := LoadDataset(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	u := ds.Train.Utterances[0]
	x, err := ds.audio(&u)
	if err != nil {
		b.Fatal(err)
	}
	ensureBLAS(cfg)
	for _, c := range []struct {
		name string
		mc   model.Config
	}{{"paper", model.PaperConfig()}, {"narrow_32_24", model.NarrowConfig(32, 24)}, {"mfcc", model.Config{}}} {
		b.Run(fmt.Sprintf("%s/T=%.1fs", c.name, float64(len(x))/16000), func(b *testing.B) {
			f := MFCC(TaskPhone)
			if c.mc.Channels > 0 {
				if f, err = RandomInit(c.mc, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				f.Grid(x, len(u.Labels))
			}
			b.ReportMetric(float64(len(x))/16000*float64(b.N)/b.Elapsed().Seconds(), "audio-s/s")
		})
	}
}

// BenchmarkFit measures one epoch of the probe on random features of the
// paper's widths, in frames per second.
func BenchmarkFit(b *testing.B) {
	ensureBLAS(Config{Workers: 1})
	for _, s := range []struct{ n, d, c int }{{20000, 512, 40}, {20000, 256, 40}, {20000, 39, 40}} {
		b.Run(fmt.Sprintf("N=%d_D=%d_C=%d", s.n, s.d, s.c), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x := probe.NewMatrix(s.n, s.d)
			for i := range x.Data {
				x.Data[i] = float32(r.NormFloat64())
			}
			l := make([]int, s.n)
			for i := range l {
				l[i] = r.IntN(s.c)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := probe.Fit(x, l, s.c, probe.Config{Epochs: 1, BatchSize: DefaultBatchSize, Standardize: true, BLAS: model.BLAS()}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.n)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
