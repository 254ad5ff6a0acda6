package labels

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseTextGrid: any input parses or gives an *Error naming it; what
// parses survives a round trip through both text formats; its phones are
// on the grid or a clean error. The seeds are the 496 shared files (about
// 14 KB each); minimising a new input that size takes the whole default
// minute, so run it as
//
//	go test -run '^$' -fuzz '^FuzzParseTextGrid$' -fuzzminimizetime 2s -fuzztime 300000x ./stream/labels/
//
// (a count rather than a duration also avoids go1.26's spurious "context
// deadline exceeded" at the end of -fuzztime, golang/go#75804).
func FuzzParseTextGrid(f *testing.F) {
	for _, path := range sharedTextGrids(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	tg, err := ReadTextGrid(sharedTextGrids(f)[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(formatTextGrid(tg, false)))
	f.Add([]byte(smallGrid))
	f.Add([]byte(smallGridShort))
	f.Add(utf16Bytes(smallGrid, true))
	f.Add(utf16Bytes(smallGridShort, false))
	f.Add([]byte(withLine(34, "xmin = 0.04")))
	f.Add([]byte(withLine(21, `class = "TextTier"`)))
	f.Add([]byte("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n0 1 <exists> 1\n\"TextTier\" \"p\" 0 1 2\n0.5 \"a\" 0.7 \"b\"\n"))
	f.Add([]byte("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n0 1 <absent>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tg, err := ParseTextGrid(data, "fuzz.TextGrid")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.TextGrid" || !errors.Is(err, ErrTextGrid) {
				t.Fatalf("error %q is not an *Error naming the input and wrapping ErrTextGrid", err)
			}
			return
		}
		for _, long := range []bool{true, false} {
			again, err := ParseTextGrid([]byte(formatTextGrid(tg, long)), "fuzz.TextGrid")
			if err != nil {
				t.Fatalf("round trip (long %v): %v\n%s", long, err, formatTextGrid(tg, long))
			}
			a, b := *tg, *again
			clearLines(&a)
			clearLines(&b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip (long %v) changed %+v into %+v", long, a, b)
			}
		}
		if tg.XMax > 600 {
			return // keep each run small; lengths are covered by the tests
		}
		s, err := tg.Phones()
		if err != nil {
			if !errors.Is(err, ErrNoTier) && !errors.Is(err, ErrUnknownSymbol) && !errors.Is(err, ErrTextGrid) {
				t.Fatalf("phones: unexpected error %v", err)
			}
			return
		}
		if s.Len() != GridLen(tg.Samples()) {
			t.Fatalf("%d labels for %d samples", s.Len(), tg.Samples())
		}
		for _, c := range s.Classes {
			if c >= NumPhones {
				t.Fatalf("class %d", c)
			}
		}
	})
}

// FuzzParseCPCLine: any line parses or gives ErrCPC; what parses
// re-formats to the same labels, and reads the same through ReadCPC.
func FuzzParseCPCLine(f *testing.F) {
	data, err := os.ReadFile(cpcSample(f))
	if err != nil {
		f.Fatal(err)
	}
	for line := range bytes.Lines(data) {
		f.Add(bytes.TrimSuffix(line, []byte("\n")))
	}
	for _, s := range []string{"", " ", "a", "a 0", "a 40", "a 41", "a\t1\t2\r", "a -1", "a 1.5", "a 00 07", "a b c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		utt, classes, err := ParseCPCLine(line)
		if err != nil {
			if !errors.Is(err, ErrCPC) {
				t.Fatalf("error %v does not wrap ErrCPC", err)
			}
			return
		}
		if utt == "" || strings.ContainsAny(utt, " \t") || len(classes) == 0 {
			t.Fatalf("parsed %q into %q %v", line, utt, classes)
		}
		var b strings.Builder
		b.WriteString(utt)
		for _, c := range classes {
			if c >= NumCPCClasses {
				t.Fatalf("class %d", c)
			}
			b.WriteString(" " + strconv.Itoa(int(c)))
		}
		utt2, classes2, err := ParseCPCLine([]byte(b.String()))
		if err != nil || utt2 != utt || !slices.Equal(classes2, classes) {
			t.Fatalf("re-formatted %q: %q %v %v", b.String(), utt2, classes2, err)
		}
		if bytes.ContainsRune(line, '\n') {
			return
		}
		got, err := ReadCPC(bytes.NewReader(line), "fuzz.txt", nil)
		if err != nil || len(got) != 1 || !slices.Equal(got[utt], classes) {
			t.Fatalf("ReadCPC of %q: %v, %v", line, got, err)
		}
	})
}
