package labels

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"clapp/stream/frame"
)

func TestGridLen(t *testing.T) {
	for _, tc := range []struct{ samples, want int }{
		{-5, 0}, {0, 0}, {159, 0}, {160, 1}, {319, 1}, {20480, 128}, {179360, 1121}, {81520, 509},
	} {
		if got := GridLen(tc.samples); got != tc.want {
			t.Errorf("GridLen(%d) = %d, want %d", tc.samples, got, tc.want)
		}
	}
	if GridCentre(0) != 80 || GridCentre(3) != 560 {
		t.Errorf("grid centres %g, %g", GridCentre(0), GridCentre(3))
	}
}

// letters classifies one-letter texts a..z as 1..26 and the empty text as 0.
func letters(text string) (uint8, bool) {
	if text == "" {
		return 0, true
	}
	if len(text) == 1 && text[0] >= 'a' && text[0] <= 'z' {
		return text[0] - 'a' + 1, true
	}
	return 0, false
}

func TestTierGrid(t *testing.T) {
	iv := func(a, b float64, text string) Interval { return Interval{XMin: a, XMax: b, Text: text} }
	tests := []struct {
		name      string
		intervals []Interval
		samples   int
		want      string // one letter per grid position, '.' for 0
	}{
		{"contiguous", []Interval{iv(0, 0.02, "a"), iv(0.02, 0.05, "b")}, 800, "aabbb"},
		// The centre of position 1 is 0.015 s: a boundary there goes to the later interval.
		{"boundary on a centre", []Interval{iv(0, 0.015, "a"), iv(0.015, 0.05, "b")}, 800, "abbbb"},
		{"boundary just after a centre", []Interval{iv(0, 0.0150625, "a"), iv(0.0150625, 0.05, "b")}, 800, "aabbb"},
		{"gap", []Interval{iv(0, 0.01, "a"), iv(0.03, 0.05, "b")}, 800, "a..bb"},
		{"tier shorter than audio", []Interval{iv(0.01, 0.03, "c")}, 800, ".cc.."},
		{"tier longer than audio", []Interval{iv(0, 0.1, "d")}, 480, "ddd"},
		{"partial last cell", []Interval{iv(0, 0.02, "a"), iv(0.02, 0.0355, "b")}, 568, "aab"},
		{"too short to hold a centre", []Interval{iv(0, 0.016, "a"), iv(0.016, 0.024, "z"), iv(0.024, 0.05, "b")}, 800, "aabbb"},
		{"zero length", []Interval{iv(0, 0.02, "a"), iv(0.02, 0.02, "z"), iv(0.02, 0.05, "b")}, 800, "aabbb"},
		{"no audio", []Interval{iv(0, 0.02, "a")}, 100, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tier := &Tier{Class: "IntervalTier", Name: "x", Intervals: tc.intervals, file: "t.TextGrid"}
			got, err := tier.Grid(tc.samples, letters)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, c := range got {
				if c == 0 {
					b.WriteByte('.')
				} else {
					b.WriteByte('a' + c - 1)
				}
			}
			if b.String() != tc.want {
				t.Errorf("grid %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestTierGridErrors(t *testing.T) {
	iv := []Interval{{XMin: 0, XMax: 0.02, Text: "a", Line: 7}, {XMin: 0.02, XMax: 0.021, Text: "B", Line: 11}}
	tier := &Tier{Class: "IntervalTier", Name: "x", Intervals: iv, file: "t.TextGrid", Line: 3}
	// The unknown symbol holds no grid position and is still reported.
	_, err := tier.Grid(480, letters)
	checkError(t, err, ErrUnknownSymbol, "t.TextGrid", 11, `tier "x" interval 2 [0.02 s, 0.021 s]: unknown symbol "B"`)

	_, err = tier.Grid(480, func(s string) (uint8, bool) { return 1, s != "" })
	checkError(t, err, ErrUnknownSymbol, "t.TextGrid", 3, "the empty text (a gap) has no class")

	points := &Tier{Class: "TextTier", Name: "p", file: "t.TextGrid", Line: 5}
	_, err = points.Grid(480, letters)
	checkError(t, err, ErrTextGrid, "t.TextGrid", 5, "not an IntervalTier")
}

func TestSeqBlocks(t *testing.T) {
	s := Seq{Utt: "1-2-3", Classes: []uint8{0, 5, 5, 39, 40, 255, 7}}
	whole := s.Block(0, s.Len())
	if whole.Layer != frame.LabelLayer || whole.Rate != 100 || whole.Cols != 1 || whole.Rows != 7 || !whole.End || whole.Stream != "1-2-3" || whole.First != 0 {
		t.Fatalf("block %+v", whole)
	}
	if whole.Data[3] != 39 || whole.Row(5)[0] != 255 {
		t.Errorf("data %v", whole.Data)
	}
	back, err := FromBlocks(whole)
	if err != nil || back.Utt != s.Utt || !slices.Equal(back.Classes, s.Classes) {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	// In pieces, as a stream would bring them.
	parts := []*frame.Block{s.Block(0, 3), s.Block(3, 0), s.Block(3, 4)}
	if parts[0].End || !parts[2].End || parts[2].First != 3 {
		t.Errorf("pieces %+v", parts)
	}
	back, err = FromBlocks(parts...)
	if err != nil || !slices.Equal(back.Classes, s.Classes) {
		t.Fatalf("pieces round trip %+v, %v", back, err)
	}
	empty := Seq{Utt: "e"}.Block(0, 0)
	if !empty.End || empty.Rows != 0 {
		t.Errorf("empty block %+v", empty)
	}
}

func TestSeqAppendErrors(t *testing.T) {
	good := func() *frame.Block { return Seq{Utt: "u", Classes: []uint8{1, 2}}.Block(0, 2) }
	tests := []struct {
		name   string
		seq    Seq
		change func(b *frame.Block)
		want   string
	}{
		{"audio layer", Seq{}, func(b *frame.Block) { b.Layer = frame.AudioLayer }, "layer 0, want -1"},
		{"rate", Seq{}, func(b *frame.Block) { b.Rate = 16000 }, "rate 16000, want 100"},
		{"cols", Seq{}, func(b *frame.Block) { b.Cols, b.Rows = 2, 1 }, "2 columns"},
		{"short data", Seq{}, func(b *frame.Block) { b.Data = b.Data[:1] }, "2 rows but 1 values"},
		{"fraction", Seq{}, func(b *frame.Block) { b.Data[1] = 1.5 }, "row 1: class 1.5"},
		{"negative", Seq{}, func(b *frame.Block) { b.Data[0] = -1 }, "row 0: class -1"},
		{"too big", Seq{}, func(b *frame.Block) { b.Data[0] = 256 }, "class 256"},
		{"nan", Seq{}, func(b *frame.Block) { b.Data[0] = float32(math.NaN()) }, "class NaN"},
		{"gap", Seq{}, func(b *frame.Block) { b.First = 1 }, "first row 1, want 0"},
		{"other stream", Seq{Utt: "v"}, func(*frame.Block) {}, `stream "u", want "v"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := good()
			tc.change(b)
			s := tc.seq
			err := s.Append(b)
			if !errors.Is(err, ErrBlock) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `stream "u"`) {
				t.Errorf("error %v, want ErrBlock naming the stream and %q", err, tc.want)
			}
			if s.Len() != tc.seq.Len() {
				t.Errorf("appended on error")
			}
		})
	}
}

func TestSeqBlockPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a range outside the sequence")
		}
	}()
	Seq{Classes: []uint8{1}}.Block(1, 1)
}
