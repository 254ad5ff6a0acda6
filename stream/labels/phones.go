package labels

import "strings"

// NumPhones is the number of phone classes of the MFA alignments: silence
// and the 39 ARPAbet phones.
const NumPhones = 40

// Silence is the class of silence (MFA's "sil", "sp", "spn" and empty
// intervals) in the phone classes.
const Silence = 0

// PhoneTier is the name of the MFA tier that holds the phones.
const PhoneTier = "phones"

// phoneNames is the class order: silence first, then the 39 ARPAbet phones
// in alphabetical order. The order is part of the API: probes, checkpoints
// and plots index by it. Never reorder; append only with a new constant.
var phoneNames = [NumPhones]string{
	"sil",
	"AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH",
	"EH", "ER", "EY", "F", "G", "HH", "IH", "IY", "JH", "K",
	"L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH",
	"T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
}

// phoneClass maps a folded, upper-case symbol to its class.
var phoneClass = func() map[string]uint8 {
	m := make(map[string]uint8, NumPhones+3)
	for i, name := range phoneNames[1:] {
		m[name] = uint8(i + 1)
	}
	for _, s := range []string{"", "SIL", "SP", "SPN"} {
		m[s] = Silence
	}
	return m
}()

// vowels carry a stress digit in ARPAbet; consonants never do.
var vowels = map[string]bool{
	"AA": true, "AE": true, "AH": true, "AO": true, "AW": true, "AY": true,
	"EH": true, "ER": true, "EY": true, "IH": true, "IY": true, "OW": true,
	"OY": true, "UH": true, "UW": true,
}

// PhoneNames returns the names of the NumPhones classes in class order:
// "sil" for class 0, then AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY
// JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH (classes 1..39).
// The slice is a copy.
func PhoneNames() []string { return append([]string(nil), phoneNames[:]...) }

// PhoneClass returns the class of an MFA phone symbol. The stress digit of
// a vowel is folded away (AH0, AH1, AH2 -> AH); "sil", "sp", "spn" and the
// empty text are Silence. Case and surrounding white space are ignored. A
// stress digit on a consonant, or any other symbol, is unknown: ok is
// false.
func PhoneClass(symbol string) (class uint8, ok bool) {
	s := strings.ToUpper(strings.TrimSpace(symbol))
	if n := len(s); n > 0 && s[n-1] >= '0' && s[n-1] <= '2' {
		if !vowels[s[:n-1]] {
			return 0, false
		}
		s = s[:n-1]
	}
	class, ok = phoneClass[s]
	return class, ok
}
