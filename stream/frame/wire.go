package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Header names of the wire format. NATS header names are case-sensitive:
// these exact spellings are written and looked up.
const (
	HeaderStream = "Clapp-Stream" // stream id, required, 1..MaxIDLen bytes
	HeaderFirst  = "Clapp-First"  // first timestep, decimal int64 >= 0
	HeaderRows   = "Clapp-Rows"   // rows (timesteps), decimal int >= 0
	HeaderCols   = "Clapp-Cols"   // values per row, decimal int >= 1
	HeaderDtype  = "Clapp-Dtype"  // payload element type, "f32le"
	HeaderLayer  = "Clapp-Layer"  // LabelLayer..MaxLayer
	HeaderRate   = "Clapp-Rate"   // rows per second, finite, > 0
	HeaderModel  = "Clapp-Model"  // optional model version
	HeaderEnd    = "Clapp-End"    // optional, "true" on the last block of a stream
)

// DtypeF32LE is the only payload type: IEEE 754 float32, little-endian,
// row-major.
const DtypeF32LE = "f32le"

// MaxLayer is the highest layer number the wire format accepts.
const MaxLayer = 64

// MaxIDLen is the longest stream id or model version accepted, in bytes.
const MaxIDLen = 256

// Sentinel errors. Every error from Validate, Encode and the Decoder wraps
// exactly one of them, so that errors.Is tells the reason.
var (
	ErrMissingHeader = errors.New("frame: missing header")
	ErrBadHeader     = errors.New("frame: malformed header")
	ErrOutOfRange    = errors.New("frame: value out of range")
	ErrDtype         = errors.New("frame: unknown dtype")
	ErrPayloadSize   = errors.New("frame: payload size does not match rows*cols*4")
	ErrTooLarge      = errors.New("frame: payload too large")
	ErrNonFinite     = errors.New("frame: NaN or Inf in data")
	ErrRate          = errors.New("frame: rate contradicts the stream")
	ErrMismatch      = errors.New("frame: block does not match what the receiver expects")
)

// Validate reports whether b can be encoded: a stream id and model version
// that fit in a header, Rows >= 0, Cols >= 1, First >= 0, Layer in
// LabelLayer..MaxLayer, Rate finite and positive, len(Data) == Rows*Cols
// and no NaN or Inf in Data.
func (b *Block) Validate() error {
	if err := validateMeta(b); err != nil {
		return err
	}
	if len(b.Data) != b.Rows*b.Cols {
		return fmt.Errorf("%w: stream %q: len(Data) = %d, Rows*Cols = %d*%d", ErrPayloadSize, b.Stream, len(b.Data), b.Rows, b.Cols)
	}
	for i, v := range b.Data {
		if bits := math.Float32bits(v); bits&0x7f800000 == 0x7f800000 {
			return fmt.Errorf("%w: stream %q: row %d col %d is %v", ErrNonFinite, b.Stream, int64(i/b.Cols)+b.First, i%b.Cols, v)
		}
	}
	return nil
}

func validateMeta(b *Block) error {
	if err := validateText(HeaderStream, b.Stream, false); err != nil {
		return err
	}
	if err := validateText(HeaderModel, b.Model, true); err != nil {
		return err
	}
	switch {
	case b.Rows < 0:
		return fmt.Errorf("%w: stream %q: rows %d < 0", ErrOutOfRange, b.Stream, b.Rows)
	case b.Cols < 1:
		return fmt.Errorf("%w: stream %q: cols %d < 1", ErrOutOfRange, b.Stream, b.Cols)
	case b.First < 0:
		return fmt.Errorf("%w: stream %q: first %d < 0", ErrOutOfRange, b.Stream, b.First)
	case b.First > math.MaxInt64-int64(b.Rows):
		return fmt.Errorf("%w: stream %q: first %d + rows %d overflows", ErrOutOfRange, b.Stream, b.First, b.Rows)
	case b.Layer < LabelLayer || b.Layer > MaxLayer:
		return fmt.Errorf("%w: stream %q: layer %d not in %d..%d", ErrOutOfRange, b.Stream, b.Layer, LabelLayer, MaxLayer)
	case math.IsNaN(b.Rate) || math.IsInf(b.Rate, 0) || b.Rate <= 0:
		return fmt.Errorf("%w: stream %q: rate %v not finite and positive", ErrOutOfRange, b.Stream, b.Rate)
	}
	return nil
}

// validateText checks a string that travels as a header value: valid
// UTF-8, no control characters (CR and LF would end the header), no
// leading or trailing space (NATS clients trim it), at most MaxIDLen bytes.
func validateText(name, s string, emptyOK bool) error {
	if s == "" {
		if emptyOK {
			return nil
		}
		return fmt.Errorf("%w: %s is empty", ErrMissingHeader, name)
	}
	if len(s) > MaxIDLen {
		return fmt.Errorf("%w: %s %.32q... longer than %d bytes", ErrBadHeader, name, s, MaxIDLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrBadHeader, name, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s %q contains control character %U", ErrBadHeader, name, s, r)
		}
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return fmt.Errorf("%w: %s %q has leading or trailing space", ErrBadHeader, name, s)
	}
	return nil
}

// Encode validates b and returns its NATS headers and payload. The header
// map can be assigned to nats.Msg.Header as it is.
func Encode(b *Block) (map[string][]string, []byte, error) {
	return EncodeTo(nil, nil, b)
}

// EncodeTo is Encode reusing buffers: it writes b's headers into h
// (allocating it when nil; other keys of h are left alone) and appends the
// payload to dst. On error h and dst are returned unchanged.
func EncodeTo(h map[string][]string, dst []byte, b *Block) (map[string][]string, []byte, error) {
	if err := b.Validate(); err != nil {
		return h, dst, err
	}
	if h == nil {
		h = make(map[string][]string, 9)
	}
	SetHeaders(h, b)
	return h, AppendPayload(dst, b), nil
}

// SetHeaders writes the headers of b into h without validating b (see
// Validate). Clapp-Model and Clapp-End are deleted when b has no model
// version or is not the end of its stream, so h can be reused.
func SetHeaders(h map[string][]string, b *Block) {
	set := func(k, v string) {
		if s := h[k]; len(s) == 1 {
			s[0] = v
		} else {
			h[k] = []string{v}
		}
	}
	set(HeaderStream, b.Stream)
	set(HeaderFirst, strconv.FormatInt(b.First, 10))
	set(HeaderRows, strconv.Itoa(b.Rows))
	set(HeaderCols, strconv.Itoa(b.Cols))
	set(HeaderDtype, DtypeF32LE)
	set(HeaderLayer, strconv.Itoa(b.Layer))
	set(HeaderRate, strconv.FormatFloat(b.Rate, 'g', -1, 64))
	if b.Model != "" {
		set(HeaderModel, b.Model)
	} else {
		delete(h, HeaderModel)
	}
	if b.End {
		set(HeaderEnd, "true")
	} else {
		delete(h, HeaderEnd)
	}
}

// AppendPayload appends the first Rows*Cols values of b.Data to dst as
// little-endian float32 without validating b; it panics if Data is
// shorter.
func AppendPayload(dst []byte, b *Block) []byte {
	data := b.Data[:b.Rows*b.Cols]
	n := len(dst)
	dst = growBytes(dst, 4*len(data))
	out := dst[n : n+4*len(data)]
	for i, v := range data {
		binary.LittleEndian.PutUint32(out[4*i:4*i+4], math.Float32bits(v))
	}
	return dst
}

func growBytes(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}
