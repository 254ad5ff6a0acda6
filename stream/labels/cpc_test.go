package labels

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"clapp/stream/streamtest"
)

func cpcSample(t testing.TB) string {
	return streamtest.DataDir(t, "cpc", "converted_aligned_phones.sample.txt")
}

// cpcAudio are the sample utterances that have audio, with their frames.
var cpcAudio = []struct {
	utt    string
	frames int
}{
	{"4051-11218-0044", 1119},
	{"2911-12359-0007", 508},
}

func cpcFlac(t testing.TB, utt string) string {
	p := strings.Split(utt, "-")
	return streamtest.DataDir(t, "cpc", "audio", p[0], p[1], utt+".flac")
}

func TestReadCPCSample(t *testing.T) {
	path := cpcSample(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := ReadCPC(f, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"1737-148989-0038": 1523, "1116-132851-0018": 330, "696-92939-0032": 1645,
		"3723-171115-0003": 756, "4051-11218-0044": 1119, "2911-12359-0007": 508,
	}
	if len(all) != len(want) {
		t.Errorf("%d utterances, want %d", len(all), len(want))
	}
	seen := map[uint8]bool{}
	for utt, n := range want {
		if len(all[utt]) != n {
			t.Errorf("%s: %d labels, want %d", utt, len(all[utt]), n)
		}
		for _, c := range all[utt] {
			seen[c] = true
		}
	}
	if len(seen) < 35 || !seen[0] || !seen[40] {
		t.Errorf("only %d distinct classes", len(seen))
	}
	if got := all["1737-148989-0038"][:33]; !slices.Equal(got[30:], []uint8{35, 35, 35}) || got[0] != 0 {
		t.Errorf("first labels %v", got)
	}

	// Keeping only some ids.
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	some, err := ReadCPC(f, path, func(u string) bool { return u == "2911-12359-0007" })
	if err != nil || len(some) != 1 || !slices.Equal(some["2911-12359-0007"], all["2911-12359-0007"]) {
		t.Errorf("kept %d utterances, %v", len(some), err)
	}

	// The index reads the same labels.
	idx, err := OpenCPC(path)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if idx.Len() != 6 || !idx.Has("696-92939-0032") || idx.Has("696-92939-0033") {
		t.Errorf("index of %d", idx.Len())
	}
	ids := idx.Utterances()
	if !slices.IsSorted(ids) || len(ids) != 6 {
		t.Errorf("ids %v", ids)
	}
	for _, id := range ids {
		got, err := idx.Labels(id)
		if err != nil || !slices.Equal(got, all[id]) {
			t.Errorf("%s: index gives %d labels, %v", id, len(got), err)
		}
	}
	if _, err := idx.Labels("1-2-3"); !errors.Is(err, ErrUtterance) {
		t.Errorf("missing id: %v", err)
	}
}

// TestCPCAgainstAudio checks the label counts against the FLAC lengths and
// the mapping onto the grid against a brute-force nearest-centre search.
func TestCPCAgainstAudio(t *testing.T) {
	idx, err := OpenCPC(cpcSample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	for _, tc := range cpcAudio {
		t.Run(tc.utt, func(t *testing.T) {
			n := flacSamples(t, cpcFlac(t, tc.utt))
			cpc, err := idx.Labels(tc.utt)
			if err != nil {
				t.Fatal(err)
			}
			if len(cpc) != tc.frames || CPCFrames(n) != tc.frames {
				t.Fatalf("%d labels, %d frames for %d samples; want %d", len(cpc), CPCFrames(n), n, tc.frames)
			}
			s, err := CPCToGrid(tc.utt, cpc, n)
			if err != nil {
				t.Fatal(err)
			}
			if s.Len() != GridLen(n) || s.Utt != tc.utt {
				t.Fatalf("%d grid labels, want %d", s.Len(), GridLen(n))
			}
			extrapolated := 0
			for j := range s.Len() {
				centre := 160*j + 80
				best, bestD := -1, 0
				for i := range cpc {
					d := abs(160*i + 200 - centre)
					if best < 0 || d < bestD {
						best, bestD = i, d
					}
				}
				if got := CPCFrameOf(j, len(cpc)); got != best {
					t.Fatalf("grid %d takes frame %d, nearest is %d", j, got, best)
				}
				if s.Classes[j] != cpc[best] {
					t.Fatalf("grid %d has class %d, frame %d has %d", j, s.Classes[j], best, cpc[best])
				}
				if bestD > 40 {
					extrapolated++
				}
			}
			// One position at the start; one at the end when n mod 160 < 80.
			want := 1
			if n%160 < 80 {
				want = 2
			}
			if extrapolated != want {
				t.Errorf("%d positions extrapolated (n mod 160 = %d), want %d", extrapolated, n%160, want)
			}
		})
	}
	if _, err := CPCToGrid("x", make([]uint8, 1118), 179360); !errors.Is(err, ErrLength) {
		t.Errorf("short labels: %v", err)
	}
	if _, err := CPCToGrid("x", nil, 399); !errors.Is(err, ErrLength) {
		t.Errorf("no frames: %v", err)
	}
}

func abs(x int) int { return max(x, -x) }

func TestCPCFrames(t *testing.T) {
	for _, tc := range []struct{ samples, want int }{
		{0, 0}, {399, 0}, {400, 1}, {559, 1}, {560, 2}, {179360, 1119}, {81520, 508},
	} {
		if got := CPCFrames(tc.samples); got != tc.want {
			t.Errorf("CPCFrames(%d) = %d, want %d", tc.samples, got, tc.want)
		}
	}
}

func TestParseCPCLine(t *testing.T) {
	tests := []struct {
		line    string
		utt     string
		classes []uint8
		err     string
	}{
		{"1-2-3 0 40 7", "1-2-3", []uint8{0, 40, 7}, ""},
		{"1-2-3\t0  05\r", "1-2-3", []uint8{0, 5}, ""},
		{"1-2-3 0 1 ", "1-2-3", []uint8{0, 1}, ""},
		{"", "", nil, "empty line"},
		{"   ", "", nil, "empty line"},
		{"1-2-3", "", nil, "utterance 1-2-3 has no labels"},
		{"1-2-3 0 41", "", nil, `label 2 "41" is not an integer in 0..40`},
		{"1-2-3 0 100", "", nil, `label 2 "100"`},
		{"1-2-3 -1", "", nil, `label 1 "-1"`},
		{"1-2-3 +1", "", nil, `label 1 "+1"`},
		{"1-2-3 1.0", "", nil, `label 1 "1.0"`},
		{"1-2-3 0 x 1", "", nil, `label 2 "x"`},
	}
	for _, tc := range tests {
		utt, classes, err := ParseCPCLine([]byte(tc.line))
		if tc.err != "" {
			if !errors.Is(err, ErrCPC) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want ErrCPC with %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || utt != tc.utt || !slices.Equal(classes, tc.classes) {
			t.Errorf("%q: %q %v %v", tc.line, utt, classes, err)
		}
	}
}

func TestCPCFileErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		line int
		want string
		lazy bool // found only when the labels are read, not when indexing
	}{
		{"non-integer", "a-1-1 0 1\nb-1-1 0 x\n", 2, `utterance b-1-1: label 2 "x" is not an integer in 0..40`, true},
		{"out of range", "a-1-1 0 1\nb-1-1 0 1\nc-1-1 41\n", 3, `label 1 "41"`, true},
		{"no labels", "a-1-1\n", 1, "utterance a-1-1 has no labels", true},
		{"empty line", "a-1-1 0\n\nb-1-1 0\n", 2, "empty line", false},
		{"blank line", "a-1-1 0\n \t\r\n", 2, "empty line", false},
		{"duplicate", "a-1-1 0\nb-1-1 0\na-1-1 1\n", 3, "utterance a-1-1 already on line 1", false},
		{"long line", "a-1-1" + strings.Repeat(" 1", maxCPCLine/2+1) + "\n", 1, "line longer than", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCPC(strings.NewReader(tc.text), "phones.txt", nil)
			checkError(t, err, ErrCPC, "phones.txt", tc.line, tc.want)

			path := filepath.Join(t.TempDir(), "phones.txt")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			idx, err := OpenCPC(path)
			if !tc.lazy {
				checkError(t, err, ErrCPC, path, tc.line, tc.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer idx.Close()
			var lerr error
			for _, id := range idx.Utterances() {
				if _, err := idx.Labels(id); err != nil {
					lerr = err
				}
			}
			checkError(t, lerr, ErrCPC, path, tc.line, tc.want)
		})
	}
}

// TestReadCPCNoFinalNewline: the last line counts without its "\n", and
// lines that are not kept are not parsed.
func TestReadCPCNoFinalNewline(t *testing.T) {
	text := "a-1-1 0 1\nb-1-1 x\nc-1-1 2 3"
	got, err := ReadCPC(bytes.NewReader([]byte(text)), "p", func(u string) bool { return u != "b-1-1" })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Equal(got["c-1-1"], []uint8{2, 3}) {
		t.Errorf("read %v", got)
	}
}

// TestCPCVersusLayer5 checks the pairing doc.go states: CPC frame i is
// nearest layer-5 frame i + 1, and trimming layer 5 from the front to the
// label count pairs it with frame i + 2, or i + 3 when 41 <= N mod 160 < 80.
func TestCPCVersusLayer5(t *testing.T) {
	g, err := NewGeometry(PaperEncoder())
	if err != nil {
		t.Fatal(err)
	}
	f5 := g.Field(5)
	for n := 160 * 40; n < 160*42; n++ {
		m, frames := CPCFrames(n), g.Frames(5, n)
		want := 2
		if r := n % 160; r >= 41 && r < 80 {
			want = 3
		}
		if frames-m != want {
			t.Fatalf("N = %d: layer 5 has %d frames, CPC %d: trimming shifts by %d, want %d", n, frames, m, frames-m, want)
		}
		for i := range m {
			best, bestD := -1, 0.0
			for tt := range frames {
				if d := math.Abs(f5.Centre(tt) - float64(160*i+200)); best < 0 || d < bestD {
					best, bestD = tt, d
				}
			}
			if best != i+1 {
				t.Fatalf("N = %d: CPC frame %d is nearest layer-5 frame %d", n, i, best)
			}
		}
	}
}
