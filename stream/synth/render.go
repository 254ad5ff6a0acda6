package synth

import (
	"math"
	"math/rand/v2"
)

const (
	// ctl is the control period in samples (1 ms): formant frequencies and
	// filter coefficients change at this rate, amplitudes are interpolated
	// between control points sample by sample.
	ctl = SampleRate / 1000
	// glottalTable is the resolution of one period of the glottal source.
	glottalTable = 512
	sampleT      = 1.0 / SampleRate
)

// Levels of the three sources relative to each other, found by measuring
// the RMS of steady vowels, /h/ and /s/ (see TestLevels).
const (
	voicingGain    = 1.0
	aspirationGain = 0.17
	fricationGain  = 0.7
	// speechRMS is the RMS level of speech (silence excluded) before a
	// random gain of -6..+4 dB; it keeps peaks below full scale.
	speechRMS = 0.05
)

// resonator is a two-pole digital resonator (Klatt 1980).
type resonator struct{ a, b, c, y1, y2 float64 }

// set tunes r to centre frequency f and bandwidth bw in Hz, with gain 1 at
// 0 Hz.
func (r *resonator) set(f, bw float64) {
	rr := dexp(mul(-math.Pi*sampleT, bw))
	r.c = -mul(rr, rr)
	r.b = mul(2*rr, dcos(mul(twoPi*sampleT, f)))
	r.a = 1 - r.b - r.c
}

// setPeak tunes r to f and bw with gain 1 at f.
func (r *resonator) setPeak(f, bw float64) {
	rr := dexp(mul(-math.Pi*sampleT, bw))
	r.c = -mul(rr, rr)
	sin, cos := dsincos(mul(twoPi*sampleT, f))
	r.b = mul(2*rr, cos)
	cos2 := mul(2*cos, cos) - 1
	sin2 := mul(2*sin, cos)
	re := 1 - mul(r.b, cos) - mul(r.c, cos2)
	im := mul(r.b, sin) + mul(r.c, sin2)
	r.a = math.Sqrt(mul(re, re) + mul(im, im))
}

func (r *resonator) step(x float64) float64 {
	y := mul(r.a, x) + mul(r.b, r.y1) + mul(r.c, r.y2)
	r.y2, r.y1 = r.y1, y
	return y
}

// antiresonator is the inverse of a resonator: a pair of zeros.
type antiresonator struct{ a, b, c, x1, x2 float64 }

func (z *antiresonator) set(f, bw float64) {
	var r resonator
	r.set(f, bw)
	z.a = 1 / r.a
	z.b = -r.b / r.a
	z.c = -r.c / r.a
}

func (z *antiresonator) step(x float64) float64 {
	y := mul(z.a, x) + mul(z.b, z.x1) + mul(z.c, z.x2)
	z.x2, z.x1 = z.x1, x
	return y
}

// key is a formant target at a time in ms.
type key struct {
	t float64
	f [3]float64
}

// tracks holds the control parameters of an utterance, one value per ms.
type tracks struct {
	f        [3][]float64 // formant frequencies
	av       []float64    // voicing amplitude
	ah       []float64    // aspiration amplitude
	af       []float64    // frication amplitude
	f0       []float64    // pitch
	nasal    []float64    // nasal coupling, 0..1
	zero     []float64    // nasal antiresonance when coupled, Hz
	fric     []int        // token whose frication filter applies, -1 none
	fricSpec []fricFilter // per token
}

type fricFilter struct {
	f, bw, g [2]float64
	flat     float64
}

func isVowel(k Kind) bool { return k == Vowel || k == Diphthong }

// neighbourVowel returns the formants of the vowel next to token i (the
// following one first), and whether there is one.
func neighbourVowel(tokens []token, i int) ([3]float64, bool) {
	if i+1 < len(tokens) && isVowel(phones[tokens[i+1].phone].kind) {
		return tokens[i+1].f, true
	}
	if i > 0 && isVowel(phones[tokens[i-1].phone].kind) {
		t := &tokens[i-1]
		if phones[t.phone].kind == Diphthong {
			return t.f2, true
		}
		return t.f, true
	}
	return [3]float64{}, false
}

// locus returns the formants of a non-transparent neighbour of token i on
// side dir (-1 or +1), and whether there is one.
func locus(tokens []token, i, dir int) ([3]float64, bool) {
	j := i + dir
	if j < 0 || j >= len(tokens) {
		return [3]float64{}, false
	}
	t := &tokens[j]
	switch phones[t.phone].kind {
	case Silence, Aspirate:
		return [3]float64{}, false
	case Diphthong:
		if dir < 0 {
			return t.f2, true
		}
	}
	return t.f, true
}

func blend(a, b [3]float64, w float64) [3]float64 {
	for j := range a {
		a[j] += mul(w, b[j]-a[j])
	}
	return a
}

// formantKeys places formant targets in time. Vowels undershoot their
// targets towards their neighbours, the more the shorter they are;
// consonant loci lean towards the adjacent vowel; silence and /h/ have no
// targets of their own, so formants glide through them.
func formantKeys(tokens []token) []key {
	keys := make([]key, 0, 2*len(tokens))
	for i := range tokens {
		t := &tokens[i]
		spec := &phones[t.phone]
		s := mul(float64(t.start), 1.0/ctl)
		e := mul(float64(t.end), 1.0/ctl)
		d := e - s
		switch spec.kind {
		case Vowel:
			u := min(max(0.45-d/300, 0.05), 0.35)
			target := t.f
			var sum [3]float64
			n := 0.0
			for _, dir := range []int{-1, 1} {
				if l, ok := locus(tokens, i, dir); ok {
					for j := range sum {
						sum[j] += l[j]
					}
					n++
				}
			}
			if n > 0 {
				for j := range sum {
					sum[j] /= n
				}
				target = blend(target, sum, u)
			}
			keys = append(keys, key{s + mul(0.3, d), target}, key{e - mul(0.3, d), target})
		case Diphthong:
			keys = append(keys, key{s + mul(0.2, d), t.f}, key{e - mul(0.2, d), t.f2})
		case Approximant, Nasal, Fricative, Stop:
			w, edge := 0.3, 0.2
			switch spec.kind {
			case Approximant:
				w, edge = 0.15, 0.35
			case Nasal:
				edge = 0.15
			case Stop:
				w, edge = 0.35, 0.1
			}
			l := t.f
			if v, ok := neighbourVowel(tokens, i); ok {
				l = blend(l, v, w)
			}
			end := e - mul(edge, d)
			if spec.kind == Stop {
				end = s + mul(spec.closure, d)
			}
			keys = append(keys, key{s + mul(edge, d), l}, key{end, l})
		}
	}
	return keys
}

// smooth replaces x by its moving average over 2h+1 points, clamped at
// the ends.
func smooth(x []float64, h int) {
	if h <= 0 || len(x) == 0 {
		return
	}
	n := len(x)
	sum := make([]float64, n+1)
	for i, v := range x {
		sum[i+1] = sum[i] + v
	}
	for i := range x {
		lo, hi := max(i-h, 0), min(i+h+1, n)
		x[i] = (sum[hi] - sum[lo]) / float64(hi-lo)
	}
}

func (g *Generator) tracks(spk *Speaker, tokens []token, n int, r *rand.Rand) *tracks {
	nc := n/ctl + 2
	tr := &tracks{
		av: make([]float64, nc), ah: make([]float64, nc), af: make([]float64, nc),
		f0: make([]float64, nc), nasal: make([]float64, nc), zero: make([]float64, nc),
		fric: make([]int, nc), fricSpec: make([]fricFilter, len(tokens)),
	}
	for j := range tr.f {
		tr.f[j] = make([]float64, nc)
	}

	// Formants: cosine glides between targets.
	keys := formantKeys(tokens)
	k := 0
	for c := range nc {
		t := float64(c)
		for k+1 < len(keys) && keys[k+1].t <= t {
			k++
		}
		a := keys[k]
		if t <= a.t || k+1 == len(keys) {
			for j := range 3 {
				tr.f[j][c] = a.f[j]
			}
			continue
		}
		b := keys[k+1]
		w := (t - a.t) / (b.t - a.t)
		w = mul(0.5, 1-dcos(mul(math.Pi, w)))
		for j := range 3 {
			tr.f[j][c] = a.f[j] + mul(w, b.f[j]-a.f[j])
		}
	}

	// Sources, token by token.
	stressed := make([]float64, nc)
	for i := range tokens {
		t := &tokens[i]
		spec := &phones[t.phone]
		s, e := t.start/ctl, min(t.end/ctl, nc)
		gain := t.gain
		fill := func(x []float64, from, to int, db float64) {
			amp := dbToAmp(db + gain)
			for c := max(from, 0); c < min(to, nc); c++ {
				x[c] = amp
			}
		}
		switch spec.kind {
		case Vowel, Diphthong:
			db := -3.0
			if t.stressed {
				db = 0
				for c := s; c < e; c++ {
					stressed[c] = 1
				}
			}
			fill(tr.av, s, e, db)
		case Approximant:
			fill(tr.av, s, e, spec.av)
		case Nasal:
			fill(tr.av, s, e, spec.av)
			for c := s; c < e; c++ {
				tr.nasal[c] = 1
			}
		case Fricative:
			if spec.voiced {
				fill(tr.av, s, e, spec.av)
			}
			fill(tr.af, s, e, spec.noise)
		case Aspirate:
			fill(tr.ah, s, e, spec.noise)
		case Stop:
			rel := s + int(mul(spec.closure, float64(e-s)))
			burst := rel + max(int(mul(spec.burst, 1/spk.Rate)), 3)
			if spec.voiced {
				fill(tr.av, s, rel, spec.av)
				fill(tr.av, burst, e, -8)
				fill(tr.ah, burst, e, -22)
			} else {
				fill(tr.ah, burst, e, -8)
			}
			fill(tr.af, rel, burst, spec.noise)
		}
		if spec.kind == Fricative || spec.kind == Stop {
			ff := fricFilter{flat: spec.flat, g: spec.fg}
			for j := range 2 {
				ff.f[j] = min(mul(spec.fr[j], spk.FormantScale), 7200)
				ff.bw[j] = mul(spec.fb[j], spk.FormantScale)
			}
			if t.phone == K || t.phone == G {
				// The velar burst sits on the F2-F3 of the next vowel.
				rel := min(s+int(mul(spec.closure, float64(e-s))), nc-1)
				ff.f[0] = min(mul(tr.f[1][rel], 1.1), 7200)
			}
			tr.fricSpec[i] = ff
			for c := s; c < e; c++ {
				tr.fric[c] = i
			}
		} else {
			for c := s; c < e; c++ {
				tr.fric[c] = -1
			}
		}
	}
	for c := tokens[len(tokens)-1].end / ctl; c < nc; c++ {
		tr.fric[c] = -1
	}
	nasalZeros(tr.zero, tokens, spk.FormantScale)

	smooth(tr.av, 4)
	smooth(tr.ah, 2)
	smooth(tr.af, 1)
	smooth(tr.nasal, 25) // nasalisation spreads into the neighbouring vowels
	smooth(stressed, 40)

	// Pitch: declination, accents on stressed vowels, slow wander.
	wander := uniform(r, 0, twoPi)
	period := uniform(r, 500, 900)
	for c := range nc {
		decl := 1.08 - mul(0.16, float64(c)/float64(nc))
		acc := 1 + mul(spk.pitchRange, stressed[c])
		w := 1 + mul(0.03, dcos(wander+mul(twoPi/period, float64(c))))
		tr.f0[c] = mul(mul(mul(spk.F0, decl), acc), w)
	}
	return tr
}

// nasalZeros sets zero[c] to the antiresonance of the nasal nearest in
// time to control point c, so that nasalisation spreading into a vowel
// carries the place of the nasal it anticipates or follows.
func nasalZeros(zero []float64, tokens []token, scale float64) {
	type span struct {
		s, e int
		f    float64
	}
	var spans []span
	for _, t := range tokens {
		if phones[t.phone].kind == Nasal {
			spans = append(spans, span{t.start / ctl, t.end / ctl, mul(phones[t.phone].zero, scale)})
		}
	}
	if len(spans) == 0 {
		for c := range zero {
			zero[c] = 270
		}
		return
	}
	k := 0
	for c := range zero {
		for k+1 < len(spans) && spans[k+1].s <= c {
			k++
		}
		z := spans[k].f
		if k+1 < len(spans) && c >= spans[k].e && spans[k+1].s-c < c-spans[k].e {
			z = spans[k+1].f
		}
		zero[c] = z
	}
}

// glottalPulse returns one period of the derivative of a Rosenberg glottal
// flow (opening phase open, closing phase closing, as fractions of the
// period), scaled so that its negative peak is -1.
func glottalPulse(open, closing float64) []float64 {
	p := make([]float64, glottalTable+1)
	for i := range glottalTable {
		phi := mul(float64(i), 1.0/glottalTable)
		switch {
		case phi < open:
			s, _ := dsincos(mul(math.Pi, phi/open))
			p[i] = mul(math.Pi/2/open, s)
		case phi < open+closing:
			s, _ := dsincos(mul(math.Pi/2, (phi-open)/closing))
			p[i] = -mul(math.Pi/2/closing, s)
		}
	}
	scale := math.Pi / 2 / closing
	for i := range p {
		p[i] /= scale
	}
	p[glottalTable] = p[0]
	return p
}

// render synthesises the samples of an utterance from its tokens.
func (g *Generator) render(spk *Speaker, tokens []token, n int, index int) []float32 {
	r := rngFor(g.cfg.Seed, keyRender, spk.Index, index)
	tr := g.tracks(spk, tokens, n, r)
	pulse := glottalPulse(spk.open, spk.closing)

	var (
		npole, f4, f5, f1, f2, f3, fr1, fr2 resonator
		nzero                               antiresonator
	)
	const nasalPole, nasalBW = 270.0, 100.0
	npole.set(nasalPole, nasalBW)
	f4.set(mul(3500, spk.FormantScale), mul(250, spk.bwScale))
	f5.set(min(mul(4500, spk.FormantScale), 7000), mul(300, spk.bwScale))

	out := make([]float64, n)
	phase, inc, shim := 0.0, mul(tr.f0[0], sampleT), 1.0
	fricTok := -1
	for c := 0; c*ctl < n; c++ {
		nas := tr.nasal[c]
		f1.set(tr.f[0][c], mul(70, spk.bwScale)+mul(80, nas))
		f2.set(tr.f[1][c], mul(90, spk.bwScale)+mul(60, nas))
		f3.set(tr.f[2][c], mul(140, spk.bwScale)+mul(40, nas))
		nzero.set(nasalPole+mul(nas, tr.zero[c]-nasalPole), nasalBW)
		if ft := tr.fric[c]; ft >= 0 && ft != fricTok {
			ff := &tr.fricSpec[ft]
			fr1.setPeak(ff.f[0], ff.bw[0])
			fr2.setPeak(ff.f[1], ff.bw[1])
			fricTok = ft
		}
		ff := fricFilter{}
		if fricTok >= 0 {
			ff = tr.fricSpec[fricTok]
		}
		av0, dav := tr.av[c], (tr.av[c+1]-tr.av[c])/ctl
		ah0, dah := tr.ah[c], (tr.ah[c+1]-tr.ah[c])/ctl
		af0, daf := tr.af[c], (tr.af[c+1]-tr.af[c])/ctl
		frication := af0 > 0 || tr.af[c+1] > 0
		f0 := tr.f0[c]
		end := min((c+1)*ctl, n)
		for i := c * ctl; i < end; i++ {
			k := float64(i - c*ctl)
			av := av0 + mul(k, dav)
			ah := ah0 + mul(k, dah)

			phase += inc
			if phase >= 1 {
				phase -= 1
				inc = mul(f0, sampleT) * (1 + mul(spk.jitter, gauss(r)))
				shim = 1 + mul(spk.shimmer, gauss(r))
			}
			x := mul(phase, glottalTable)
			j := int(x)
			glottal := pulse[j] + mul(x-float64(j), pulse[j+1]-pulse[j])

			bits := r.Uint64()
			u1 := mul(float64(bits>>40), 1.0/(1<<23)) - 1
			u2 := mul(float64(bits>>16&0xffffff), 1.0/(1<<23)) - 1

			breath := mul(spk.breath, av)
			if phase >= spk.open {
				breath = mul(breath, 0.25)
			}
			src := mul(mul(voicingGain, av), mul(shim, glottal)) + mul(mul(aspirationGain, ah+breath), u1)
			y := f1.step(f2.step(f3.step(f4.step(f5.step(nzero.step(npole.step(src)))))))
			if frication {
				af := af0 + mul(k, daf)
				fr := mul(ff.g[0], fr1.step(u2)) + mul(ff.g[1], fr2.step(u2)) + mul(ff.flat, u2)
				y += mul(mul(fricationGain, af), fr)
			}
			out[i] = y
		}
	}
	return g.finish(out, tokens, r)
}

// finish removes DC, applies a random channel tilt, sets the level and
// adds background noise.
func (g *Generator) finish(x []float64, tokens []token, r *rand.Rand) []float32 {
	// DC blocker.
	var x1, y1 float64
	for i, v := range x {
		y := v - x1 + mul(0.995, y1)
		x1, y1 = v, y
		x[i] = y
	}
	tilt := uniform(r, -0.35, 0.35)
	level := dbToAmp(uniform(r, -6, 4))
	snr := uniform(r, g.cfg.MinSNR, g.cfg.MaxSNR)
	colour := uniform(r, 0, 0.9)
	if !g.cfg.Clean {
		prev := 0.0
		for i, v := range x {
			x[i] = v + mul(tilt, prev)
			prev = v
		}
	}
	// Level of the speech (silence excluded).
	var sum float64
	var count int
	for _, t := range tokens {
		if t.phone == Sil {
			continue
		}
		for _, v := range x[t.start:t.end] {
			sum += mul(v, v)
		}
		count += t.end - t.start
	}
	rms := math.Sqrt(sum / float64(max(count, 1)))
	gain := 0.0
	if rms > 0 {
		gain = mul(speechRMS, level) / rms
	}
	out := make([]float32, len(x))
	noise := 0.0
	if !g.cfg.Clean {
		noise = mul(speechRMS, level) / dbToAmp(snr)
	}
	innov := math.Sqrt(3 * (1 - mul(colour, colour)))
	state := 0.0
	for i, v := range x {
		y := mul(gain, v)
		if noise > 0 {
			state = mul(colour, state) + mul(innov, mul(float64(r.Uint64()>>11), 1.0/(1<<52))-1)
			y += mul(noise, state)
		}
		out[i] = float32(min(max(y, -1), 1))
	}
	return out
}
