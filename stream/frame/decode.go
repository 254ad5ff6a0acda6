package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
)

// DefaultMaxPayload is the largest payload a Decoder accepts unless told
// otherwise: 8 MiB, the largest max_payload NATS recommends. A NATS
// server's own default is 1 MiB (a block of 512 rows of 512 channels).
const DefaultMaxPayload = 8 << 20

// DecoderOption configures a Decoder.
type DecoderOption func(*Decoder)

// WithMaxPayload sets the largest payload accepted, in bytes. Larger
// frames are rejected with ErrTooLarge before any allocation.
func WithMaxPayload(n int) DecoderOption { return func(d *Decoder) { d.maxPayload = n } }

// ExpectLayer rejects, with ErrMismatch, blocks of any other layer.
func ExpectLayer(n int) DecoderOption {
	return func(d *Decoder) { d.layer, d.checkLayer = n, true }
}

// ExpectRate rejects, with ErrRate, blocks whose declared rate is not r:
// nothing downstream of such a decoder can convert rates.
func ExpectRate(r float64) DecoderOption { return func(d *Decoder) { d.rate = r } }

// ExpectCols rejects, with ErrMismatch, blocks that do not have c columns.
func ExpectCols(c int) DecoderOption { return func(d *Decoder) { d.cols = c } }

// Decoder turns NATS headers and payload into a Block, rejecting anything
// that is not a valid frame, and counts what it decoded and rejected. It
// never panics, whatever the input. Its methods are safe for concurrent
// use; the zero Decoder accepts any valid frame up to DefaultMaxPayload.
//
// Every decoder also enforces what the wire format says of audio: a block
// of AudioLayer has one column at SampleRate, since no receiver in clapp
// resamples; a different declared rate is rejected with ErrRate.
type Decoder struct {
	maxPayload int
	checkLayer bool
	layer      int
	rate       float64
	cols       int

	decoded atomic.Uint64
	counts  [numReasons]atomic.Uint64
}

// NewDecoder returns a Decoder with the given options.
func NewDecoder(opts ...DecoderOption) *Decoder {
	d := &Decoder{}
	for _, o := range opts {
		o(d)
	}
	return d
}

// NewAudioDecoder returns a Decoder for audio blocks: layer AudioLayer, one
// column, SampleRate rows per second. Options may add limits.
func NewAudioDecoder(opts ...DecoderOption) *Decoder {
	return NewDecoder(append([]DecoderOption{ExpectLayer(AudioLayer), ExpectRate(SampleRate), ExpectCols(1)}, opts...)...)
}

type reason int

const (
	rMissingHeader reason = iota
	rBadHeader
	rOutOfRange
	rDtype
	rPayloadSize
	rTooLarge
	rNonFinite
	rRate
	rMismatch
	numReasons
)

var reasonErr = [numReasons]error{ErrMissingHeader, ErrBadHeader, ErrOutOfRange, ErrDtype, ErrPayloadSize, ErrTooLarge, ErrNonFinite, ErrRate, ErrMismatch}

// DecodeStats counts the frames a Decoder accepted and, by reason, those
// it rejected.
type DecodeStats struct {
	Decoded       uint64
	MissingHeader uint64
	BadHeader     uint64
	OutOfRange    uint64
	Dtype         uint64
	PayloadSize   uint64
	TooLarge      uint64
	NonFinite     uint64
	Rate          uint64
	Mismatch      uint64
}

// Rejected returns the number of frames rejected for any reason.
func (s DecodeStats) Rejected() uint64 {
	return s.MissingHeader + s.BadHeader + s.OutOfRange + s.Dtype + s.PayloadSize + s.TooLarge + s.NonFinite + s.Rate + s.Mismatch
}

// Stats returns a snapshot of the counters. Each counter is read
// atomically; the snapshot as a whole is not one instant.
func (d *Decoder) Stats() DecodeStats {
	return DecodeStats{
		Decoded:       d.decoded.Load(),
		MissingHeader: d.counts[rMissingHeader].Load(),
		BadHeader:     d.counts[rBadHeader].Load(),
		OutOfRange:    d.counts[rOutOfRange].Load(),
		Dtype:         d.counts[rDtype].Load(),
		PayloadSize:   d.counts[rPayloadSize].Load(),
		TooLarge:      d.counts[rTooLarge].Load(),
		NonFinite:     d.counts[rNonFinite].Load(),
		Rate:          d.counts[rRate].Load(),
		Mismatch:      d.counts[rMismatch].Load(),
	}
}

// Decode validates the headers and payload of one frame and returns its
// Block, with Data newly allocated. The error wraps one of the package's
// sentinels.
func (d *Decoder) Decode(h map[string][]string, payload []byte) (Block, error) {
	b, r, err := d.decode(h, payload)
	return d.count(b, r, err)
}

// DecodeMsg is Decode for a message received on subject: when subject is
// a clapp subject that carries blocks, the block's layer must be the
// subject's (ErrMismatch otherwise). Errors name the subject.
func (d *Decoder) DecodeMsg(subject string, h map[string][]string, payload []byte) (Block, error) {
	b, r, err := d.decode(h, payload)
	if err == nil {
		if s, perr := ParseSubject(subject); perr == nil && s.CarriesBlocks() && s.Layer != b.Layer {
			r, err = rMismatch, fmt.Errorf("%w: stream %q: layer %d published on %s", ErrMismatch, b.Stream, b.Layer, subject)
		}
	}
	b, err = d.count(b, r, err)
	if err != nil {
		err = fmt.Errorf("%s: %w", subject, err)
	}
	return b, err
}

func (d *Decoder) count(b Block, r reason, err error) (Block, error) {
	if err != nil {
		d.counts[r].Add(1)
		return Block{}, err
	}
	d.decoded.Add(1)
	return b, nil
}

func (d *Decoder) max() int {
	if d.maxPayload > 0 {
		return d.maxPayload
	}
	return DefaultMaxPayload
}

func reject(r reason, format string, args ...any) (Block, reason, error) {
	return Block{}, r, fmt.Errorf("%w: "+format, append([]any{reasonErr[r]}, args...)...)
}

// header returns the single value of header k.
func header(h map[string][]string, k string) (string, reason, error) {
	v, ok := h[k]
	switch {
	case !ok || len(v) == 0:
		return "", rMissingHeader, fmt.Errorf("%w: %s", ErrMissingHeader, k)
	case len(v) > 1:
		return "", rBadHeader, fmt.Errorf("%w: %s has %d values", ErrBadHeader, k, len(v))
	}
	return v[0], 0, nil
}

func intHeader(h map[string][]string, k string, bits int) (int64, reason, error) {
	s, r, err := header(h, k)
	if err != nil {
		return 0, r, err
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, rBadHeader, fmt.Errorf("%w: %s %.32q is not a decimal integer", ErrBadHeader, k, s)
	}
	return n, 0, nil
}

func (d *Decoder) decode(h map[string][]string, payload []byte) (Block, reason, error) {
	var b Block
	var r reason
	var err error
	if b.Stream, r, err = header(h, HeaderStream); err != nil {
		return Block{}, r, err
	}
	if err := validateText(HeaderStream, b.Stream, false); err != nil {
		r := rBadHeader
		if errors.Is(err, ErrMissingHeader) {
			r = rMissingHeader
		}
		return Block{}, r, err
	}
	if dt, r, err := header(h, HeaderDtype); err != nil {
		return Block{}, r, err
	} else if dt != DtypeF32LE {
		return reject(rDtype, "stream %q: %s %.32q (want %q)", b.Stream, HeaderDtype, dt, DtypeF32LE)
	}
	if b.First, r, err = intHeader(h, HeaderFirst, 64); err != nil {
		return Block{}, r, err
	}
	rows, r, err := intHeader(h, HeaderRows, 64)
	if err != nil {
		return Block{}, r, err
	}
	cols, r, err := intHeader(h, HeaderCols, 64)
	if err != nil {
		return Block{}, r, err
	}
	layer, r, err := intHeader(h, HeaderLayer, 64)
	if err != nil {
		return Block{}, r, err
	}
	rs, r, err := header(h, HeaderRate)
	if err != nil {
		return Block{}, r, err
	}
	if b.Rate, err = strconv.ParseFloat(rs, 64); err != nil {
		return reject(rBadHeader, "stream %q: %s %.32q is not a number", b.Stream, HeaderRate, rs)
	}
	if v, ok := h[HeaderModel]; ok {
		if len(v) != 1 {
			return reject(rBadHeader, "stream %q: %s has %d values", b.Stream, HeaderModel, len(v))
		}
		if err := validateText(HeaderModel, v[0], true); err != nil {
			return Block{}, rBadHeader, err
		}
		b.Model = v[0]
	}
	if v, ok := h[HeaderEnd]; ok {
		switch {
		case len(v) != 1:
			return reject(rBadHeader, "stream %q: %s has %d values", b.Stream, HeaderEnd, len(v))
		case v[0] == "true":
			b.End = true
		case v[0] == "false":
		default:
			return reject(rBadHeader, "stream %q: %s %.32q (want true or false)", b.Stream, HeaderEnd, v[0])
		}
	}

	max := int64(d.max())
	switch {
	case rows < 0:
		return reject(rOutOfRange, "stream %q: rows %d < 0", b.Stream, rows)
	case cols < 1:
		return reject(rOutOfRange, "stream %q: cols %d < 1", b.Stream, cols)
	case b.First < 0:
		return reject(rOutOfRange, "stream %q: first %d < 0", b.Stream, b.First)
	case layer < LabelLayer || layer > MaxLayer:
		return reject(rOutOfRange, "stream %q: layer %d not in %d..%d", b.Stream, layer, LabelLayer, MaxLayer)
	case math.IsNaN(b.Rate) || math.IsInf(b.Rate, 0) || b.Rate <= 0:
		return reject(rOutOfRange, "stream %q: rate %v not finite and positive", b.Stream, b.Rate)
	case rows > max/4 || cols > max/4 || rows*cols > max/4:
		return reject(rTooLarge, "stream %q: %d rows x %d cols exceed the limit of %d bytes", b.Stream, rows, cols, max)
	case int64(len(payload)) > max:
		return reject(rTooLarge, "stream %q: payload of %d bytes exceeds the limit of %d", b.Stream, len(payload), max)
	case b.First > math.MaxInt64-rows:
		return reject(rOutOfRange, "stream %q: first %d + rows %d overflows", b.Stream, b.First, rows)
	case int64(len(payload)) != rows*cols*4:
		return reject(rPayloadSize, "stream %q: %d bytes for %d rows x %d cols (want %d)", b.Stream, len(payload), rows, cols, rows*cols*4)
	}
	b.Rows, b.Cols, b.Layer = int(rows), int(cols), int(layer)

	switch {
	case d.checkLayer && b.Layer != d.layer:
		return reject(rMismatch, "stream %q: layer %d, expected layer %d", b.Stream, b.Layer, d.layer)
	case b.Layer == AudioLayer && b.Rate != SampleRate:
		return reject(rRate, "stream %q: audio declared at %v Hz; clapp runs audio at %d Hz and does not resample", b.Stream, b.Rate, SampleRate)
	case d.rate != 0 && b.Rate != d.rate:
		return reject(rRate, "stream %q: layer %d declared at %v rows/s; this receiver needs %v and cannot convert", b.Stream, b.Layer, b.Rate, d.rate)
	case b.Layer == AudioLayer && b.Cols != 1:
		return reject(rMismatch, "stream %q: audio with %d columns (want 1)", b.Stream, b.Cols)
	case d.cols != 0 && b.Cols != d.cols:
		return reject(rMismatch, "stream %q: %d columns, expected %d", b.Stream, b.Cols, d.cols)
	}

	b.Data = make([]float32, b.Rows*b.Cols)
	if i := decodeF32LE(b.Data, payload); i >= 0 {
		return reject(rNonFinite, "stream %q: row %d col %d is %v", b.Stream, b.First+int64(i/b.Cols), i%b.Cols, math.Float32frombits(binary.LittleEndian.Uint32(payload[4*i:])))
	}
	return b, 0, nil
}

// decodeF32LE fills dst from len(dst)*4 bytes of src and returns the index
// of the first NaN or Inf, or -1.
func decodeF32LE(dst []float32, src []byte) int {
	const exp = 0x7f800000
	src = src[:4*len(dst)]
	var nonFinite bool
	for i := range dst {
		u := binary.LittleEndian.Uint32(src[4*i : 4*i+4])
		nonFinite = nonFinite || u&exp == exp
		dst[i] = math.Float32frombits(u)
	}
	if !nonFinite {
		return -1
	}
	for i, v := range dst {
		if math.Float32bits(v)&exp == exp {
			return i
		}
	}
	return -1
}
