package synth

// Phone classes. Class 0 is silence; the rest are a reduced ARPAbet
// inventory of 29 phones. The order is part of the label format: never
// reorder, only append.
const (
	Sil = iota
	IY
	IH
	EH
	AE
	AA
	AH
	UW
	ER
	OW
	AY
	W
	Y
	L
	R
	M
	N
	NG
	F
	S
	SH
	V
	Z
	HH
	P
	T
	K
	B
	D
	G
	// NumClasses is the number of phone classes, silence included.
	NumClasses
)

// Kind groups phones by manner of articulation.
type Kind int

// Manners of articulation.
const (
	Silence Kind = iota
	Vowel
	Diphthong
	Approximant
	Nasal
	Fricative
	Aspirate
	Stop
)

var kindNames = [...]string{"silence", "vowel", "diphthong", "approximant", "nasal", "fricative", "aspirate", "stop"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// phoneSpec is the acoustic recipe of a phone for an adult male vocal
// tract; speakers scale its frequencies.
type phoneSpec struct {
	name   string
	kind   Kind
	voiced bool
	// f holds the F1-F3 targets of vowels and approximants and the loci of
	// consonants, in Hz; f2 the end targets of diphthongs.
	f, f2 [3]float64
	// dur is the mean duration in ms at speaking rate 1 (unstressed).
	dur float64
	// av is the voicing level in dB (0 dB = a stressed vowel).
	av float64
	// noise is the level of frication (fricatives, bursts) or aspiration
	// (hh) in dB.
	noise float64
	// fr, fb, fg are the centre frequencies, bandwidths and linear gains of
	// the two resonances that shape frication and bursts; flat is the gain
	// of the unfiltered part.
	fr, fb, fg [2]float64
	flat       float64
	// zero is the nasal antiresonance in Hz.
	zero float64
	// burst is the length of a stop's release burst in ms; closure the
	// fraction of a stop's duration spent in closure.
	burst, closure float64
}

// phones is indexed by class.
var phones = [NumClasses]phoneSpec{
	Sil: {name: "sil", kind: Silence, f: [3]float64{500, 1500, 2500}},

	IY: {name: "iy", kind: Vowel, voiced: true, f: [3]float64{270, 2290, 3010}, dur: 90},
	IH: {name: "ih", kind: Vowel, voiced: true, f: [3]float64{390, 1990, 2550}, dur: 70},
	EH: {name: "eh", kind: Vowel, voiced: true, f: [3]float64{530, 1840, 2480}, dur: 80},
	AE: {name: "ae", kind: Vowel, voiced: true, f: [3]float64{660, 1720, 2410}, dur: 110},
	AA: {name: "aa", kind: Vowel, voiced: true, f: [3]float64{730, 1090, 2440}, dur: 110},
	AH: {name: "ah", kind: Vowel, voiced: true, f: [3]float64{620, 1220, 2550}, dur: 65},
	UW: {name: "uw", kind: Vowel, voiced: true, f: [3]float64{300, 870, 2240}, dur: 95},
	ER: {name: "er", kind: Vowel, voiced: true, f: [3]float64{490, 1350, 1690}, dur: 100},
	OW: {name: "ow", kind: Diphthong, voiced: true, f: [3]float64{540, 1000, 2400}, f2: [3]float64{380, 800, 2300}, dur: 120},
	AY: {name: "ay", kind: Diphthong, voiced: true, f: [3]float64{720, 1150, 2450}, f2: [3]float64{420, 1950, 2600}, dur: 140},

	W: {name: "w", kind: Approximant, voiced: true, f: [3]float64{300, 650, 2200}, dur: 55, av: -4},
	Y: {name: "y", kind: Approximant, voiced: true, f: [3]float64{280, 2200, 3000}, dur: 50, av: -4},
	L: {name: "l", kind: Approximant, voiced: true, f: [3]float64{380, 1050, 2700}, dur: 55, av: -5},
	R: {name: "r", kind: Approximant, voiced: true, f: [3]float64{420, 1150, 1600}, dur: 55, av: -4},

	M:  {name: "m", kind: Nasal, voiced: true, f: [3]float64{280, 900, 2200}, dur: 65, av: -12, zero: 1000},
	N:  {name: "n", kind: Nasal, voiced: true, f: [3]float64{280, 1700, 2600}, dur: 60, av: -12, zero: 1600},
	NG: {name: "ng", kind: Nasal, voiced: true, f: [3]float64{280, 2000, 2450}, dur: 70, av: -12, zero: 2700},

	F: {name: "f", kind: Fricative, f: [3]float64{330, 1000, 2300}, dur: 95, noise: -16,
		fr: [2]float64{7000, 2500}, fb: [2]float64{2000, 2000}, fg: [2]float64{0.5, 0.3}, flat: 0.6},
	S: {name: "s", kind: Fricative, f: [3]float64{330, 1700, 2600}, dur: 105, noise: -3,
		fr: [2]float64{5800, 4200}, fb: [2]float64{1100, 1500}, fg: [2]float64{1, 0.3}},
	SH: {name: "sh", kind: Fricative, f: [3]float64{330, 2000, 2500}, dur: 105, noise: -2,
		fr: [2]float64{2800, 4300}, fb: [2]float64{700, 1400}, fg: [2]float64{1, 0.55}},
	V: {name: "v", kind: Fricative, voiced: true, f: [3]float64{330, 1000, 2300}, dur: 65, av: -10, noise: -20,
		fr: [2]float64{7000, 2500}, fb: [2]float64{2000, 2000}, fg: [2]float64{0.5, 0.3}, flat: 0.6},
	Z: {name: "z", kind: Fricative, voiced: true, f: [3]float64{330, 1700, 2600}, dur: 75, av: -10, noise: -9,
		fr: [2]float64{5800, 4200}, fb: [2]float64{1100, 1500}, fg: [2]float64{1, 0.3}},
	HH: {name: "hh", kind: Aspirate, dur: 65, noise: -6},

	P: {name: "p", kind: Stop, f: [3]float64{250, 900, 2200}, dur: 105, noise: -10, burst: 6, closure: 0.55,
		fr: [2]float64{1000, 3000}, fb: [2]float64{1500, 2500}, fg: [2]float64{0.7, 0.3}, flat: 0.8},
	T: {name: "t", kind: Stop, f: [3]float64{250, 1750, 2600}, dur: 100, noise: -4, burst: 9, closure: 0.55,
		fr: [2]float64{4500, 3300}, fb: [2]float64{1800, 900}, fg: [2]float64{1, 0.5}, flat: 0.2},
	K: {name: "k", kind: Stop, f: [3]float64{250, 2100, 2450}, dur: 110, noise: -4, burst: 13, closure: 0.5,
		fr: [2]float64{2100, 3300}, fb: [2]float64{500, 900}, fg: [2]float64{1, 0.4}, flat: 0.1},
	B: {name: "b", kind: Stop, voiced: true, f: [3]float64{250, 900, 2200}, dur: 75, av: -24, noise: -16, burst: 5, closure: 0.72,
		fr: [2]float64{1000, 3000}, fb: [2]float64{1500, 2500}, fg: [2]float64{0.7, 0.3}, flat: 0.8},
	D: {name: "d", kind: Stop, voiced: true, f: [3]float64{250, 1750, 2600}, dur: 75, av: -24, noise: -10, burst: 7, closure: 0.72,
		fr: [2]float64{4500, 3300}, fb: [2]float64{1800, 900}, fg: [2]float64{1, 0.5}, flat: 0.2},
	G: {name: "g", kind: Stop, voiced: true, f: [3]float64{250, 2100, 2450}, dur: 80, av: -24, noise: -10, burst: 10, closure: 0.68,
		fr: [2]float64{2100, 3300}, fb: [2]float64{500, 900}, fg: [2]float64{1, 0.4}, flat: 0.1},
}

// PhoneName returns the ARPAbet-like name of class c ("sil" for silence),
// or "" when c is out of range.
func PhoneName(c int) string {
	if c < 0 || c >= NumClasses {
		return ""
	}
	return phones[c].name
}

// PhoneKind returns the manner of articulation of class c.
func PhoneKind(c int) Kind {
	if c < 0 || c >= NumClasses {
		return Silence
	}
	return phones[c].kind
}

// PhoneNames returns the names of all classes in class order.
func PhoneNames() []string {
	names := make([]string, NumClasses)
	for i := range names {
		names[i] = phones[i].name
	}
	return names
}
