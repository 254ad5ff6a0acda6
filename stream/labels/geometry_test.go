package labels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func paperGeometry(t testing.TB) *Geometry {
	g, err := NewGeometry(PaperEncoder())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestPaperEncoder checks the spec's frame counts for a 20480-sample
// window and the closed forms of centre, nearest frame and pooled frames
// the doc.go table states, at every grid position of the window.
func TestPaperEncoder(t *testing.T) {
	g := paperGeometry(t)
	tests := []struct {
		layer                int
		frames               int     // for 20480 samples
		rate                 float64 // Hz
		field                Field
		centre0, centreStep  float64 // centre of frame t = centre0 + t centreStep
		nearestMul, nearest0 int     // nearest frame to grid j = nearestMul j + nearest0
		poolLo, poolN        int     // pooled frames of grid j: [poolMul j + poolLo, +poolN)
	}{
		{0, 20480, 16000, Field{0, 1, 1}, 0.5, 1, 160, 79, 0, 160},
		{1, 4095, 3200, Field{-2, 10, 5}, 3, 5, 32, 15, 0, 32},
		{2, 1023, 800, Field{-12, 45, 20}, 10.5, 20, 8, 3, 0, 8},
		{3, 512, 400, Field{-52, 105, 40}, 0.5, 40, 4, 2, 0, 4},
		{4, 257, 200, Field{-132, 225, 80}, -19.5, 80, 2, 1, 1, 2},
		{5, 128, 100, Field{-212, 465, 160}, 20.5, 160, 1, 0, 0, 1},
		{6, 128, 100, Field{-212, 465, 160}, 20.5, 160, 1, 0, 0, 1},
	}
	if g.Layers() != 6 {
		t.Fatalf("%d layers", g.Layers())
	}
	const window = 20480
	grid := GridLen(window)
	for _, tc := range tests {
		t.Run(fmt.Sprint("layer", tc.layer), func(t *testing.T) {
			f := g.Field(tc.layer)
			frames := g.Frames(tc.layer, window)
			if frames != tc.frames || f != tc.field || f.Rate() != tc.rate {
				t.Fatalf("%d frames, %+v at %g Hz; want %d, %+v at %g Hz", frames, f, f.Rate(), tc.frames, tc.field, tc.rate)
			}
			for _, tt := range []int{0, 1, 7, frames - 1} {
				if got := f.Centre(tt); got != tc.centre0+float64(tt)*tc.centreStep {
					t.Errorf("centre of frame %d is %g", tt, got)
				}
			}
			pooled := make([]int, frames) // how often each frame is pooled
			for j := range grid {
				want := min(tc.nearestMul*j+tc.nearest0, frames-1)
				if got := f.Nearest(j, frames); got != want {
					t.Errorf("grid %d: nearest frame %d, want %d", j, got, want)
				}
				lo, hi := f.Pool(j, frames)
				wlo, whi := min(tc.nearestMul*j+tc.poolLo, frames), min(tc.nearestMul*j+tc.poolLo+tc.poolN, frames)
				if lo != wlo || hi != whi {
					t.Errorf("grid %d: pools [%d, %d), want [%d, %d)", j, lo, hi, wlo, whi)
				}
				for tt := lo; tt < hi; tt++ {
					pooled[tt]++
					if f.Cell(tt) != j {
						t.Errorf("frame %d pooled into cell %d, Cell says %d", tt, j, f.Cell(tt))
					}
				}
			}
			for tt, n := range pooled {
				if c := f.Cell(tt); c >= 0 && c < grid && n != 1 {
					t.Errorf("frame %d (cell %d) pooled %d times", tt, c, n)
				}
			}
		})
	}
}

// TestGeometryBruteForce checks Nearest, Pool, Cell and Frames against
// direct searches over random chains of layers and audio lengths.
func TestGeometryBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 300 {
		n := 1 + rng.IntN(5)
		convs := make([]Conv, n)
		for i := range convs {
			k := 1 + rng.IntN(10)
			convs[i] = Conv{Kernel: k, Stride: 1 + rng.IntN(4), Padding: rng.IntN(k/2 + 2)}
		}
		g, err := NewGeometry(convs)
		if err != nil {
			t.Fatal(err)
		}
		samples := rng.IntN(5000)
		for layer := 0; layer <= n; layer++ {
			f := g.Field(layer)
			frames := g.Frames(layer, samples)
			if want := simulateFrames(convs[:layer], samples); frames != want {
				t.Fatalf("trial %d %v layer %d: %d frames for %d samples, want %d", trial, convs, layer, frames, samples, want)
			}
			nearest := g.NearestFrames(layer, samples)
			if frames == 0 {
				if nearest != nil || f.Nearest(0, 0) != -1 {
					t.Fatalf("trial %d: nearest frames of a layer with none", trial)
				}
				continue
			}
			if len(nearest) != GridLen(samples) {
				t.Fatalf("trial %d: %d nearest frames for %d grid positions", trial, len(nearest), GridLen(samples))
			}
			for j := range GridLen(samples) {
				centre := GridCentre(j)
				best, bestD := -1, math.Inf(1)
				lo, hi := -1, -1
				for tt := range frames {
					c := f.Centre(tt)
					if d := math.Abs(c - centre); d < bestD {
						best, bestD = tt, d
					}
					if c >= centre-80 && c < centre+80 {
						if lo < 0 {
							lo = tt
						}
						hi = tt + 1
					}
				}
				if nearest[j] != best {
					t.Fatalf("trial %d %v layer %d grid %d: nearest %d, want %d", trial, convs, layer, j, nearest[j], best)
				}
				plo, phi := f.Pool(j, frames)
				if lo < 0 {
					if plo != phi {
						t.Fatalf("trial %d layer %d grid %d: pool [%d, %d), want empty", trial, layer, j, plo, phi)
					}
				} else if plo != lo || phi != hi {
					t.Fatalf("trial %d layer %d grid %d: pool [%d, %d), want [%d, %d)", trial, layer, j, plo, phi, lo, hi)
				}
			}
			for tt := range frames {
				if c := f.Cell(tt); c != int(math.Floor(f.Centre(tt)/160)) {
					t.Fatalf("trial %d layer %d: frame %d in cell %d", trial, layer, tt, c)
				}
			}
		}
	}
}

// simulateFrames counts the windows that fit, layer by layer.
func simulateFrames(convs []Conv, samples int) int {
	l := samples
	for _, c := range convs {
		n := 0
		for start := -c.Padding; start+c.Kernel <= l+c.Padding; start += c.Stride {
			n++
		}
		l = n
	}
	return l
}

// TestPaperEncoderUtterances: on the shared audio lengths layers 5 and 6
// have one frame per grid position, frame j nearest grid position j, and
// one frame more when the audio ends 41 or more samples into a grid cell
// (that frame's centre, 20.5 samples into the partial cell, is in the
// audio).
func TestPaperEncoderUtterances(t *testing.T) {
	g := paperGeometry(t)
	extra := 0
	for _, path := range sharedTextGrids(t) {
		n := flacSamples(t, flacFor(t, path))
		want := GridLen(n)
		if n%160 >= 41 {
			want++
			extra++
		}
		for _, layer := range []int{5, 6} {
			if frames := g.Frames(layer, n); frames != want {
				t.Errorf("%s: %d samples, layer %d has %d frames, want %d", path, n, layer, frames, want)
			}
			for j, tt := range g.NearestFrames(layer, n) {
				if tt != j {
					t.Fatalf("%s: layer %d grid %d takes frame %d", path, layer, j, tt)
				}
			}
		}
	}
	if extra == 0 || extra == 496 {
		t.Errorf("%d of 496 utterances have an extra frame: the case is not covered", extra)
	}
}

func TestNewGeometryErrors(t *testing.T) {
	for _, c := range []Conv{{0, 1, 0}, {3, 0, 0}, {3, 1, -1}} {
		if _, err := NewGeometry([]Conv{{2, 2, 0}, c}); err == nil || !strings.Contains(err.Error(), "layer 2") {
			t.Errorf("%+v: %v", c, err)
		}
	}
	g := paperGeometry(t)
	defer func() {
		if recover() == nil {
			t.Error("no panic for layer 7")
		}
	}()
	g.Field(7)
}

// TestDocTable keeps the geometry table in doc.go true.
func TestDocTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range geometryTable(paperGeometry(t), PaperEncoder()) {
		if !strings.Contains(string(doc), row) {
			t.Errorf("doc.go lacks the row\n%s", row)
		}
	}
}

// geometryTable renders the rows of the doc.go table.
func geometryTable(g *Geometry, convs []Conv) []string {
	var rows []string
	for n := 0; n <= g.Layers(); n++ {
		f := g.Field(n)
		op := "audio"
		if n > 0 {
			c := convs[n-1]
			op = fmt.Sprintf("%d/%d/%d", c.Kernel, c.Stride, c.Padding)
			if c == (Conv{1, 1, 0}) {
				op = "GRU"
			}
		}
		frames := g.Frames(n, 20480)
		// Closed forms inside the window: nearest a j + b, pooled [a j + c, a j + c + a).
		a := max(1, 160/f.Jump)
		b := f.Nearest(1, frames) - a
		lo, hi := f.Pool(1, frames)
		pool := fmt.Sprintf("[%s, %s)", affine(a, lo-a), affine(a, hi-a))
		rows = append(rows, fmt.Sprintf("//	%-5d  %-6s  %4d  %5g  %5d  %-11s  %-9s  %6d  %-7s  %s",
			n, op, f.Jump, f.Rate(), f.Width, fmt.Sprintf("[%d, %d)", f.Start, f.Start+f.Width),
			centreForm(f), frames, affine(a, b), pool))
	}
	return rows
}

func affine(a, b int) string {
	s := "j"
	if a != 1 {
		s = fmt.Sprint(a, "j")
	}
	switch {
	case b > 0:
		s += fmt.Sprint("+", b)
	case b < 0:
		s += fmt.Sprint(b)
	}
	return s
}

func centreForm(f Field) string {
	c := f.Centre(0)
	s := fmt.Sprint(f.Jump, "t")
	if f.Jump == 1 {
		s = "t"
	}
	switch {
	case c > 0:
		s += fmt.Sprint("+", c)
	case c < 0:
		s += fmt.Sprint(c)
	}
	return s
}

func TestPrintDocTable(t *testing.T) {
	if os.Getenv("LABELS_PRINT_TABLE") == "" {
		t.Skip("set LABELS_PRINT_TABLE=1 to print the doc.go table")
	}
	for _, row := range geometryTable(paperGeometry(t), PaperEncoder()) {
		fmt.Println(row)
	}
}
