package labels

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseUttID(t *testing.T) {
	tests := []struct {
		id   string
		want UttID
		ok   bool
	}{
		{"4088-158077-0001", UttID{4088, 158077, 1}, true},
		{"19-198-0000", UttID{19, 198, 0}, true},
		{"4088-158077", UttID{}, false},
		{"4088-158077-0001-2", UttID{}, false},
		{"4088--0001", UttID{}, false},
		{"a088-158077-0001", UttID{}, false},
		{"4088-158077-+001", UttID{}, false},
		{"4088-158077-0001.flac", UttID{}, false},
		{"1234567890-1-1", UttID{}, false},
		{"", UttID{}, false},
	}
	for _, tc := range tests {
		got, err := ParseUttID(tc.id)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseUttID(%q) = %+v, %v", tc.id, got, err)
		}
		if err != nil && (!errors.Is(err, ErrUtterance) || !strings.Contains(err.Error(), tc.id)) {
			t.Errorf("ParseUttID(%q): error %v does not name the id", tc.id, err)
		}
	}
	if r, err := Speaker("4088-158077-0001"); r != 4088 || err != nil {
		t.Errorf("Speaker = %d, %v", r, err)
	}
}

func TestSpeakers(t *testing.T) {
	var utts []string
	for _, p := range sharedTextGrids(t) {
		utts = append(utts, strings.TrimSuffix(filepath.Base(p), ".TextGrid"))
	}
	s, err := NewSpeakers(utts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{4088, 4406, 5652, 8226}; !slices.Equal(s.Readers(), want) {
		t.Fatalf("readers %v, want %v", s.Readers(), want)
	}
	count := make([]int, s.Len())
	for _, u := range utts {
		c, err := s.Class(u)
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := Speaker(u); s.Reader(c) != r {
			t.Errorf("%s: class %d is reader %d", u, c, s.Reader(c))
		}
		count[c]++
	}
	for c, n := range count {
		if n < 100 {
			t.Errorf("class %d has %d utterances", c, n)
		}
	}
	// The mapping depends on the set of readers only.
	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := slices.Clone(utts[:200])
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	shuffled = append(shuffled, utts[200:]...)
	again, err := NewSpeakers(shuffled)
	if err != nil || !slices.Equal(again.Readers(), s.Readers()) {
		t.Errorf("shuffled: %v, %v", again.Readers(), err)
	}
	// Numeric, not lexical, order.
	few, _ := NewSpeakers([]string{"911-1-1", "1000-1-1", "911-2-2"})
	if !slices.Equal(few.Readers(), []int{911, 1000}) {
		t.Errorf("readers %v", few.Readers())
	}
	if _, err := s.Class("19-198-0000"); !errors.Is(err, ErrUtterance) {
		t.Errorf("unknown reader: %v", err)
	}
	if _, err := NewSpeakers([]string{"4088-158077-0001", "oops"}); !errors.Is(err, ErrUtterance) {
		t.Errorf("bad id: %v", err)
	}
}
