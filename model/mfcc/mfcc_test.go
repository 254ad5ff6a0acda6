package mfcc

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func tone(hz float64, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*hz*float64(i)/16000))
	}
	return x
}

func TestFrames(t *testing.T) {
	e := Default()
	for _, n := range []int{0, 1, 2, 159, 160, 161, 399, 400, 16000, 16159} {
		x := make([]float32, n)
		r := rand.New(rand.NewPCG(1, uint64(n)))
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		f := e.Compute(x)
		if want := n / 160; len(f) != want*39 || e.Frames(n) != want {
			t.Errorf("%d samples: %d values, Frames %d, want %d frames of 39", n, len(f), e.Frames(n), want)
		}
		for i, v := range f {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%d samples: value %d is %v", n, i, v)
			}
		}
	}
}

// A pure tone's energy lands in the filter whose peak is nearest to it.
func TestToneInItsBand(t *testing.T) {
	e := Default()
	m := e.Config().Filters
	for _, hz := range []float64{200, 440, 1000, 2500, 5000, 7000} {
		lm := e.LogMel(tone(hz, 8000))
		frames := len(lm) / m
		mean := make([]float64, m)
		for i := range frames {
			for j := range m {
				mean[j] += float64(lm[i*m+j]) / float64(frames)
			}
		}
		best := 0
		for j := range mean {
			if mean[j] > mean[best] {
				best = j
			}
		}
		// Filter j peaks at the (j+1)-th of m+2 points equally spaced in mel.
		want := int(math.Round(Mel(hz)/Mel(8000)*float64(m+1))) - 1
		if best < want-1 || best > want+1 {
			t.Errorf("%g Hz: loudest filter %d (peak %.0f Hz), want %d (peak %.0f Hz)",
				hz, best, peak(best, m), want, peak(want, m))
		}
		// And well above the filters far from it.
		for j := range mean {
			if (j < best-4 || j > best+4) && mean[j] > mean[best]-3 {
				t.Errorf("%g Hz: filter %d has %.1f, loudest %.1f", hz, j, mean[j], mean[best])
			}
		}
	}
}

func peak(j, m int) float64 { return Hz(Mel(8000) * float64(j+1) / float64(m+1)) }

// Frame i is centred on sample 160 i + 80: a click there is loudest in
// frame i.
func TestFrameCentre(t *testing.T) {
	e, err := New(Config{NoDeltas: true, NoNormalize: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{3, 10, 17} {
		x := make([]float32, 3200)
		r := rand.New(rand.NewPCG(2, uint64(k)))
		for i := range x {
			x[i] = float32(1e-4 * r.NormFloat64())
		}
		x[160*k+80] = 1
		c := e.Cepstra(x)
		best := 0
		for i := range e.Frames(len(x)) {
			if c[i*13] > c[best*13] {
				best = i
			}
		}
		if best != k {
			t.Errorf("click at sample %d: loudest frame %d, want %d", 160*k+80, best, k)
		}
		// Nearly symmetric around the centre: frames k-1 and k+1 see the
		// click 160 samples from their centres (to half a sample, and
		// pre-emphasis spreads the click over two samples).
		if d := math.Abs(float64(c[(k-1)*13] - c[(k+1)*13])); d > 0.5 {
			t.Errorf("click at sample %d: c0 of frames %d and %d differ by %.3f", 160*k+80, k-1, k+1, d)
		}
	}
}

func TestDeltasOfRamp(t *testing.T) {
	const rows, cols = 20, 3
	x := make([]float32, rows*cols)
	slopes := []float32{1, -0.5, 0}
	for i := range rows {
		for j := range cols {
			x[i*cols+j] = slopes[j]*float32(i) + 7
		}
	}
	d := Deltas(x, cols, 2)
	dd := Deltas(d, cols, 2)
	for i := 2; i < rows-2; i++ {
		for j := range cols {
			if math.Abs(float64(d[i*cols+j]-slopes[j])) > 1e-6 {
				t.Errorf("delta at row %d col %d = %v, want %v", i, j, d[i*cols+j], slopes[j])
			}
			if i >= 4 && i < rows-4 && math.Abs(float64(dd[i*cols+j])) > 1e-6 {
				t.Errorf("delta-delta at row %d col %d = %v, want 0", i, j, dd[i*cols+j])
			}
		}
	}
	// At the edges the ramp is held flat: row 0 sees x_{-1} = x_{-2} = x_0.
	// d_0 = (1 (x1 - x0) + 2 (x2 - x0)) / 10 = 5 slope / 10.
	if got := d[0]; math.Abs(float64(got-0.5)) > 1e-6 {
		t.Errorf("delta at row 0 = %v, want 0.5", got)
	}
}

func TestNormalize(t *testing.T) {
	const rows, cols = 50, 4
	x := make([]float32, rows*cols)
	r := rand.New(rand.NewPCG(3, 3))
	for i := range rows {
		x[i*cols] = float32(100 + 20*r.NormFloat64())
		x[i*cols+1] = float32(-3 + 0.01*r.NormFloat64())
		x[i*cols+2] = 42 // constant
		x[i*cols+3] = float32(i)
	}
	Normalize(x, cols)
	for j := range cols {
		var s, sq float64
		for i := range rows {
			v := float64(x[i*cols+j])
			s += v
			sq += v * v
		}
		mean, variance := s/rows, sq/rows-(s/rows)*(s/rows)
		want := 1.0
		if j == 2 {
			want = 0
		}
		if math.Abs(mean) > 1e-5 || math.Abs(variance-want) > 1e-4 {
			t.Errorf("column %d: mean %.2g variance %.6f, want 0 and %g", j, mean, variance, want)
		}
	}
}

func TestFilterBank(t *testing.T) {
	e := Default()
	for j := range e.Config().Filters {
		w := e.FilterBank(j)
		var top float64
		for _, v := range w {
			if v < 0 || v > 1 {
				t.Fatalf("filter %d has weight %v", j, v)
			}
			top = max(top, v)
		}
		if top < 0.3 {
			t.Errorf("filter %d: highest weight %.2f", j, top)
		}
	}
	for _, hz := range []float64{0, 100, 1000, 8000} {
		if got := Hz(Mel(hz)); math.Abs(got-hz) > 1e-9*max(hz, 1) {
			t.Errorf("Hz(Mel(%g)) = %g", hz, got)
		}
	}
	if got := Mel(1000); math.Abs(got-1000) > 0.1 {
		t.Errorf("Mel(1000) = %g, want about 1000", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Window: 600, FFTSize: 512},
		{Coefficients: 50},
		{LowHz: 9000},
		{HighHz: 9000},
		{DeltaWindow: -1},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}

// numpy finds a python3 that has numpy, or "".
func numpy() string {
	for _, p := range []string{os.Getenv("CLAPP_PYTHON"), "python3", "/usr/bin/python3"} {
		if p == "" {
			continue
		}
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	return ""
}

// TestAgainstNumpy compares with testdata/mfcc_ref.py, an independent
// float64 numpy implementation of the same recipe.
func TestAgainstNumpy(t *testing.T) {
	py := numpy()
	if py == "" {
		t.Skip("no python3 with numpy (set CLAPP_PYTHON)")
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(4, 4))
	signals := map[string][]float32{}
	// A chirp in noise with a pause, and a pulse train through a resonance.
	chirp := make([]float32, 24000+37)
	for i := range chirp {
		ti := float64(i) / 16000
		v := 0.3*math.Sin(2*math.Pi*(100*ti+1500*ti*ti)) + 0.01*r.NormFloat64()
		if i > 9000 && i < 12000 {
			v *= 0.01
		}
		chirp[i] = float32(v)
	}
	signals["chirp"] = chirp
	pulses := make([]float32, 16000)
	var y1, y2 float64
	for i := range pulses {
		src := 0.0
		if i%133 == 0 {
			src = 1
		}
		y := src + 1.8*y1 - 0.95*y2 + 1e-3*r.NormFloat64()
		y2, y1 = y1, y
		pulses[i] = float32(0.05 * y)
	}
	signals["pulses"] = pulses
	e := Default()
	for name, x := range signals {
		in, out := filepath.Join(dir, name+".f32"), filepath.Join(dir, name+".out")
		b := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py, filepath.Join("testdata", "mfcc_ref.py"), in, out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, msg)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got := e.Compute(x)
		if len(raw) != 4*len(got) {
			t.Fatalf("%s: numpy gives %d values, we give %d", name, len(raw)/4, len(got))
		}
		worst, at := 0.0, 0
		for i, v := range got {
			ref := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			if d := math.Abs(float64(v - ref)); d > worst {
				worst, at = d, i
			}
		}
		t.Logf("%s: %d frames, largest difference %.2g (frame %d, feature %d)", name, len(got)/39, worst, at/39, at%39)
		if worst > 1e-3 {
			t.Errorf("%s: differs from numpy by %.3g at frame %d feature %d", name, worst, at/39, at%39)
		}
	}
}

// BenchmarkCompute reports seconds of audio per second.
func BenchmarkCompute(b *testing.B) {
	x := tone(440, 16000*10)
	e := Default()
	for b.Loop() {
		e.Compute(x)
	}
	b.ReportMetric(10*float64(b.N)/b.Elapsed().Seconds(), "audio-s/s")
}
