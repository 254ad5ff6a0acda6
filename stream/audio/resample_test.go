package audio

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tone returns n samples of amp*sin(2 pi f t + phase) at rate.
func tone(n, rate int, f, amp, phase float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate)+phase))
	}
	return x
}

// edge is the number of output samples at each end that see the silence
// around the input; they are left out of measurements.
func edge(r *Resampler) int { return r.half*16000/r.from + 64 }

func resampleAll(t testing.TB, from int, x []float32) ([]float32, *Resampler) {
	t.Helper()
	r, err := NewResampler(from, 16000)
	if err != nil {
		t.Fatal(err)
	}
	y := r.Process(nil, x)
	y = r.Flush(y)
	return y, r
}

// errDB returns the RMS of y minus the ideal tone, relative to amp, in dB,
// over the samples away from the ends.
func errDB(y []float32, lo int, f, amp, phase float64) float64 {
	var e2 float64
	n := 0
	for i := lo; i < len(y)-lo; i++ {
		want := amp * math.Sin(2*math.Pi*f*float64(i)/16000+phase)
		d := float64(y[i]) - want
		e2 += d * d
		n++
	}
	return 10 * math.Log10(e2/float64(n)/(amp*amp/2))
}

// rmsDB returns the RMS of y away from the ends relative to a sine of
// amplitude amp, in dB.
func rmsDB(y []float32, lo int, amp float64) float64 {
	var e2 float64
	n := 0
	for i := lo; i < len(y)-lo; i++ {
		e2 += float64(y[i]) * float64(y[i])
		n++
	}
	return 10 * math.Log10(e2/float64(n)/(amp*amp/2))
}

// fitAmp returns the amplitude of the component of y at f (least squares
// on sine and cosine).
func fitAmp(y []float32, lo int, f float64) float64 {
	var ss, cc, sc, ys, yc float64
	for i := lo; i < len(y)-lo; i++ {
		w := 2 * math.Pi * f * float64(i) / 16000
		s, c := math.Sin(w), math.Cos(w)
		ss += s * s
		cc += c * c
		sc += s * c
		ys += float64(y[i]) * s
		yc += float64(y[i]) * c
	}
	det := ss*cc - sc*sc
	a := (ys*cc - yc*sc) / det
	b := (yc*ss - ys*sc) / det
	return math.Hypot(a, b)
}

var testRates = []int{8000, 11025, 12000, 22050, 24000, 32000, 44100, 48000, 96000, 12345, 44101, 100003, 400016}

// TestResamplePassband: a tone below the passband edge comes out at the
// same frequency, amplitude and phase (no delay), with everything else
// (aliases, images, ripple, rounding) at least ResampleStopbandDB down.
func TestResamplePassband(t *testing.T) {
	for _, from := range testRates {
		edgeHz := ResamplePassband * float64(min(from, 16000)) / 2
		for _, f := range []float64{100, 440, 1000, 2500, 3500, edgeHz - 10} {
			if f > edgeHz {
				continue
			}
			t.Run(fmt.Sprintf("from=%d/f=%.0f", from, f), func(t *testing.T) {
				const amp, phase = 0.7, 0.3
				x := tone(from/2, from, f, amp, phase)
				y, r := resampleAll(t, from, x)
				if want := (len(x)*16000 + from - 1) / from; len(y) != want {
					t.Fatalf("%d samples out of %d at %d Hz, want %d", len(y), len(x), from, want)
				}
				lo := edge(r)
				gain := 20 * math.Log10(fitAmp(y, lo, f)/amp)
				if math.Abs(gain) > ResampleRippleDB {
					t.Errorf("gain %.4f dB, want within ±%g dB", gain, ResampleRippleDB)
				}
				if e := errDB(y, lo, f, amp, phase); e > -ResampleStopbandDB {
					t.Errorf("error against the ideal tone %.1f dB, want below -%d dB", e, ResampleStopbandDB)
				}
			})
		}
	}
}

// TestResampleStopband: a tone at or above 8 kHz (the Nyquist frequency of
// the output) is attenuated by at least ResampleStopbandDB.
func TestResampleStopband(t *testing.T) {
	for _, from := range []int{22050, 24000, 32000, 44100, 48000, 96000, 44101, 100003, 400016} {
		step := max(997, (float64(from)/2-8000)/40)
		for f := 8000.0; f < float64(from)/2; f += step {
			t.Run(fmt.Sprintf("from=%d/f=%.0f", from, f), func(t *testing.T) {
				const amp = 0.9
				x := tone(from/4, from, f, amp, 0.1)
				y, r := resampleAll(t, from, x)
				if a := rmsDB(y, edge(r), amp); a > -ResampleStopbandDB {
					t.Errorf("tone at %.0f Hz: output at %.1f dB, want below -%d dB", f, a, ResampleStopbandDB)
				}
			})
		}
	}
}

// TestResampleStreaming: chunked input gives the same output as one call.
func TestResampleStreaming(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, from := range testRates {
		x := make([]float32, 20000)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.3)
		}
		want, _ := resampleAll(t, from, x)
		r, _ := NewResampler(from, 16000)
		var got []float32
		for rest := x; len(rest) > 0; {
			n := min(len(rest), rng.IntN(700))
			got = r.Process(got, rest[:n])
			rest = rest[n:]
		}
		got = r.Flush(got)
		if !slices.Equal(got, want) {
			t.Errorf("from %d: chunked output differs (%d vs %d samples)", from, len(got), len(want))
		}
		r.Reset()
		if again := r.Flush(r.Process(nil, x)); !slices.Equal(again, want) {
			t.Errorf("from %d: output after Reset differs", from)
		}
	}
}

func TestResamplerRates(t *testing.T) {
	for _, c := range []struct{ from, to int }{{0, 16000}, {16000, 0}, {-8000, 16000}, {999, 16000}, {768001, 16000}, {1 << 30, 16000}} {
		if _, err := NewResampler(c.from, c.to); err == nil || !errorsIs(err, ErrRate) {
			t.Errorf("NewResampler(%d, %d): err %v, want ErrRate", c.from, c.to, err)
		}
	}
}

func BenchmarkResample(b *testing.B) {
	for _, from := range []int{8000, 22050, 44100, 48000} {
		b.Run(fmt.Sprintf("from=%d", from), func(b *testing.B) {
			x := tone(from, from, 440, 0.5, 0)
			r, _ := NewResampler(from, 16000)
			var y []float32
			b.ResetTimer()
			for b.Loop() {
				y = r.Process(y[:0], x)
			}
			b.ReportMetric(float64(b.N)*float64(len(x))/b.Elapsed().Seconds(), "in-samples/s")
		})
	}
}
