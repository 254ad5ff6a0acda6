package labels

import (
	"fmt"

	"clapp/stream/frame"
)

// Conv is the timing of one encoder layer: a 1-d convolution with kernel,
// stride and (zero) padding on both sides, counted in the frames of the
// layer below. A layer that keeps the timing of its input, such as the
// paper's GRU, is Conv{1, 1, 0}.
type Conv struct {
	Kernel, Stride, Padding int
}

// PaperEncoder returns the timing of the paper's (GIM's, CPC's) audio
// encoder, layers 1 to 6: five convolutions 10/5/2, 8/4/2, 4/2/2, 4/2/2,
// 4/2/1, then the GRU, which keeps layer 5's timing.
func PaperEncoder() []Conv {
	return []Conv{{10, 5, 2}, {8, 4, 2}, {4, 2, 2}, {4, 2, 2}, {4, 2, 1}, {1, 1, 0}}
}

// Field is where the frames of one layer sit in the audio. Frame t of the
// layer depends on samples [Start + t Jump, Start + t Jump + Width) (zero
// padding makes Start negative: part of the field lies before the audio).
// Sample u is taken to span [u, u+1), like the grid cell [160 j, 160 j +
// 160) of grid position j, so the centre of frame t is Start + t Jump +
// Width/2 samples and the centre of grid position j is 160 j + 80.
//
// For a recurrent layer (Conv{1, 1, 0}) Width is that of its input: its
// timing, not its whole (causal, unbounded) dependence on the past.
type Field struct {
	Start int // first sample of frame 0's receptive field
	Width int // receptive field in samples
	Jump  int // samples between consecutive frames
}

// Centre returns the centre of frame t's receptive field in samples.
func (f Field) Centre(t int) float64 { return float64(f.centre2(t)) / 2 }

// centre2 is the centre in half samples, exact.
func (f Field) centre2(t int) int64 {
	return int64(2*f.Start+f.Width) + 2*int64(f.Jump)*int64(t)
}

// Rate returns the layer's frame rate in frames per second.
func (f Field) Rate() float64 { return float64(frame.SampleRate) / float64(f.Jump) }

// Nearest returns the frame, of a layer with frames frames, whose centre
// is nearest the centre of grid position j, clamped to [0, frames-1]; of
// two equally near frames the earlier. It returns -1 if frames is 0.
func (f Field) Nearest(j, frames int) int {
	if frames <= 0 {
		return -1
	}
	d := int64(2*Hop*j+Hop) - f.centre2(0) // grid centre - frame 0's, half samples
	step := 2 * int64(f.Jump)
	t := floorDiv(d+step/2-1, step) // round half down
	return int(max(0, min(t, int64(frames-1))))
}

// Pool returns the frames [lo, hi), of a layer with frames frames, whose
// centres fall inside grid cell j, [160 j, 160 j + 160): the frames a
// probe averages for grid position j when the layer is faster than the
// grid. The range may be empty (lo == hi): near the ends of the audio, or
// for a layer slower than 100 Hz; use Nearest there.
func (f Field) Pool(j, frames int) (lo, hi int) {
	step := 2 * int64(f.Jump)
	c0 := f.centre2(0)
	l := ceilDiv(int64(2*Hop*j)-c0, step)
	h := ceilDiv(int64(2*Hop*(j+1))-c0, step)
	clamp := func(v int64) int { return int(max(0, min(v, int64(frames)))) }
	return clamp(l), max(clamp(l), clamp(h))
}

// Cell returns the grid position whose cell [160 j, 160 j + 160) holds the
// centre of frame t: the inverse of Pool. It may lie outside the grid of
// the utterance (negative, or GridLen or beyond) for frames at the edges.
func (f Field) Cell(t int) int {
	return int(floorDiv(f.centre2(t), 2*Hop))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// Geometry is the timing of an encoder: for layer n (0 is the audio, 1..
// the encoder's layers) where its frames sit and how many there are.
type Geometry struct {
	convs  []Conv
	fields []Field // fields[0] is the audio
}

// NewGeometry returns the geometry of a chain of layers (layer 1 first).
// Every kernel and stride must be at least 1 and every padding at least 0.
func NewGeometry(convs []Conv) (*Geometry, error) {
	g := &Geometry{convs: append([]Conv(nil), convs...), fields: []Field{{Start: 0, Width: 1, Jump: 1}}}
	for i, c := range convs {
		if c.Kernel < 1 || c.Stride < 1 || c.Padding < 0 {
			return nil, fmt.Errorf("labels: layer %d: kernel %d, stride %d, padding %d: want kernel and stride >= 1 and padding >= 0", i+1, c.Kernel, c.Stride, c.Padding)
		}
		// Frame t reads input frames [t s - p, t s - p + k - 1].
		in := g.fields[i]
		g.fields = append(g.fields, Field{
			Start: in.Start - c.Padding*in.Jump,
			Width: in.Width + (c.Kernel-1)*in.Jump,
			Jump:  in.Jump * c.Stride,
		})
	}
	return g, nil
}

// Layers returns the number of layers above the audio.
func (g *Geometry) Layers() int { return len(g.convs) }

// Field returns the timing of layer n (0 for the audio). It panics if n is
// not in [0, Layers()].
func (g *Geometry) Field(n int) Field {
	g.check(n)
	return g.fields[n]
}

func (g *Geometry) check(n int) {
	if n < 0 || n > len(g.convs) {
		panic(fmt.Sprintf("labels: layer %d of an encoder with layers 1..%d", n, len(g.convs)))
	}
}

// Frames returns the number of frames layer n has for samples input
// samples, layer by layer as PyTorch's Conv1d counts them,
// floor((L + 2p - k)/s) + 1, with 0 where the input is too short.
func (g *Geometry) Frames(n, samples int) int {
	g.check(n)
	l := max(samples, 0)
	for _, c := range g.convs[:n] {
		v := l + 2*c.Padding - c.Kernel
		if v < 0 {
			return 0
		}
		l = v/c.Stride + 1
	}
	return l
}

// NearestFrames returns, for each grid position of an utterance of
// samples samples, the frame of layer n nearest to it (see Field.Nearest),
// or nil if the layer has no frame.
func (g *Geometry) NearestFrames(n, samples int) []int {
	f, frames := g.Field(n), g.Frames(n, samples)
	if frames == 0 {
		return nil
	}
	out := make([]int, GridLen(samples))
	for j := range out {
		out[j] = f.Nearest(j, frames)
	}
	return out
}
