package frame

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

var benchShapes = []struct{ rows, cols int }{{1, 512}, {128, 512}}

func benchName(rows, cols int) string {
	return "T=" + strconv.Itoa(rows) + "_C=" + strconv.Itoa(cols)
}

func BenchmarkEncode(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(benchName(s.rows, s.cols), func(b *testing.B) {
			blk := randomBlock(rand.New(rand.NewPCG(1, 1)), 5, s.rows, s.cols, 100)
			var h map[string][]string
			var p []byte
			var err error
			b.SetBytes(int64(4 * s.rows * s.cols))
			b.ReportAllocs()
			for b.Loop() {
				if h, p, err = EncodeTo(h, p[:0], &blk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(benchName(s.rows, s.cols), func(b *testing.B) {
			blk := randomBlock(rand.New(rand.NewPCG(1, 1)), 5, s.rows, s.cols, 100)
			h, p, err := Encode(&blk)
			if err != nil {
				b.Fatal(err)
			}
			d := NewDecoder()
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.DecodeMsg("clapp.bench.layer.5", h, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
