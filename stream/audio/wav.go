package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// WAVE format codes (the fmt chunk's wFormatTag, or the first two bytes of
// WAVE_FORMAT_EXTENSIBLE's sub-format GUID).
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavExtensible = 0xFFFE
)

// The KSDATAFORMAT_SUBTYPE GUIDs of WAVE_FORMAT_EXTENSIBLE end with these
// 14 bytes after the format code.
var wavGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// wavUnknownSize in the data chunk's size means "until the end of the
// file", as streaming writers emit it.
const wavUnknownSize = 0xFFFFFFFF

// wavReader reads the data chunk of a RIFF/WAVE stream in runs of at most
// 64 KiB.
type wavReader struct {
	name      string
	r         io.Reader
	f         Format
	code      uint16
	align     int   // bytes per frame (all channels)
	remaining int64 // bytes left in the data chunk; -1 if unknown
	size      int64 // announced data size; -1 if unknown
	read      int64 // bytes of data read
	buf       []byte
}

func newWAVReader(r io.Reader, name string) (*wavReader, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, name, fmt.Sprintf(format, args...))
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, bad("RIFF header: %v", unexpected(err))
	}
	// The RIFF size is not trusted: writers that stream leave it wrong, and
	// the data chunk's own size is what matters.
	w := &wavReader{name: name, r: r}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if !haveFmt {
				return nil, bad("no fmt chunk")
			}
			return nil, bad("no data chunk")
		}
		id := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, bad("fmt chunk of %d bytes", size)
			}
			body := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, body); err != nil {
				return nil, bad("fmt chunk: %v", unexpected(err))
			}
			if err := w.parseFmt(body[:size]); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, bad("data chunk before fmt chunk")
			}
			w.remaining, w.size = size, size
			if size == wavUnknownSize {
				w.remaining, w.size = -1, -1
				w.f.Frames = -1
			} else {
				w.f.Frames = size / int64(w.align)
			}
			n := max(1, (64<<10)/w.align)
			w.buf = make([]byte, n*w.align)
			return w, nil
		default:
			// LIST, fact, cue, ...: skipped, with the pad byte of odd sizes.
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return nil, bad("%q chunk: %v (no data chunk)", id, unexpected(err))
			}
		}
	}
}

func (w *wavReader) parseFmt(b []byte) error {
	le := binary.LittleEndian
	code := le.Uint16(b[0:])
	channels := int(le.Uint16(b[2:]))
	rate := le.Uint32(b[4:])
	align := int(le.Uint16(b[12:]))
	bits := int(le.Uint16(b[14:]))
	orig := code
	if code == wavExtensible {
		if len(b) < 40 || le.Uint16(b[16:]) < 22 {
			return fmt.Errorf("%w: %s: WAVE_FORMAT_EXTENSIBLE with a %d-byte fmt chunk", ErrCorrupt, w.name, len(b))
		}
		valid := int(le.Uint16(b[18:]))
		guid := b[24:40]
		if !bytes.Equal(guid[2:], wavGUIDTail) {
			return fmt.Errorf("%w: %s: WAVE_FORMAT_EXTENSIBLE sub-format %x", ErrFormat, w.name, guid)
		}
		if valid > bits {
			return fmt.Errorf("%w: %s: %d valid bits in a %d-bit container", ErrCorrupt, w.name, valid, bits)
		}
		code = le.Uint16(guid)
	}
	kind := "PCM"
	switch {
	case code == wavPCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32):
	case code == wavFloat && (bits == 32 || bits == 64):
		kind = "float"
	case code == wavPCM || code == wavFloat:
		return fmt.Errorf("%w: %s: %d-bit samples in format 0x%04X", ErrFormat, w.name, bits, code)
	default:
		if orig != code {
			return fmt.Errorf("%w: %s: WAVE format code 0x%04X (in WAVE_FORMAT_EXTENSIBLE); want PCM (1) or IEEE float (3)", ErrFormat, w.name, code)
		}
		return fmt.Errorf("%w: %s: WAVE format code 0x%04X; want PCM (1), IEEE float (3) or extensible (0xFFFE)", ErrFormat, w.name, code)
	}
	if channels < 1 {
		return fmt.Errorf("%w: %s: %s with %d channels", ErrCorrupt, w.name, kind, channels)
	}
	if align != channels*bits/8 {
		return fmt.Errorf("%w: %s: block align %d for %d channels of %d bits", ErrCorrupt, w.name, align, channels, bits)
	}
	if rate < MinRate || rate > MaxRate {
		return fmt.Errorf("%w: %s: %d Hz (want %d..%d Hz)", ErrRate, w.name, rate, MinRate, MaxRate)
	}
	w.code = code
	w.align = align
	w.f = Format{Codec: WAV, Rate: int(rate), Channels: channels, Bits: bits, Float: code == wavFloat}
	return nil
}

func (w *wavReader) format() Format { return w.f }

func (w *wavReader) next(dst []float32) ([]float32, error) {
	if w.remaining == 0 {
		return dst, io.EOF
	}
	b := w.buf
	if w.remaining > 0 && int64(len(b)) > w.remaining {
		b = b[:w.remaining]
	}
	n, err := io.ReadFull(w.r, b)
	w.read += int64(n)
	if w.remaining > 0 {
		w.remaining -= int64(n)
	}
	whole := n - n%w.align
	dst, cerr := w.convert(dst, b[:whole], (w.read-int64(n))/int64(w.align))
	if cerr != nil {
		return dst, cerr
	}
	switch {
	case err == nil:
		return dst, nil
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if n%w.align != 0 {
			return dst, fmt.Errorf("%w: %s: data ends inside a sample frame after %d bytes", ErrCorrupt, w.name, w.read)
		}
		if w.size >= 0 {
			return dst, fmt.Errorf("%w: %s: truncated: data chunk announces %d bytes, file holds %d", ErrCorrupt, w.name, w.size, w.read)
		}
		w.remaining = 0
		if n == 0 {
			return dst, io.EOF
		}
		return dst, nil
	default:
		return dst, fmt.Errorf("audio: %s: %w", w.name, err)
	}
}

// convert appends the mono average of the frames in b, the first of which
// is frame first of the file.
func (w *wavReader) convert(dst []float32, b []byte, first int64) ([]float32, error) {
	ch := w.f.Channels
	le := binary.LittleEndian
	bps := w.f.Bits / 8
	frames := len(b) / w.align
	if ch == 1 && w.code == wavPCM && bps == 2 {
		for i := range frames {
			dst = append(dst, float32(int16(le.Uint16(b[2*i:])))*(1.0/32768))
		}
		return dst, nil
	}
	var sample func(p []byte) float32
	switch {
	case w.code == wavPCM && bps == 1:
		sample = func(p []byte) float32 { return float32(int(p[0])-128) * (1.0 / 128) }
	case w.code == wavPCM && bps == 2:
		sample = func(p []byte) float32 { return float32(int16(le.Uint16(p))) * (1.0 / 32768) }
	case w.code == wavPCM && bps == 3:
		sample = func(p []byte) float32 {
			v := int32(p[0]) | int32(p[1])<<8 | int32(int8(p[2]))<<16
			return float32(v) * (1.0 / (1 << 23))
		}
	case w.code == wavPCM && bps == 4:
		sample = func(p []byte) float32 { return float32(int32(le.Uint32(p))) * (1.0 / (1 << 31)) }
	case w.code == wavFloat && bps == 4:
		sample = func(p []byte) float32 { return math.Float32frombits(le.Uint32(p)) }
	case w.code == wavFloat && bps == 8:
		sample = func(p []byte) float32 { return float32(math.Float64frombits(le.Uint64(p))) }
	}
	inv := 1 / float32(ch)
	for i := range frames {
		fr := b[i*w.align:]
		var sum float32
		for c := range ch {
			sum += sample(fr[c*bps:])
		}
		v := sum * inv
		if w.f.Float && (math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)) {
			return dst, fmt.Errorf("%w: %s: non-finite sample at frame %d", ErrCorrupt, w.name, first+int64(i))
		}
		dst = append(dst, v)
	}
	return dst, nil
}
