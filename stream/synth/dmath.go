package synth

import "math"

// The generator promises the same samples, bit for bit, on every machine.
// Go's math.Exp uses assembly on amd64 that takes another path when the CPU
// has FMA, and on arm64, ppc64 and s390x the compiler may fuse x*y+z into
// one instruction with a single rounding. So the synthesis path uses only
// +, -, *, / and sqrt (all exactly rounded by IEEE 754), the functions
// below, and mul (an explicitly rounded product, which the Go spec forbids
// the compiler to fuse with a following addition). Every product that
// feeds a sum in this package goes through mul; TestNoFusedMultiplyAdd
// checks the arm64 build for fused instructions.

// mul returns a*b rounded to float64, so that it is never fused into a
// multiply-add.
func mul(a, b float64) float64 { return float64(a * b) }

const (
	ln2    = 0.6931471805599453
	halfPi = 1.5707963267948966
	twoPi  = 6.283185307179586
)

// dexp returns e**x for |x| < 700, deterministic on every platform and
// within 1e-15 (relative) of the exact value.
func dexp(x float64) float64 {
	k := math.Floor(x/ln2 + 0.5)
	r := x - mul(k, ln2)
	// Taylor series of e**r for |r| <= ln2/2, Horner form.
	p := 1.0 / 6227020800.0 // 1/13!
	for _, c := range [...]float64{
		1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880,
		1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24,
		1.0 / 6, 0.5, 1, 1,
	} {
		p = mul(p, r) + c
	}
	return math.Ldexp(p, int(k))
}

// dsincos returns sin(x) and cos(x) for |x| < 1e6, deterministic on every
// platform and within 1e-15 of the exact values.
func dsincos(x float64) (sin, cos float64) {
	// Cody-Waite reduction: n*halfPi1 is exact for |n| < 2^20.
	const (
		halfPi1 = 1.57079632673412561417e+00 // first 33 bits of pi/2
		halfPi2 = 6.07710050650619224932e-11 // pi/2 - halfPi1
	)
	n := math.Floor(x/halfPi + 0.5)
	r := (x - mul(n, halfPi1)) - mul(n, halfPi2)
	r2 := mul(r, r)
	// Taylor series for |r| <= pi/4, Horner form in r*r.
	s := -1.0 / 1307674368000 // -1/15!
	for _, c := range [...]float64{
		1.0 / 6227020800, -1.0 / 39916800, 1.0 / 362880, -1.0 / 5040,
		1.0 / 120, -1.0 / 6, 1,
	} {
		s = mul(s, r2) + c
	}
	s = mul(s, r)
	c := 1.0 / 20922789888000 // 1/16!
	for _, k := range [...]float64{
		-1.0 / 87178291200, 1.0 / 479001600, -1.0 / 3628800, 1.0 / 40320,
		-1.0 / 720, 1.0 / 24, -0.5, 1,
	} {
		c = mul(c, r2) + k
	}
	switch int64(n) & 3 {
	case 0:
		return s, c
	case 1:
		return c, -s
	case 2:
		return -s, -c
	default:
		return -c, s
	}
}

// dcos returns cos(x); see dsincos.
func dcos(x float64) float64 { _, c := dsincos(x); return c }

// dbToAmp converts a level in dB to a linear amplitude.
func dbToAmp(db float64) float64 { return dexp(mul(db, math.Ln10/20)) }
