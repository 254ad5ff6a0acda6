package labels

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

func TestPhoneNames(t *testing.T) {
	names := PhoneNames()
	if len(names) != NumPhones || names[Silence] != "sil" {
		t.Fatalf("%d names, class %d is %q", len(names), Silence, names[Silence])
	}
	if !slices.IsSorted(names[1:]) {
		t.Errorf("phones not in alphabetical order: %v", names[1:])
	}
	for c, name := range names {
		if got, ok := PhoneClass(name); !ok || int(got) != c {
			t.Errorf("PhoneClass(%q) = %d, %v; want %d", name, got, ok, c)
		}
	}
	names[1] = "XX"
	if PhoneNames()[1] != "AA" {
		t.Error("PhoneNames returns the table itself")
	}
}

func TestPhoneClass(t *testing.T) {
	tests := []struct {
		symbol string
		class  uint8
		ok     bool
	}{
		{"AA", 1, true},
		{"AH0", 3, true},
		{"AH1", 3, true},
		{"AH2", 3, true},
		{"ah1", 3, true},
		{" ER0 ", 12, true},
		{"ZH", 39, true},
		{"NG", 24, true},
		{"sil", Silence, true},
		{"sp", Silence, true},
		{"spn", Silence, true},
		{"", Silence, true},
		{"  ", Silence, true},
		{"AH3", 0, false},  // no such stress
		{"T1", 0, false},   // consonants carry no stress
		{"sil0", 0, false}, // nor does silence
		{"AX", 0, false},   // not in the 39
		{"XX1", 0, false},
		{"A", 0, false},
		{"1", 0, false},
	}
	for _, tc := range tests {
		c, ok := PhoneClass(tc.symbol)
		if c != tc.class || ok != tc.ok {
			t.Errorf("PhoneClass(%q) = %d, %v; want %d, %v", tc.symbol, c, ok, tc.class, tc.ok)
		}
	}
}

// TestPhoneTableInDoc keeps the class table in doc.go true.
func TestPhoneTableInDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	pairs := regexp.MustCompile(`(?m)^//\t(?:\d+ +[A-Za-z]+ *)+$`).FindAll(doc, -1)
	got := make([]string, NumPhones)
	n := 0
	for _, line := range pairs {
		f := regexp.MustCompile(`(\d+) +([A-Za-z]+)`).FindAllSubmatch(line, -1)
		for _, m := range f {
			c, _ := strconv.Atoi(string(m[1]))
			if c >= NumPhones || got[c] != "" {
				t.Fatalf("doc.go: class %d twice or out of range", c)
			}
			got[c] = string(m[2])
			n++
		}
	}
	if n != NumPhones || !slices.Equal(got, PhoneNames()) {
		t.Errorf("doc.go table %v, want %v", got, PhoneNames())
	}
}
