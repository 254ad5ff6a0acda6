package labels

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// UttID is a LibriSpeech utterance id, reader-chapter-index
// ("4088-158077-0001": reader 4088, chapter 158077, utterance 1).
type UttID struct {
	Reader, Chapter, Index int
}

// ParseUttID parses a LibriSpeech utterance id: three dash-separated
// decimal numbers. Anything else wraps ErrUtterance.
func ParseUttID(id string) (UttID, error) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 {
		return UttID{}, fmt.Errorf("%w %q: want reader-chapter-index", ErrUtterance, id)
	}
	var v [3]int
	for i, p := range parts {
		n, ok := decimal(p)
		if !ok {
			return UttID{}, fmt.Errorf("%w %q: %q is not a decimal number", ErrUtterance, id, p)
		}
		v[i] = n
	}
	return UttID{Reader: v[0], Chapter: v[1], Index: v[2]}, nil
}

// decimal parses 1 to 9 ASCII digits.
func decimal(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Speaker returns the reader (speaker) of a LibriSpeech utterance id:
// 4088 for "4088-158077-0001".
func Speaker(utt string) (int, error) {
	id, err := ParseUttID(utt)
	return id.Reader, err
}

// Speakers maps the readers of a set of utterances to classes 0..Len()-1
// for a speaker probe. Classes follow the reader numbers in ascending
// numeric order, so the mapping depends only on the set of readers, not on
// the order or number of utterances.
type Speakers struct {
	readers []int       // class -> reader, ascending
	class   map[int]int // reader -> class
}

// NewSpeakers collects the readers of utts. A malformed id wraps
// ErrUtterance.
func NewSpeakers(utts []string) (*Speakers, error) {
	s := &Speakers{class: make(map[int]int)}
	for _, u := range utts {
		r, err := Speaker(u)
		if err != nil {
			return nil, err
		}
		if _, ok := s.class[r]; !ok {
			s.class[r] = -1
			s.readers = append(s.readers, r)
		}
	}
	slices.Sort(s.readers)
	for c, r := range s.readers {
		s.class[r] = c
	}
	return s, nil
}

// Len returns the number of speaker classes.
func (s *Speakers) Len() int { return len(s.readers) }

// Readers returns the reader of each class, ascending (a copy).
func (s *Speakers) Readers() []int { return slices.Clone(s.readers) }

// Reader returns the reader of class c. It panics if c is out of range.
func (s *Speakers) Reader(c int) int { return s.readers[c] }

// Class returns the speaker class of an utterance. A malformed id, or a
// reader not in the set, wraps ErrUtterance.
func (s *Speakers) Class(utt string) (int, error) {
	r, err := Speaker(utt)
	if err != nil {
		return 0, err
	}
	c, ok := s.class[r]
	if !ok {
		return 0, fmt.Errorf("%w %q: reader %d is not among the %d speakers", ErrUtterance, utt, r, len(s.readers))
	}
	return c, nil
}
