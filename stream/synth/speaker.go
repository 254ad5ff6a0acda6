package synth

import "math/rand/v2"

// Speaker describes one synthetic talker. Speakers differ in pitch, vocal
// tract length (a scale on all formant and frication frequencies), speaking
// rate, voice quality and an accent: a personal shift of every vowel's F1
// and F2.
type Speaker struct {
	Index  int
	Female bool
	// F0 is the mean pitch in Hz.
	F0 float64
	// FormantScale multiplies every formant frequency (about 0.92-1.04 for
	// male voices, 1.10-1.24 for female ones).
	FormantScale float64
	// Rate multiplies the speed of speech (durations are divided by it).
	Rate float64

	pitchRange float64 // relative F0 excursion on stressed syllables
	jitter     float64 // relative period-to-period F0 perturbation
	shimmer    float64 // relative period-to-period amplitude perturbation
	breath     float64 // aspiration mixed into voicing
	open       float64 // glottal opening phase, fraction of a period
	closing    float64 // glottal closing phase, fraction of a period
	bwScale    float64 // formant bandwidth multiplier
	accent     [NumClasses][3]float64
}

// Random stream keys: every random decision draws from a PCG whose second
// seed names what it is for, so that adding a speaker or an utterance never
// changes another one.
const (
	keySpeaker = 1 << 56 * iota
	keyPlan
	keyRender
)

func rngFor(seed uint64, key uint64, speaker, index int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, key|uint64(speaker)<<32|uint64(uint32(index))))
}

// uniform returns a value uniform in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + mul(float64(r.Float64()), hi-lo) }

// gauss returns an approximately standard normal value (Irwin-Hall sum of
// four uniforms): no transcendental functions, so it is bit-exact
// everywhere, and bounded by +-3.5.
func gauss(r *rand.Rand) float64 {
	s := float64(r.Float64()) + float64(r.Float64()) + float64(r.Float64()) + float64(r.Float64())
	return mul(s-2, 1.7320508075688772)
}

func newSpeaker(cfg *Config, i int) Speaker {
	r := rngFor(cfg.Seed, keySpeaker, i, 0)
	v := cfg.Variability
	s := Speaker{Index: i, Female: i%2 == 1}
	if s.Female {
		s.F0 = uniform(r, 165, 245)
		s.FormantScale = uniform(r, 1.10, 1.24)
		s.breath = uniform(r, 0.04, 0.14)
		s.open = uniform(r, 0.50, 0.66)
	} else {
		s.F0 = uniform(r, 85, 140)
		s.FormantScale = uniform(r, 0.92, 1.04)
		s.breath = uniform(r, 0.01, 0.08)
		s.open = uniform(r, 0.38, 0.55)
	}
	s.Rate = uniform(r, cfg.MinRate, cfg.MaxRate)
	s.closing = uniform(r, 0.08, 0.22)
	s.pitchRange = uniform(r, 0.06, 0.22)
	s.jitter = uniform(r, 0.003, 0.015)
	s.shimmer = uniform(r, 0.02, 0.07)
	s.bwScale = uniform(r, 0.85, 1.35)
	for c := range s.accent {
		sd := [3]float64{0.09, 0.07, 0.04}
		if k := phones[c].kind; k != Vowel && k != Diphthong {
			sd = [3]float64{0.04, 0.04, 0.03}
		}
		for j := range s.accent[c] {
			s.accent[c][j] = 1 + mul(mul(sd[j], v), gauss(r))
		}
	}
	return s
}
