package audio

import (
	"fmt"
	"math"
	"sync"
)

// Rates outside [MinRate, MaxRate] Hz are refused: below 1 kHz there is no
// speech to learn from, above 768 kHz the header is more likely wrong than
// the recording unusual.
const (
	MinRate = 1000
	MaxRate = 768000
)

// The resampler's filter, as guaranteed by the tests: flat to within
// ResampleRippleDB up to ResamplePassband times the lower of the two Nyquist
// frequencies (7.2 kHz when the output is 16 kHz), and attenuated by at least
// ResampleStopbandDB from that Nyquist frequency up, so nothing above 8 kHz
// aliases into a 16 kHz stream. Between the two edges lies the transition
// band.
const (
	ResamplePassband   = 0.9
	ResampleStopbandDB = 80
	ResampleRippleDB   = 0.01
)

const (
	// designDB is the Kaiser design target; the margin over
	// ResampleStopbandDB covers the design formula's approximation and
	// float32 coefficients.
	designDB = 90
	// maxPhases and maxTable bound the polyphase table. A ratio with more
	// phases than maxPhases (an odd rate such as 44101 Hz), or whose table
	// would exceed maxTable coefficients (a long filter for a high input
	// rate), interpolates linearly between fewer phases: as many as fit in
	// maxTable, at most maxPhases, at least minPhases. The filter of a high
	// input rate is smooth in input samples, so few phases suffice; the
	// tests hold the interpolating cases to the same bounds.
	maxPhases = 1024
	minPhases = 64
	maxTable  = 1 << 18
)

// tables caches the filters of the last few rate pairs: a directory of
// 44.1 kHz files builds its filter once. Tables are read-only once built.
var tables struct {
	sync.Mutex
	m map[[2]int]*Resampler
}

const maxCachedTables = 8

// A Resampler converts a stream of float32 samples from one rate to
// another with a Kaiser-windowed sinc filter in polyphase form. Output
// sample n is aligned with input time n*from/to: there is no delay. It keeps
// a history of one filter length, so memory does not depend on the length
// of the stream. A Resampler is not safe for concurrent use.
type Resampler struct {
	from, to int
	l, m     int // to/g and from/g: output n sits at input n*m/l
	half     int // filter half-width in input samples
	taps     int // 2*half taps per phase
	phases   int // rows in table; table has phases+1 rows when interp
	interp   bool
	table    []float32

	buf  []float32 // input samples from index base on
	base int64
	i0   int64 // integer part of the next output's input position
	p    int   // fractional part of that position, in units of 1/l
	nIn  int64 // input samples seen
	done bool
}

// NewResampler returns a Resampler from rate from to rate to, both in Hz
// and within [MinRate, MaxRate].
func NewResampler(from, to int) (*Resampler, error) {
	for _, r := range []int{from, to} {
		if r < MinRate || r > MaxRate {
			return nil, fmt.Errorf("%w: %d Hz (want %d..%d Hz)", ErrRate, r, MinRate, MaxRate)
		}
	}
	tables.Lock()
	proto := tables.m[[2]int{from, to}]
	tables.Unlock()
	if proto != nil {
		r := *proto
		r.buf = nil
		r.Reset()
		return &r, nil
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, l: to / g, m: from / g}

	// Filter in units of input samples: the cut-off sits halfway through
	// the transition band, which ends at the lower Nyquist frequency.
	nyq := 0.5 * float64(min(from, to)) / float64(from)
	fc := nyq * (1 + ResamplePassband) / 2
	df := nyq * (1 - ResamplePassband)
	order := (designDB - 7.95) / (14.36 * df) // Kaiser's estimate
	r.half = int(math.Ceil(order/2)) + 1
	r.taps = 2 * r.half
	beta := 0.1102 * (designDB - 8.7)

	r.phases = r.l
	rows := r.l
	if r.l > maxPhases || r.l*r.taps > maxTable {
		r.interp = true
		r.phases = max(minPhases, min(maxPhases, maxTable/r.taps))
		rows = r.phases + 1
	}
	r.table = make([]float32, rows*r.taps)
	i0beta := besselI0(beta)
	row := make([]float64, r.taps)
	for ph := range rows {
		frac := float64(ph) / float64(r.phases)
		sum := 0.0
		for j := range row {
			tau := float64(j-r.half+1) - frac // tap j multiplies x[i0+j-half+1]
			x := tau / float64(r.half)
			w := 0.0
			if x > -1 && x < 1 {
				w = besselI0(beta*math.Sqrt(1-x*x)) / i0beta
			}
			row[j] = 2 * fc * sinc(2*fc*tau) * w
			sum += row[j]
		}
		// Unit gain at DC for every phase.
		for j, v := range row {
			r.table[ph*r.taps+j] = float32(v / sum)
		}
	}
	tables.Lock()
	if tables.m == nil {
		tables.m = make(map[[2]int]*Resampler)
	}
	if len(tables.m) < maxCachedTables {
		tables.m[[2]int{from, to}] = r
	}
	tables.Unlock()
	c := *r
	c.Reset()
	return &c, nil
}

// Reset forgets all input, readying r for a new stream.
func (r *Resampler) Reset() {
	// half zeros before the first sample stand for silence before the
	// stream.
	r.buf = append(r.buf[:0], make([]float32, r.half)...)
	r.base = -int64(r.half)
	r.i0, r.p, r.nIn, r.done = 0, 0, 0, false
}

// Rates returns the input and output rates.
func (r *Resampler) Rates() (from, to int) { return r.from, r.to }

// Process appends to dst the output computable from the input so far plus
// src, and returns the extended slice.
func (r *Resampler) Process(dst, src []float32) []float32 {
	if r.done {
		panic("audio: Resampler.Process after Flush without Reset")
	}
	r.buf = append(r.buf, src...)
	r.nIn += int64(len(src))
	dst = r.run(dst, r.base+int64(len(r.buf)))
	// Keep only what later outputs need.
	if drop := r.i0 - int64(r.half) + 1 - r.base; drop > 0 {
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.base += drop
	}
	return dst
}

// Flush appends the remaining output, treating the input as followed by
// silence, so that ceil(n*to/from) samples come out of n in. Call Reset
// before reusing r.
func (r *Resampler) Flush(dst []float32) []float32 {
	if r.done {
		return dst
	}
	r.buf = append(r.buf, make([]float32, r.half)...)
	for r.i0 < r.nIn {
		dst = r.run1(dst)
	}
	r.done = true
	return dst
}

// run appends outputs while the input window of the next one ends before
// avail.
func (r *Resampler) run(dst []float32, avail int64) []float32 {
	for r.i0+int64(r.half) < avail {
		dst = r.run1(dst)
	}
	return dst
}

// run1 appends one output sample and advances the position.
func (r *Resampler) run1(dst []float32) []float32 {
	start := int(r.i0 - int64(r.half) + 1 - r.base)
	x := r.buf[start : start+r.taps]
	var y float32
	if !r.interp {
		y = dot(r.table[r.p*r.taps:(r.p+1)*r.taps], x)
	} else {
		q := r.p * r.phases
		ph := q / r.l
		a := float32(q%r.l) / float32(r.l)
		y0 := dot(r.table[ph*r.taps:(ph+1)*r.taps], x)
		y1 := dot(r.table[(ph+1)*r.taps:(ph+2)*r.taps], x)
		y = y0 + a*(y1-y0)
	}
	dst = append(dst, y)
	r.p += r.m
	r.i0 += int64(r.p / r.l)
	r.p %= r.l
	return dst
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges quickly for the beta of a Kaiser window).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-17*sum {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
