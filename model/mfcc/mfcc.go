package mfcc

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Config describes the recipe. Zero fields take the defaults in their
// comments, which are the recipe of the package documentation.
type Config struct {
	// SampleRate in Hz (16000).
	SampleRate int
	// Window is the analysis window length in samples (400 = 25 ms).
	Window int
	// Hop is the frame period in samples (160 = 10 ms).
	Hop int
	// FFTSize is the transform length (512); it must be >= Window.
	FFTSize int
	// Filters is the number of mel filters (40).
	Filters int
	// LowHz and HighHz bound the filter bank (0 and SampleRate/2).
	LowHz, HighHz float64
	// Coefficients is the number of cepstral coefficients kept, c0
	// included (13).
	Coefficients int
	// PreEmphasis is the coefficient of the first-difference filter
	// (0.97); negative means none.
	PreEmphasis float64
	// DeltaWindow is N in the regression formula for deltas (2).
	DeltaWindow int
	// NoDeltas drops deltas and delta-deltas (Dim becomes Coefficients).
	NoDeltas bool
	// NoNormalize skips the per-utterance mean and variance normalisation.
	NoNormalize bool
}

// Extractor computes features. It is immutable and safe for concurrent
// use.
type Extractor struct {
	cfg    Config
	window []float64   // Hamming window, Window long
	bank   []melFilter // triangular filters over FFT bins
	dct    []float64   // Coefficients x Filters, row-major
}

type melFilter struct {
	first   int       // first FFT bin with a non-zero weight
	weights []float64 // weights of bins first, first+1, ...
}

// New returns an Extractor for cfg.
func New(cfg Config) (*Extractor, error) {
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 16000
	}
	if cfg.Window == 0 {
		cfg.Window = cfg.SampleRate / 40
	}
	if cfg.Hop == 0 {
		cfg.Hop = cfg.SampleRate / 100
	}
	if cfg.FFTSize == 0 {
		cfg.FFTSize = 512
		for cfg.FFTSize < cfg.Window {
			cfg.FFTSize *= 2
		}
	}
	if cfg.Filters == 0 {
		cfg.Filters = 40
	}
	if cfg.HighHz == 0 {
		cfg.HighHz = float64(cfg.SampleRate) / 2
	}
	if cfg.Coefficients == 0 {
		cfg.Coefficients = 13
	}
	if cfg.PreEmphasis == 0 {
		cfg.PreEmphasis = 0.97
	} else if cfg.PreEmphasis < 0 {
		cfg.PreEmphasis = 0
	}
	if cfg.DeltaWindow == 0 {
		cfg.DeltaWindow = 2
	}
	switch {
	case cfg.SampleRate <= 0 || cfg.Window <= 1 || cfg.Hop <= 0:
		return nil, fmt.Errorf("%w: rate %d, window %d, hop %d", ErrConfig, cfg.SampleRate, cfg.Window, cfg.Hop)
	case cfg.FFTSize < cfg.Window:
		return nil, fmt.Errorf("%w: FFT size %d < window %d", ErrConfig, cfg.FFTSize, cfg.Window)
	case cfg.Filters < 1 || cfg.Coefficients < 1 || cfg.Coefficients > cfg.Filters:
		return nil, fmt.Errorf("%w: %d coefficients from %d filters", ErrConfig, cfg.Coefficients, cfg.Filters)
	case !(cfg.LowHz >= 0 && cfg.LowHz < cfg.HighHz && cfg.HighHz <= float64(cfg.SampleRate)/2):
		return nil, fmt.Errorf("%w: filter bank %g-%g Hz", ErrConfig, cfg.LowHz, cfg.HighHz)
	case cfg.DeltaWindow < 1:
		return nil, fmt.Errorf("%w: delta window %d", ErrConfig, cfg.DeltaWindow)
	}
	e := &Extractor{cfg: cfg}
	e.window = make([]float64, cfg.Window)
	for i := range e.window {
		e.window[i] = 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/float64(cfg.Window-1))
	}
	e.bank = melBank(cfg)
	m := cfg.Filters
	e.dct = make([]float64, cfg.Coefficients*m)
	for k := range cfg.Coefficients {
		scale := math.Sqrt(2 / float64(m))
		if k == 0 {
			scale = math.Sqrt(1 / float64(m))
		}
		for j := range m {
			e.dct[k*m+j] = scale * math.Cos(math.Pi*float64(k)*(float64(j)+0.5)/float64(m))
		}
	}
	return e, nil
}

// Default returns an Extractor with the default recipe.
func Default() *Extractor {
	e, err := New(Config{})
	if err != nil {
		panic(err) // the defaults are valid
	}
	return e
}

// Config returns the recipe with defaults filled in.
func (e *Extractor) Config() Config { return e.cfg }

// Dim returns the number of features per frame: Coefficients, times 3
// with deltas.
func (e *Extractor) Dim() int {
	if e.cfg.NoDeltas {
		return e.cfg.Coefficients
	}
	return 3 * e.cfg.Coefficients
}

// Frames returns the number of frames of a signal of n samples: one per
// whole hop, floor(n / Hop).
func (e *Extractor) Frames(n int) int { return n / e.cfg.Hop }

// Mel converts a frequency in Hz to the (HTK) mel scale.
func Mel(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }

// Hz converts a mel value back to Hz.
func Hz(mel float64) float64 { return 700 * (math.Pow(10, mel/2595) - 1) }

// melBank builds triangular filters with peaks of 1 whose edges are
// equally spaced on the mel scale between LowHz and HighHz; bin k of the
// FFT sits at k*SampleRate/FFTSize Hz.
func melBank(cfg Config) []melFilter {
	m := cfg.Filters
	edges := make([]float64, m+2)
	lo, hi := Mel(cfg.LowHz), Mel(cfg.HighHz)
	for i := range edges {
		edges[i] = Hz(lo + (hi-lo)*float64(i)/float64(m+1))
	}
	bins := cfg.FFTSize/2 + 1
	bank := make([]melFilter, m)
	for j := range bank {
		l, c, r := edges[j], edges[j+1], edges[j+2]
		f := &bank[j]
		f.first = -1
		for k := range bins {
			hz := float64(k) * float64(cfg.SampleRate) / float64(cfg.FFTSize)
			w := math.Max(0, math.Min((hz-l)/(c-l), (r-hz)/(r-c)))
			if w <= 0 {
				if f.first >= 0 {
					break
				}
				continue
			}
			if f.first < 0 {
				f.first = k
			}
			for len(f.weights) < k-f.first {
				f.weights = append(f.weights, 0)
			}
			f.weights = append(f.weights, w)
		}
		if f.first < 0 {
			f.first = 0
		}
	}
	return bank
}

// FilterBank returns the weights of filter j over the FFT bins 0..FFTSize/2.
func (e *Extractor) FilterBank(j int) []float64 {
	w := make([]float64, e.cfg.FFTSize/2+1)
	f := e.bank[j]
	copy(w[f.first:], f.weights)
	return w
}

// energyFloor keeps log energies finite in digital silence.
const energyFloor = 1e-10

// LogMel returns the log mel energies of every frame, Frames(len(x)) rows
// of Filters values, row-major.
//
// Framing: the signal is pre-emphasised (y[0] = x[0], y[n] = x[n] -
// a x[n-1]), then frame i takes the Window samples centred on sample
// i*Hop + Hop/2 (the centre of the i-th hop on the canonical grid), that
// is samples [i*Hop + Hop/2 - Window/2, ... + Window); with an even Window
// their middle lies half a sample earlier. Samples before 0 and
// after the end are the signal reflected about its first and last sample
// (numpy's pad mode "reflect"), repeated as often as needed.
func (e *Extractor) LogMel(x []float32) []float32 {
	cfg := e.cfg
	frames := e.Frames(len(x))
	out := make([]float32, frames*cfg.Filters)
	if frames == 0 {
		return out
	}
	y := make([]float64, len(x))
	y[0] = float64(x[0])
	for i := 1; i < len(x); i++ {
		y[i] = float64(x[i]) - cfg.PreEmphasis*float64(x[i-1])
	}
	fft := fourier.NewFFT(cfg.FFTSize)
	buf := make([]float64, cfg.FFTSize)
	spec := make([]complex128, cfg.FFTSize/2+1)
	power := make([]float64, len(spec))
	for i := range frames {
		start := i*cfg.Hop + cfg.Hop/2 - cfg.Window/2
		for k := range cfg.Window {
			buf[k] = y[reflect(start+k, len(y))] * e.window[k]
		}
		clear(buf[cfg.Window:])
		fft.Coefficients(spec, buf)
		for k, c := range spec {
			power[k] = real(c)*real(c) + imag(c)*imag(c)
		}
		row := out[i*cfg.Filters : (i+1)*cfg.Filters]
		for j, f := range e.bank {
			s := 0.0
			for k, w := range f.weights {
				s += w * power[f.first+k]
			}
			row[j] = float32(math.Log(math.Max(s, energyFloor)))
		}
	}
	return out
}

// reflect maps index i into [0, n) by reflecting about the end samples.
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// Cepstra returns the static MFCCs of every frame, Frames(len(x)) rows of
// Coefficients values: the DCT-II (orthonormal) of the log mel energies.
func (e *Extractor) Cepstra(x []float32) []float32 {
	logmel := e.LogMel(x)
	m, nc := e.cfg.Filters, e.cfg.Coefficients
	frames := len(logmel) / m
	out := make([]float32, frames*nc)
	for i := range frames {
		row := logmel[i*m : (i+1)*m]
		for k := range nc {
			s := 0.0
			for j, v := range row {
				s += e.dct[k*m+j] * float64(v)
			}
			out[i*nc+k] = float32(s)
		}
	}
	return out
}

// Compute returns the features of every frame, Frames(len(x)) rows of Dim()
// values, row-major: the cepstra, then their deltas and delta-deltas, each
// column normalised over the utterance to zero mean and unit variance.
func (e *Extractor) Compute(x []float32) []float32 {
	c := e.Cepstra(x)
	nc := e.cfg.Coefficients
	feat := c
	if !e.cfg.NoDeltas {
		d := Deltas(c, nc, e.cfg.DeltaWindow)
		dd := Deltas(d, nc, e.cfg.DeltaWindow)
		frames := len(c) / nc
		feat = make([]float32, frames*3*nc)
		for i := range frames {
			row := feat[i*3*nc : (i+1)*3*nc]
			copy(row, c[i*nc:(i+1)*nc])
			copy(row[nc:], d[i*nc:(i+1)*nc])
			copy(row[2*nc:], dd[i*nc:(i+1)*nc])
		}
	}
	if !e.cfg.NoNormalize {
		Normalize(feat, e.Dim())
	}
	return feat
}

// Deltas returns the regression deltas of the rows of x (cols values per
// row): d_t = sum_{n=1..N} n (x_{t+n} - x_{t-n}) / (2 sum n^2), with the
// first and last rows repeated beyond the ends.
func Deltas(x []float32, cols, n int) []float32 {
	if cols <= 0 || len(x)%cols != 0 {
		panic(fmt.Sprintf("mfcc: %d values are not rows of %d", len(x), cols))
	}
	rows := len(x) / cols
	out := make([]float32, len(x))
	denom := 0.0
	for k := 1; k <= n; k++ {
		denom += float64(2 * k * k)
	}
	for t := range rows {
		for j := range cols {
			s := 0.0
			for k := 1; k <= n; k++ {
				a := min(t+k, rows-1)
				b := max(t-k, 0)
				s += float64(k) * (float64(x[a*cols+j]) - float64(x[b*cols+j]))
			}
			out[t*cols+j] = float32(s / denom)
		}
	}
	return out
}

// Normalize shifts and scales each column of x (cols values per row) in
// place to zero mean and unit variance over the rows. A constant column
// becomes zero.
func Normalize(x []float32, cols int) {
	if cols <= 0 || len(x)%cols != 0 {
		panic(fmt.Sprintf("mfcc: %d values are not rows of %d", len(x), cols))
	}
	rows := len(x) / cols
	if rows == 0 {
		return
	}
	for j := range cols {
		mean := 0.0
		for t := range rows {
			mean += float64(x[t*cols+j])
		}
		mean /= float64(rows)
		v := 0.0
		for t := range rows {
			d := float64(x[t*cols+j]) - mean
			v += d * d
		}
		std := math.Sqrt(v / float64(rows))
		inv := 0.0
		if std > 1e-8*math.Max(1, math.Abs(mean)) {
			inv = 1 / std
		}
		for t := range rows {
			x[t*cols+j] = float32((float64(x[t*cols+j]) - mean) * inv)
		}
	}
}
