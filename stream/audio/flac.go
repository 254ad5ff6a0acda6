package audio

import (
	"errors"
	"fmt"
	"io"

	"github.com/mewkiz/flac"
	flacframe "github.com/mewkiz/flac/frame"
)

// flacReader decodes a FLAC stream frame by frame.
type flacReader struct {
	name    string
	s       *flac.Stream
	f       Format
	scale   float32 // 2^-(bits-1): full scale to [-1, 1)
	decoded int64
}

func newFLACReader(r io.Reader, name string) (fr *flacReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			fr, err = nil, fmt.Errorf("%w: %s: FLAC decoder panicked on the header: %v", ErrCorrupt, name, p)
		}
	}()
	s, err := flac.New(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: FLAC header: %w", ErrCorrupt, name, unexpected(err))
	}
	info := s.Info
	if info.BitsPerSample < 4 || info.BitsPerSample > 32 {
		return nil, fmt.Errorf("%w: %s: FLAC with %d bits per sample", ErrFormat, name, info.BitsPerSample)
	}
	if info.NChannels < 1 {
		return nil, fmt.Errorf("%w: %s: FLAC with %d channels", ErrCorrupt, name, info.NChannels)
	}
	frames := int64(info.NSamples)
	if frames == 0 {
		frames = -1 // unknown
	}
	return &flacReader{
		name: name,
		s:    s,
		f: Format{
			Codec: FLAC, Rate: int(info.SampleRate), Channels: int(info.NChannels),
			Bits: int(info.BitsPerSample), Frames: frames,
		},
		scale: 1 / float32(uint64(1)<<(info.BitsPerSample-1)),
	}, nil
}

func (r *flacReader) format() Format { return r.f }

func (r *flacReader) next(dst []float32) (out []float32, err error) {
	defer func() {
		// mewkiz/flac trusts some header fields; a crafted frame must cost
		// this file, not the process.
		if p := recover(); p != nil {
			out, err = dst, fmt.Errorf("%w: %s: FLAC decoder panicked after %d samples: %v", ErrCorrupt, r.name, r.decoded, p)
		}
	}()
	fr, err := r.s.ParseNext()
	if err == io.EOF {
		if r.f.Frames > 0 && r.decoded < r.f.Frames {
			return dst, fmt.Errorf("%w: %s: truncated: %d of %d samples", ErrCorrupt, r.name, r.decoded, r.f.Frames)
		}
		return dst, io.EOF
	}
	if err != nil {
		return dst, fmt.Errorf("%w: %s: FLAC frame after %d samples: %w", ErrCorrupt, r.name, r.decoded, unexpected(err))
	}
	h := fr.Header
	switch {
	case h.SampleRate != 0 && int(h.SampleRate) != r.f.Rate:
		return dst, fmt.Errorf("%w: %s: frame at sample %d has rate %d Hz, stream %d Hz", ErrCorrupt, r.name, r.decoded, h.SampleRate, r.f.Rate)
	case h.BitsPerSample != 0 && int(h.BitsPerSample) != r.f.Bits:
		return dst, fmt.Errorf("%w: %s: frame at sample %d has %d bits, stream %d", ErrCorrupt, r.name, r.decoded, h.BitsPerSample, r.f.Bits)
	case len(fr.Subframes) != r.f.Channels:
		return dst, fmt.Errorf("%w: %s: frame at sample %d has %d channels, stream %d", ErrCorrupt, r.name, r.decoded, len(fr.Subframes), r.f.Channels)
	}
	n := int(h.BlockSize)
	for _, sf := range fr.Subframes {
		if len(sf.Samples) != n {
			return dst, fmt.Errorf("%w: %s: frame at sample %d: subframe of %d samples in a block of %d", ErrCorrupt, r.name, r.decoded, len(sf.Samples), n)
		}
	}
	dst = appendMono(dst, fr.Subframes, n, r.scale)
	r.decoded += int64(n)
	return dst, nil
}

// appendMono appends the average of the channels, scaled to full scale.
func appendMono(dst []float32, ch []*flacframe.Subframe, n int, scale float32) []float32 {
	if len(ch) == 1 {
		for _, v := range ch[0].Samples[:n] {
			dst = append(dst, float32(v)*scale)
		}
		return dst
	}
	inv := float64(scale) / float64(len(ch))
	for i := range n {
		var sum int64
		for _, c := range ch {
			sum += int64(c.Samples[i])
		}
		dst = append(dst, float32(float64(sum)*inv))
	}
	return dst
}

// unexpected turns an io.EOF inside a structure into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
