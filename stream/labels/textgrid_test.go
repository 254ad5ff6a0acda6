package labels

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// smallGrid is a long-format TextGrid of 0.1 s whose line numbers the
// error cases below refer to.
const smallGrid = `File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 0.1
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 0.1
        intervals: size = 1
        intervals [1]:
            xmin = 0
            xmax = 0.1
            text = "cat"
    item [2]:
        class = "IntervalTier"
        name = "phones"
        xmin = 0
        xmax = 0.1
        intervals: size = 4
        intervals [1]:
            xmin = 0
            xmax = 0.02
            text = "sil"
        intervals [2]:
            xmin = 0.02
            xmax = 0.05
            text = "K"
        intervals [3]:
            xmin = 0.05
            xmax = 0.08
            text = "AE1"
        intervals [4]:
            xmin = 0.08
            xmax = 0.1
            text = "T"
`

// smallGridShort is smallGrid in Praat's short format.
const smallGridShort = `File type = "ooTextFile"
Object class = "TextGrid"

0
0.1
<exists>
2
"IntervalTier"
"words"
0
0.1
1
0
0.1
"cat"
"IntervalTier"
"phones"
0
0.1
4
0
0.02
"sil"
0.02
0.05
"K"
0.05
0.08
"AE1"
0.08
0.1
"T"
`

var smallGridPhones = []uint8{0, 0, 20, 20, 20, 2, 2, 2, 31, 31} // sil K AE T

// withLine returns smallGrid with line n (1-based) replaced.
func withLine(n int, text string) string {
	lines := strings.Split(smallGrid, "\n")
	lines[n-1] = text
	return strings.Join(lines, "\n")
}

func clearLines(tg *TextGrid) {
	for i := range tg.Tiers {
		tg.Tiers[i].Line = 0
		for k := range tg.Tiers[i].Intervals {
			tg.Tiers[i].Intervals[k].Line = 0
		}
		for k := range tg.Tiers[i].Points {
			tg.Tiers[i].Points[k].Line = 0
		}
	}
}

func utf16Bytes(s string, big bool) []byte {
	u := utf16.Encode([]rune(s))
	out := []byte{0xFF, 0xFE}
	if big {
		out = []byte{0xFE, 0xFF}
	}
	for _, v := range u {
		if big {
			out = append(out, byte(v>>8), byte(v))
		} else {
			out = append(out, byte(v), byte(v>>8))
		}
	}
	return out
}

func TestParseTextGridFormats(t *testing.T) {
	cafe := strings.Replace(smallGrid, `"cat"`, `"café ""quoted"""`, 1)
	tests := []struct {
		name string
		data []byte
		word string
	}{
		{"long", []byte(smallGrid), "cat"},
		{"short", []byte(smallGridShort), "cat"},
		{"crlf", []byte(strings.ReplaceAll(smallGrid, "\n", "\r\n")), "cat"},
		{"utf8 bom", append([]byte{0xEF, 0xBB, 0xBF}, smallGrid...), "cat"},
		{"utf16 be", utf16Bytes(cafe, true), `café "quoted"`},
		{"utf16 le", utf16Bytes(cafe, false), `café "quoted"`},
		{"comments", []byte(strings.Replace(smallGrid, "size = 2", "size = 2 ! two tiers \"x\" 7", 1)), "cat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := ParseTextGrid(tc.data, "small.TextGrid")
			if err != nil {
				t.Fatal(err)
			}
			if tg.XMin != 0 || tg.XMax != 0.1 || len(tg.Tiers) != 2 {
				t.Fatalf("grid [%g, %g] with %d tiers", tg.XMin, tg.XMax, len(tg.Tiers))
			}
			if got := tg.Tiers[0].Intervals[0].Text; got != tc.word {
				t.Errorf("word %q, want %q", got, tc.word)
			}
			s, err := tg.Phones()
			if err != nil {
				t.Fatal(err)
			}
			if s.Utt != "small" || !slices.Equal(s.Classes, smallGridPhones) {
				t.Errorf("phones %q %v, want small %v", s.Utt, s.Classes, smallGridPhones)
			}
		})
	}
}

func TestParseTextGridLines(t *testing.T) {
	tg, err := ParseTextGrid([]byte(smallGrid), "small.TextGrid")
	if err != nil {
		t.Fatal(err)
	}
	ph := tg.Tiers[1]
	if ph.Line != 20 {
		t.Errorf("tier line %d, want 20", ph.Line)
	}
	for k, want := range []int{26, 30, 34, 38} {
		if got := ph.Intervals[k].Line; got != want {
			t.Errorf("interval %d on line %d, want %d", k+1, got, want)
		}
	}
}

func TestParseTextGridErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		err  error
		line int    // 0: no line in the message
		want string // part of the message
	}{
		{"bad number", withLine(31, "xmax = 0.0x5"), ErrTextGrid, 31, `tier 2 "phones" interval 2: xmax: bad number "0.0x5"`},
		{"infinite number", withLine(31, "xmax = 1e999"), ErrTextGrid, 31, `bad number "1e999"`},
		{"minus infinity", withLine(26, "xmin = -Inf"), ErrTextGrid, 26, `bad number "-Inf"`},
		{"huge time", withLine(5, "xmax = 2e6"), ErrTextGrid, 5, "out of range"},
		{"missing number", withLine(17, ""), ErrTextGrid, 18, `tier 1 "words" interval 1: found string "cat" where xmax (a number) should be`},
		{"missing interval value", withLine(39, ""), ErrTextGrid, 24, "4 announced, but the file holds at most 3"},
		{"overlap", withLine(34, "xmin = 0.04"), ErrTextGrid, 34, "interval [0.04, 0.08] overlaps the previous interval [0.02, 0.05]"},
		{"unordered", withLine(34, "xmin = 0.01"), ErrTextGrid, 34, "out of order"},
		{"interval xmax before xmin", withLine(35, "xmax = 0.04"), ErrTextGrid, 35, "interval 3: xmax 0.04 before xmin 0.05"},
		{"tier xmax before xmin", withLine(23, "xmax = -1"), ErrTextGrid, 23, `tier 2 "phones": xmax -1 before xmin 0`},
		{"grid xmax before xmin", withLine(5, "xmax = -0.1"), ErrTextGrid, 5, "xmax -0.1 before xmin 0"},
		{"tier outside grid", withLine(23, "xmax = 0.2"), ErrTextGrid, 23, "outside the grid"},
		{"interval outside tier", withLine(39, "xmax = 0.2"), ErrTextGrid, 38, "outside its tier"},
		{"size too large", withLine(24, "intervals: size = 5"), ErrTextGrid, 24, "5 announced"},
		{"size too small", withLine(24, "intervals: size = 3"), ErrTextGrid, 38, `unexpected number "0.08" after the last tier`},
		{"negative size", withLine(7, "size = -1"), ErrTextGrid, 7, `bad count "-1"`},
		{"truncated intervals", strings.Join(strings.Split(smallGrid, "\n")[:30], "\n"), ErrTextGrid, 24, "4 announced, but the file holds at most 1"},
		{"truncated header", strings.Join(strings.Split(smallGrid, "\n")[:5], "\n"), ErrTextGrid, 5, "file ends where tiers? <exists> (a flag) should be"},
		{"unclosed string", withLine(40, `text = "T`), ErrTextGrid, 40, "string not closed"},
		{"text after quote", withLine(40, `text = "T"x`), ErrTextGrid, 40, `character 'x' after the closing quote`},
		{"unclosed flag", withLine(6, "tiers? <exists"), ErrTextGrid, 6, "flag <...> not closed"},
		{"bad flag", withLine(6, "tiers? <maybe>"), ErrTextGrid, 6, "tiers? <maybe>"},
		{"binary", withLine(1, `File type = "ooBinaryFile"`), ErrTextGrid, 1, `file type "ooBinaryFile"`},
		{"not a TextGrid", withLine(2, `Object class = "Pitch 1"`), ErrTextGrid, 2, `object class "Pitch 1"`},
		{"bad tier class", withLine(20, `class = "PointTier"`), ErrTextGrid, 20, `tier class "PointTier"`},
		{"empty", "", ErrTextGrid, 1, "file ends where file type"},
		{"not utf8", withLine(40, "text = \"\xff\""), ErrTextGrid, 0, "neither UTF-8 nor UTF-16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := ParseTextGrid([]byte(tc.data), "small.TextGrid")
			if err == nil {
				t.Fatalf("no error; grid %+v", tg)
			}
			checkError(t, err, tc.err, "small.TextGrid", tc.line, tc.want)
		})
	}
}

// TestPhonesErrors covers grids that parse but have no phone labels.
func TestPhonesErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		err  error
		line int
		want string
	}{
		{"missing tier", withLine(21, `name = "phone"`), ErrNoTier, 0, `no tier "phones" (tiers: "words", "phone")`},
		{"two phone tiers", withLine(11, `name = "phones"`), ErrNoTier, 20, `two tiers named "phones"`},
		{"unknown phone", withLine(36, `text = "XX1"`), ErrUnknownSymbol, 34, `tier "phones" interval 3 [0.05 s, 0.08 s]: unknown symbol "XX1"`},
		{"stress on consonant", withLine(40, `text = "T1"`), ErrUnknownSymbol, 38, `interval 4 [0.08 s, 0.1 s]: unknown symbol "T1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := ParseTextGrid([]byte(tc.data), "small.TextGrid")
			if err != nil {
				t.Fatal(err)
			}
			s, err := tg.Phones()
			if err == nil {
				t.Fatalf("no error; labels %v", s.Classes)
			}
			checkError(t, err, tc.err, "small.TextGrid", tc.line, tc.want)
		})
	}
}

func checkError(t *testing.T, err, sentinel error, file string, line int, want string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %q", err, sentinel)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is not an *Error", err)
	}
	if e.File != file || e.Line != line {
		t.Errorf("error at %s:%d, want %s:%d", e.File, e.Line, file, line)
	}
	msg := err.Error()
	loc := fmt.Sprintf("labels: %s:%d: ", file, line)
	if line == 0 {
		loc = fmt.Sprintf("labels: %s: ", file)
	}
	if !strings.HasPrefix(msg, loc) || !strings.Contains(msg, want) {
		t.Errorf("error %q, want %q...%q", msg, loc, want)
	}
}

// TestSharedTextGrids parses every shared alignment and checks its labels
// against the audio length and against a plain float lookup of each grid
// time in the tier, and that the grid survives a round trip through both
// text formats.
func TestSharedTextGrids(t *testing.T) {
	perClass := make([]int, NumPhones)
	total := 0
	for _, path := range sharedTextGrids(t) {
		tg, err := ReadTextGrid(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := tg.Phones()
		if err != nil {
			t.Fatal(err)
		}
		n := flacSamples(t, flacFor(t, path))
		// floor(duration x 100) in exact integers: duration = n / 16000 s.
		if want := n * 100 / 16000; s.Len() != want {
			t.Errorf("%s: %d labels, want floor(%d/16000 s x 100) = %d", path, s.Len(), n, want)
		}
		if tg.Samples() != n {
			t.Errorf("%s: xmax %g s = %d samples, audio has %d", path, tg.XMax, tg.Samples(), n)
		}
		if s.Utt != strings.TrimSuffix(filepath.Base(path), ".TextGrid") {
			t.Errorf("%s: utterance %q", path, s.Utt)
		}
		tier, _ := tg.Tier(PhoneTier)
		for j, c := range s.Classes {
			if int(c) >= NumPhones {
				t.Fatalf("%s: label %d is class %d", path, j, c)
			}
			if want := lookupPhone(t, tier, (float64(j)+0.5)/100); c != want {
				t.Errorf("%s: label %d (%.3f s) is %s, the tier says %s", path, j, (float64(j)+0.5)/100, phoneNames[c], phoneNames[want])
			}
			perClass[c]++
		}
		total += s.Len()
		for _, long := range []bool{true, false} {
			again, err := ParseTextGrid([]byte(formatTextGrid(tg, long)), path)
			if err != nil {
				t.Fatalf("%s: round trip (long %v): %v", path, long, err)
			}
			a, b := *tg, *again
			clearLines(&a)
			clearLines(&b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: round trip (long %v) changed the grid", path, long)
			}
		}
	}
	// 100.5 minutes of audio, all 40 classes present.
	if total < 600000 || total > 610000 {
		t.Errorf("%d labels in all", total)
	}
	for c, n := range perClass {
		if n == 0 {
			t.Errorf("class %d (%s) never occurs", c, phoneNames[c])
		}
	}
}

// lookupPhone is the reference: the interval holding time sec, by float
// comparison (no boundary of the shared files falls on a grid time).
func lookupPhone(t *testing.T, tier *Tier, sec float64) uint8 {
	for _, iv := range tier.Intervals {
		if iv.XMin <= sec && sec < iv.XMax {
			c, ok := PhoneClass(iv.Text)
			if !ok {
				t.Fatalf("unknown phone %q", iv.Text)
			}
			return c
		}
	}
	return Silence
}

// TestHandChecked compares labels of one file with its intervals as read
// by eye (phones tier, lines 161-200 and the last ones):
//
//	[0.000, 0.240] "sil"  [0.240, 0.400] "AE1"  [0.400, 0.490] "S"
//	[0.490, 0.550] "K"    [0.550, 0.610] "IH0"  [0.610, 0.670] "NG"
//	...
//	[12.250, 12.330] "T"  [12.330, 12.420] "sp"  [12.420, 12.44] ""
func TestHandChecked(t *testing.T) {
	a, err := OpenAlignments(alignmentRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.Phones("4088-158079-0014")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1244 {
		t.Fatalf("%d labels, want 1244 (12.44 s)", s.Len())
	}
	runs := []struct {
		from, to int // grid positions [from, to)
		phone    string
	}{
		{0, 24, "sil"}, // centres 0.005 .. 0.235 s
		{24, 40, "AE"}, // 0.245 .. 0.395
		{40, 49, "S"},
		{49, 55, "K"},
		{55, 61, "IH"},
		{61, 67, "NG"},
		{1225, 1233, "T"},
		{1233, 1242, "sil"}, // "sp"
		{1242, 1244, "sil"}, // ""
	}
	for _, r := range runs {
		want, ok := PhoneClass(r.phone)
		if !ok {
			t.Fatalf("no class for %s", r.phone)
		}
		for j := r.from; j < r.to; j++ {
			if s.Classes[j] != want {
				t.Errorf("label %d is %s, want %s", j, phoneNames[s.Classes[j]], r.phone)
			}
		}
	}
}

func TestAlignments(t *testing.T) {
	root := alignmentRoot(t)
	a, err := OpenAlignments(root)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for s, err := range a.All() {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.Utt)
	}
	want := make([]string, 0, 496)
	for _, p := range sharedTextGrids(t) {
		want = append(want, strings.TrimSuffix(filepath.Base(p), ".TextGrid"))
	}
	if !slices.Equal(ids, want) {
		t.Errorf("All yields %d utterances, want the %d files in order", len(ids), len(want))
	}
	n := 0
	for range a.All() {
		if n++; n == 3 {
			break
		}
	}
	s, err := a.Phones(want[17])
	if err != nil {
		t.Fatal(err)
	}
	tg, err := ReadTextGrid(filepath.Join(root, strings.ReplaceAll(want[17][:strings.LastIndex(want[17], "-")], "-", "/"), want[17]+".TextGrid"))
	if err != nil {
		t.Fatal(err)
	}
	if direct, _ := tg.Phones(); !reflect.DeepEqual(s, direct) {
		t.Errorf("Phones(%s) differs from reading the file", want[17])
	}
	if _, err := a.Phones("4088-158079-9999"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing utterance: %v", err)
	}
	if _, err := a.Phones("../../etc/passwd"); !errors.Is(err, ErrUtterance) {
		t.Errorf("bad id: %v", err)
	}
	if _, err := OpenAlignments(filepath.Join(root, "nowhere")); err == nil {
		t.Error("opened a missing root")
	}
}

// TestAlignmentsBadFile: a corrupt file is reported and the walk goes on.
func TestAlignmentsBadFile(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"1/2/1-2-0000.TextGrid": smallGrid,
		"1/2/1-2-0001.TextGrid": withLine(31, "xmax = oops"),
		"1/2/1-2-0002.TextGrid": smallGridShort,
		"1/2/notes.txt":         "not a grid",
	}
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := OpenAlignments(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for s, err := range a.All() {
		got = append(got, fmt.Sprintf("%s %v", s.Utt, err != nil))
		if err != nil && !errors.Is(err, ErrTextGrid) {
			t.Errorf("error %v does not wrap ErrTextGrid", err)
		}
	}
	want := []string{"1-2-0000 false", "1-2-0001 true", "1-2-0002 false"}
	if !slices.Equal(got, want) {
		t.Errorf("walk yields %q, want %q", got, want)
	}
}
