package synth

import "math/rand/v2"

// token is one phone of an utterance with everything the renderer needs.
type token struct {
	phone      int
	start, end int // samples, [start, end)
	stressed   bool
	// f and f2 are the formant targets (loci for consonants) after the
	// speaker's scale and accent and this token's own jitter, in Hz.
	f, f2 [3]float64
	// gain is this token's level jitter in dB.
	gain float64
}

// weighted is a choice with an integer weight.
type weighted struct {
	phones []int
	w      int
}

func pick(r *rand.Rand, table []weighted) []int {
	total := 0
	for _, e := range table {
		total += e.w
	}
	n := r.IntN(total)
	for _, e := range table {
		if n < e.w {
			return e.phones
		}
		n -= e.w
	}
	return table[len(table)-1].phones
}

func one(p, w int) weighted    { return weighted{[]int{p}, w} }
func two(p, q, w int) weighted { return weighted{[]int{p, q}, w} }

// Phonotactics: a syllable is (onset) nucleus (coda); the tables keep
// English-like clusters and keep ng out of onsets and h, w, y out of codas.
var (
	onsets = []weighted{
		one(P, 3), one(T, 4), one(K, 3), one(B, 3), one(D, 4), one(G, 2),
		one(M, 4), one(N, 3), one(F, 3), one(S, 5), one(SH, 2), one(V, 2),
		one(Z, 1), one(HH, 3), one(W, 3), one(Y, 2), one(L, 4), one(R, 4),
	}
	onsetClusters = []weighted{
		two(P, R, 2), two(P, L, 2), two(T, R, 2), two(K, R, 2), two(K, L, 2),
		two(B, R, 2), two(B, L, 2), two(D, R, 2), two(G, R, 2), two(G, L, 1),
		two(F, R, 2), two(F, L, 2), two(S, P, 2), two(S, T, 3), two(S, K, 2),
		two(S, M, 1), two(S, N, 1), two(S, L, 1), two(S, W, 1), two(SH, R, 1),
	}
	nuclei = []weighted{
		one(IY, 4), one(IH, 6), one(EH, 5), one(AE, 4), one(AA, 4),
		one(AH, 8), one(UW, 3), one(ER, 3), one(OW, 3), one(AY, 3),
	}
	codas = []weighted{
		one(P, 2), one(T, 6), one(K, 3), one(B, 1), one(D, 5), one(G, 1),
		one(M, 3), one(N, 7), one(NG, 3), one(F, 1), one(S, 5), one(SH, 1),
		one(V, 2), one(Z, 4), one(L, 3), one(R, 3),
	}
	codaClusters = []weighted{
		two(N, T, 3), two(N, D, 3), two(N, Z, 2), two(S, T, 3), two(T, S, 2),
		two(K, S, 2), two(M, P, 1), two(NG, K, 1), two(L, D, 1), two(L, T, 1),
		two(R, T, 1), two(R, D, 1), two(R, Z, 1), two(F, T, 1), two(K, T, 1),
	}
)

// schwa is the centre of the vowel space of an adult male, in Hz.
var schwa = [3]float64{500, 1500, 2500}

// planner lays out an utterance's tokens in time.
type planner struct {
	r      *rand.Rand
	spk    *Speaker
	v      float64 // variability
	rate   float64
	ms     float64 // running time in ms
	tokens []token
	starts []float64 // start of each token in ms
}

func (p *planner) add(phone int, dur float64, stressed bool) {
	if n := len(p.tokens); phone == Sil && n > 0 && p.tokens[n-1].phone == Sil {
		p.ms += dur // merge a pause into the silence before it
		return
	}
	spec := &phones[phone]
	t := token{phone: phone, stressed: stressed}
	vowel := spec.kind == Vowel || spec.kind == Diphthong
	sd := 0.05
	if vowel {
		sd = 0.08
	}
	// Unstressed vowels are reduced: pulled towards the centre of the
	// vowel space.
	reduce := 0.0
	if vowel && !stressed {
		reduce = mul(0.3, p.v)
	}
	for j := range 3 {
		scale := mul(p.spk.FormantScale, p.spk.accent[phone][j])
		jit := 1 + mul(mul(sd, p.v), gauss(p.r))
		f, f2 := spec.f[j], spec.f2[j]
		f += mul(reduce, schwa[j]-f)
		f2 += mul(reduce, schwa[j]-f2)
		t.f[j] = mul(mul(f, scale), jit)
		t.f2[j] = mul(mul(f2, scale), jit)
	}
	t.gain = mul(mul(2.5, p.v), gauss(p.r))
	p.tokens = append(p.tokens, t)
	p.starts = append(p.starts, p.ms)
	p.ms += dur
}

// duration draws the length in ms of one phone.
func (p *planner) duration(phone int, stressed, final, cluster bool) float64 {
	spec := &phones[phone]
	d := spec.dur
	vowel := spec.kind == Vowel || spec.kind == Diphthong
	switch {
	case vowel && stressed:
		d = mul(d, 1.3)
	case vowel:
		d = mul(d, 0.8)
	}
	if final {
		d = mul(d, 1.15)
	}
	if cluster {
		d = mul(d, 0.8)
	}
	j := 1 + mul(mul(0.18, p.v), gauss(p.r))
	j = min(max(j, 0.6), 1.6)
	d = mul(d, j) / p.rate
	lo := 25.0
	switch {
	case vowel:
		lo = 35
	case spec.kind == Stop:
		lo = 40
	}
	return max(d, lo)
}

// word appends one word of one to three syllables.
func (p *planner) word() {
	nsyl := pick(p.r, []weighted{one(1, 45), one(2, 40), one(3, 15)})[0]
	stress := 0
	if nsyl > 1 && p.r.Float64() < 0.3 {
		stress = 1 + p.r.IntN(nsyl-1)
	}
	for s := range nsyl {
		final := s == nsyl-1
		stressed := s == stress
		// Onset.
		var onset []int
		empty := 0.2
		if s > 0 {
			empty = 0.1
		}
		switch u := p.r.Float64(); {
		case u < empty:
		case u < 0.85:
			onset = pick(p.r, onsets)
		default:
			onset = pick(p.r, onsetClusters)
		}
		for _, ph := range onset {
			p.add(ph, p.duration(ph, stressed, false, len(onset) > 1), false)
		}
		nucleus := pick(p.r, nuclei)[0]
		p.add(nucleus, p.duration(nucleus, stressed, final, false), stressed)
		// Coda.
		var coda []int
		pc := 0.3
		if final {
			pc = 0.55
		}
		switch u := p.r.Float64(); {
		case u >= pc:
		case u < mul(pc, 0.82):
			coda = pick(p.r, codas)
		default:
			coda = pick(p.r, codaClusters)
		}
		for _, ph := range coda {
			p.add(ph, p.duration(ph, false, final, len(coda) > 1), false)
		}
	}
}

// plan lays out utterance index of speaker spk: its tokens with sample
// boundaries and its length in samples.
func (g *Generator) plan(spk *Speaker, index int) ([]token, int) {
	cfg := &g.cfg
	r := rngFor(cfg.Seed, keyPlan, spk.Index, index)
	p := planner{r: r, spk: spk, v: cfg.Variability}
	p.rate = mul(spk.Rate, 1+mul(mul(0.08, p.v), uniform(r, -1, 1)))
	length := mul(uniform(r, cfg.MinSeconds, cfg.MaxSeconds), 1000)
	trail := uniform(r, 100, 300)
	p.add(Sil, uniform(r, 100, 250), false)
	for words := 0; words == 0 || p.ms < length-trail; words++ {
		p.word()
		if r.Float64() < 0.12 {
			p.add(Sil, uniform(r, 80, 250), false)
		}
	}
	p.add(Sil, trail, false)

	// Boundaries on the sample grid.
	n := int(mul(p.ms, SampleRate/1000) + 0.5)
	for i := range p.tokens {
		p.tokens[i].start = int(mul(p.starts[i], SampleRate/1000) + 0.5)
		if i > 0 {
			p.tokens[i-1].end = p.tokens[i].start
		}
	}
	p.tokens[len(p.tokens)-1].end = n
	return p.tokens, n
}

// labelsOf returns the class of every 10 ms frame: label i is the class
// of sample 160 i + 80, the frame's centre.
func labelsOf(tokens []token, n int) []int {
	labels := make([]int, n/FrameSamples)
	k := 0
	for i := range labels {
		c := i*FrameSamples + FrameSamples/2
		for tokens[k].end <= c {
			k++
		}
		labels[i] = tokens[k].phone
	}
	return labels
}
