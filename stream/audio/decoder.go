package audio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"clapp/stream/frame"
)

// Errors, wrapped with the name of the input they concern.
var (
	// ErrCorrupt reports audio data that cannot be decoded: a damaged or
	// truncated file, a header that contradicts itself or the data.
	ErrCorrupt = errors.New("audio: corrupt file")
	// ErrFormat reports a well-formed file in an encoding this package does
	// not decode, or a file that is neither FLAC nor WAV.
	ErrFormat = errors.New("audio: unsupported format")
	// ErrRate reports a sample rate that cannot be honoured.
	ErrRate = errors.New("audio: unusable sample rate")
	// ErrNoAudio reports a directory or list without a readable file.
	ErrNoAudio = errors.New("audio: no audio files")
	// ErrSplit reports a malformed split file.
	ErrSplit = errors.New("audio: bad split file")
	// ErrClosed reports use of a closed Source.
	ErrClosed = errors.New("audio: source closed")
)

// Codec names the container of an audio file.
type Codec string

// The codecs a Decoder reads.
const (
	FLAC Codec = "flac"
	WAV  Codec = "wav"
)

// Format describes an audio file as stored, before conversion.
type Format struct {
	Codec    Codec
	Rate     int // samples per second per channel
	Channels int
	// Bits is the size of one stored sample in bits (the container size
	// for WAV).
	Bits  int
	Float bool
	// Frames is the number of samples per channel the header announces,
	// or -1 if it does not say.
	Frames int64
}

// nativeReader yields the mono samples of a file at its own rate.
type nativeReader interface {
	// next appends a run of samples to dst; io.EOF at a clean end, an
	// error wrapping ErrCorrupt otherwise.
	next(dst []float32) ([]float32, error)
	format() Format
}

// A Decoder reads one FLAC or WAV file as mono float32 samples at 16 kHz,
// nominally in [-1, 1): channels are averaged and any other rate is
// resampled with a Resampler. It reads the file as it goes, holding one
// FLAC frame or 64 KiB of WAV data at a time.
type Decoder struct {
	name string
	src  nativeReader
	rs   *Resampler
	f    Format

	native []float32
	pend   []float32
	off    int
	err    error // sticky error once pend is drained
}

// readBufSize is the read buffer; FLAC's own reader reuses it.
const readBufSize = 32 << 10

// NewDecoder reads the header of the FLAC or WAV stream in r, recognised by
// its first bytes whatever name says; name only labels errors. It does not
// close r.
func NewDecoder(r io.Reader, name string) (*Decoder, error) {
	br := bufio.NewReaderSize(r, readBufSize)
	magic, err := br.Peek(12)
	if err != nil && len(magic) < 4 {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %s: empty or too short (%d bytes)", ErrCorrupt, name, len(magic))
		}
		return nil, fmt.Errorf("audio: %s: %w", name, err)
	}
	var src nativeReader
	switch {
	case bytes.HasPrefix(magic, []byte("fLaC")) || bytes.HasPrefix(magic, []byte("ID3")):
		src, err = newFLACReader(br, name)
	case bytes.HasPrefix(magic, []byte("RIFF")) && len(magic) >= 12 && string(magic[8:12]) == "WAVE":
		src, err = newWAVReader(br, name)
	case bytes.HasPrefix(magic, []byte("RF64")), bytes.HasPrefix(magic, []byte("RIFX")):
		return nil, fmt.Errorf("%w: %s: %s container (only little-endian RIFF/WAVE is read)", ErrFormat, name, magic[:4])
	default:
		return nil, fmt.Errorf("%w: %s: neither FLAC nor WAV (starts with %q)", ErrFormat, name, magic[:min(len(magic), 4)])
	}
	if err != nil {
		return nil, err
	}
	d := &Decoder{name: name, src: src, f: src.format()}
	if d.f.Rate < MinRate || d.f.Rate > MaxRate {
		return nil, fmt.Errorf("%w: %s: %d Hz (want %d..%d Hz)", ErrRate, name, d.f.Rate, MinRate, MaxRate)
	}
	if d.f.Rate != frame.SampleRate {
		d.rs, err = NewResampler(d.f.Rate, frame.SampleRate)
		if err != nil {
			return nil, fmt.Errorf("audio: %s: %w", name, err)
		}
	}
	return d, nil
}

// Format returns the stored format of the file.
func (d *Decoder) Format() Format { return d.f }

// Name returns the name given to NewDecoder.
func (d *Decoder) Name() string { return d.name }

// Read reads up to len(p) samples into p. At the end of the file it returns
// io.EOF; a file that breaks off returns the samples decoded before the
// damage, then an error wrapping ErrCorrupt.
func (d *Decoder) Read(p []float32) (int, error) {
	n := 0
	for n < len(p) {
		if d.off == len(d.pend) {
			if d.err != nil {
				break
			}
			d.fill()
			continue
		}
		c := copy(p[n:], d.pend[d.off:])
		d.off += c
		n += c
	}
	if n > 0 {
		return n, nil
	}
	return 0, d.err
}

// fill decodes the next run of samples into pend, or sets err.
func (d *Decoder) fill() {
	d.pend, d.off = d.pend[:0], 0
	var err error
	d.native, err = d.src.next(d.native[:0])
	if d.rs == nil {
		// No conversion: hand out the native run itself.
		d.pend, d.native = d.native, d.pend
	} else {
		d.pend = d.rs.Process(d.pend, d.native)
		if err == io.EOF {
			d.pend = d.rs.Flush(d.pend)
		}
	}
	if err != nil {
		d.err = err
	}
}
