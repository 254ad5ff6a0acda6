package labels

import (
	"fmt"
	"math"

	"clapp/stream/frame"
)

// Hop is the step of the canonical grid in samples at frame.SampleRate:
// 160 samples = 10 ms.
const Hop = 160

// GridRate is the rate of the canonical grid in labels per second.
const GridRate = frame.SampleRate / Hop

// GridLen returns the number of grid positions of an utterance of samples
// samples: floor(samples/160), 0 for no audio.
func GridLen(samples int) int {
	if samples <= 0 {
		return 0
	}
	return samples / Hop
}

// GridCentre returns the time of grid position j in samples: (j + 1/2) x
// 160. Sample u is taken to span [u, u+1), so this is the centre of the
// grid cell [160 j, 160 j + 160).
func GridCentre(j int) float64 { return float64(Hop*j) + Hop/2 }

// toSamples returns a time in seconds as the nearest sample position.
func toSamples(seconds float64) int64 {
	return int64(math.Round(seconds * frame.SampleRate))
}

// Grid returns the labels of an interval tier on the canonical grid of an
// utterance of samples samples. Grid position j takes the class of the
// interval [xmin, xmax) that contains its centre (j + 1/2) x 10 ms; times
// are rounded to the nearest sample first, so a centre on a boundary goes
// to the later interval. Positions no interval covers (a gap, or beyond
// the tier) take the class of the empty text, as Praat shows a gap.
//
// class maps an interval's text to its class; it is asked about every
// interval, also those too short to hold a grid position, so that no
// unknown symbol goes unnoticed. An unknown symbol is an *Error wrapping
// ErrUnknownSymbol naming the file, the tier, the interval and the symbol.
func (t *Tier) Grid(samples int, class func(text string) (uint8, bool)) ([]uint8, error) {
	if t.Class != "IntervalTier" {
		return nil, &Error{File: t.file, Line: t.Line, Msg: fmt.Sprintf("tier %q is a %s, not an IntervalTier", t.Name, t.Class), Err: ErrTextGrid}
	}
	gap, ok := class("")
	if !ok {
		return nil, &Error{File: t.file, Line: t.Line, Msg: fmt.Sprintf("tier %q: the empty text (a gap) has no class", t.Name), Err: ErrUnknownSymbol}
	}
	out := make([]uint8, GridLen(samples))
	j := 0
	centre := func(j int) int64 { return int64(Hop*j + Hop/2) }
	for k, iv := range t.Intervals {
		c, ok := class(iv.Text)
		if !ok {
			return nil, &Error{File: t.file, Line: iv.Line, Err: ErrUnknownSymbol,
				Msg: fmt.Sprintf("tier %q interval %d [%g s, %g s]: unknown symbol %q", t.Name, k+1, iv.XMin, iv.XMax, iv.Text)}
		}
		s0, s1 := toSamples(iv.XMin), toSamples(iv.XMax)
		for ; j < len(out) && centre(j) < s0; j++ {
			out[j] = gap
		}
		for ; j < len(out) && centre(j) < s1; j++ {
			out[j] = c
		}
	}
	for ; j < len(out); j++ {
		out[j] = gap
	}
	return out, nil
}

// Seq is the label sequence of one utterance on the canonical grid:
// Classes[i] is the class at (i + 1/2) x 10 ms.
type Seq struct {
	Utt     string // utterance (stream) id
	Classes []uint8
}

// Len returns the number of grid positions.
func (s Seq) Len() int { return len(s.Classes) }

// Block returns grid positions [first, first+rows) of s as a label block:
// Layer frame.LabelLayer, Rate 100, one column holding the class as
// float32, End set when the block reaches the end of s. It panics if the
// range is outside s.
func (s Seq) Block(first, rows int) *frame.Block {
	if first < 0 || rows < 0 || first+rows > len(s.Classes) {
		panic(fmt.Sprintf("labels: block [%d, %d) outside a sequence of %d", first, first+rows, len(s.Classes)))
	}
	data := make([]float32, rows)
	for i, c := range s.Classes[first : first+rows] {
		data[i] = float32(c)
	}
	return &frame.Block{
		Stream: s.Utt,
		Layer:  frame.LabelLayer,
		First:  int64(first),
		Rows:   rows,
		Cols:   1,
		Data:   data,
		Rate:   GridRate,
		End:    first+rows == len(s.Classes),
	}
}

// Append appends the labels of b, which must continue s: same stream (or
// s still empty and unnamed, which takes b's name), First equal to s.Len().
// b must be a label block (Layer frame.LabelLayer, Rate 100, one column)
// whose values are whole numbers in [0, 255]. Nothing is appended on
// error.
func (s *Seq) Append(b *frame.Block) error {
	bad := func(format string, args ...any) error {
		return &Error{File: "block of stream " + fmt.Sprintf("%q", b.Stream), Msg: fmt.Sprintf(format, args...), Err: ErrBlock}
	}
	switch {
	case b.Layer != frame.LabelLayer:
		return bad("layer %d, want %d (labels)", b.Layer, frame.LabelLayer)
	case b.Rate != GridRate:
		return bad("rate %g, want %d", b.Rate, GridRate)
	case b.Cols != 1:
		return bad("%d columns, want 1", b.Cols)
	case b.Rows < 0 || len(b.Data) != b.Rows:
		return bad("%d rows but %d values", b.Rows, len(b.Data))
	case s.Utt != "" && b.Stream != s.Utt:
		return bad("stream %q, want %q", b.Stream, s.Utt)
	case b.First != int64(len(s.Classes)):
		return bad("first row %d, want %d", b.First, len(s.Classes))
	}
	for i, v := range b.Data {
		if !(v >= 0 && v <= 255 && v == float32(math.Trunc(float64(v)))) {
			return bad("row %d: class %g is not a whole number in [0, 255]", b.First+int64(i), v)
		}
	}
	s.Utt = b.Stream
	for _, v := range b.Data {
		s.Classes = append(s.Classes, uint8(v))
	}
	return nil
}

// FromBlocks collects the label blocks of one stream, in order from row 0,
// into a Seq (see Seq.Append).
func FromBlocks(blocks ...*frame.Block) (Seq, error) {
	var s Seq
	for _, b := range blocks {
		if err := s.Append(b); err != nil {
			return Seq{}, err
		}
	}
	return s, nil
}
