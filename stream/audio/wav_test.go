package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wavSpec describes a WAV file for encodeWAV.
type wavSpec struct {
	code     uint16 // wavPCM or wavFloat, or any code to test refusal
	ext      bool   // WAVE_FORMAT_EXTENSIBLE around code
	channels int
	rate     int
	bits     int
	// dataSize overrides the data chunk's size field when not 0.
	dataSize uint32
	// list puts an odd-sized LIST chunk before fmt.
	list bool
}

// quantize returns v as stored in the spec's sample format and read back
// as the decoder is specified to: integer / 2^(bits-1), or the float.
func (s wavSpec) quantize(v float64) (stored uint64, back float64) {
	switch {
	case s.code == wavFloat && s.bits == 32:
		f := float32(v)
		return uint64(math.Float32bits(f)), float64(f)
	case s.code == wavFloat && s.bits == 64:
		return math.Float64bits(v), float64(float32(v))
	case s.bits == 8:
		q := max(-128, min(127, math.Round(v*128)))
		return uint64(int64(q) + 128), q / 128
	default:
		full := math.Exp2(float64(s.bits - 1))
		q := max(-full, min(full-1, math.Round(v*full)))
		return uint64(int64(q)), float64(float32(q) * float32(1/full))
	}
}

// encodeWAV encodes frames (frames[i][c]) and returns the file and the
// mono signal a decoder should read at the file's rate.
func encodeWAV(s wavSpec, frames [][]float64) ([]byte, []float64) {
	bps := s.bits / 8
	var data bytes.Buffer
	mono := make([]float64, len(frames))
	for i, fr := range frames {
		var sum float64
		for _, v := range fr {
			q, back := s.quantize(v)
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], q)
			data.Write(b[:bps])
			sum += back
		}
		mono[i] = sum / float64(len(fr))
	}
	var fmtc bytes.Buffer
	le := binary.LittleEndian
	code := s.code
	if s.ext {
		code = wavExtensible
	}
	binary.Write(&fmtc, le, code)
	binary.Write(&fmtc, le, uint16(s.channels))
	binary.Write(&fmtc, le, uint32(s.rate))
	binary.Write(&fmtc, le, uint32(s.rate*s.channels*bps))
	binary.Write(&fmtc, le, uint16(s.channels*bps))
	binary.Write(&fmtc, le, uint16(s.bits))
	if s.ext {
		binary.Write(&fmtc, le, uint16(22))
		binary.Write(&fmtc, le, uint16(s.bits))
		binary.Write(&fmtc, le, uint32(0))
		binary.Write(&fmtc, le, s.code)
		fmtc.Write(wavGUIDTail)
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, le, uint32(0)) // patched below
	out.WriteString("WAVE")
	chunk := func(id string, body []byte, size uint32) {
		out.WriteString(id)
		binary.Write(&out, le, size)
		out.Write(body)
		if len(body)%2 == 1 {
			out.WriteByte(0)
		}
	}
	if s.list {
		chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00clapp"), 17)
	}
	chunk("fmt ", fmtc.Bytes(), uint32(fmtc.Len()))
	size := uint32(data.Len())
	if s.dataSize != 0 {
		size = s.dataSize
	}
	chunk("data", data.Bytes(), size)
	b := out.Bytes()
	le.PutUint32(b[4:], uint32(len(b)-8))
	return b, mono
}

// sineFrames returns n frames of channel c = amps[c]*sin(2 pi f t).
func sineFrames(n, rate int, f float64, amps ...float64) [][]float64 {
	fr := make([][]float64, n)
	for i := range fr {
		fr[i] = make([]float64, len(amps))
		for c, a := range amps {
			fr[i][c] = a * math.Sin(2*math.Pi*f*float64(i)/float64(rate))
		}
	}
	return fr
}

func decodeAll(t testing.TB, b []byte, name string) ([]float32, Format, error) {
	t.Helper()
	d, err := NewDecoder(bytes.NewReader(b), name)
	if err != nil {
		return nil, Format{}, err
	}
	var out []float32
	buf := make([]float32, 777)
	for {
		n, err := d.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, d.Format(), nil
		}
		if err != nil {
			return out, d.Format(), err
		}
	}
}

// TestWAVFormats16k: at 16 kHz every sample format decodes to exactly the
// stored value scaled to full scale, channels averaged.
func TestWAVFormats16k(t *testing.T) {
	noise := func(n, ch int) [][]float64 {
		fr := make([][]float64, n)
		for i := range fr {
			fr[i] = make([]float64, ch)
			for c := range fr[i] {
				// Deterministic values covering the full range, both ends included.
				fr[i][c] = math.Sin(float64(i*7+c*3)*1.618) * 1.05
			}
		}
		return fr
	}
	for _, s := range []wavSpec{
		{code: wavPCM, channels: 1, bits: 16},
		{code: wavPCM, channels: 1, bits: 8},
		{code: wavPCM, channels: 1, bits: 24},
		{code: wavPCM, channels: 1, bits: 32},
		{code: wavFloat, channels: 1, bits: 32},
		{code: wavFloat, channels: 1, bits: 64},
		{code: wavPCM, channels: 2, bits: 16},
		{code: wavPCM, channels: 6, bits: 24},
		{code: wavPCM, channels: 2, bits: 16, ext: true},
		{code: wavPCM, channels: 1, bits: 24, ext: true},
		{code: wavFloat, channels: 2, bits: 32, ext: true},
		{code: wavPCM, channels: 1, bits: 16, list: true},
	} {
		s.rate = 16000
		t.Run(fmt.Sprintf("code=%d_ext=%v_ch=%d_bits=%d", s.code, s.ext, s.channels, s.bits), func(t *testing.T) {
			b, want := encodeWAV(s, noise(50001, s.channels))
			got, f, err := decodeAll(t, b, "test.wav")
			if err != nil {
				t.Fatal(err)
			}
			if f.Channels != s.channels || f.Bits != s.bits || f.Rate != 16000 || f.Frames != int64(len(want)) || f.Float != (s.code == wavFloat) {
				t.Errorf("format %+v for %+v", f, s)
			}
			if len(got) != len(want) {
				t.Fatalf("%d samples, want %d", len(got), len(want))
			}
			tol := 0.0
			if s.channels > 1 {
				tol = 1e-6 // float32 sum of channels
			}
			for i := range got {
				if math.Abs(float64(got[i])-want[i]) > tol {
					t.Fatalf("sample %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestWAVResampled: a tone stored at another rate and format comes out at
// 16 kHz with its frequency, amplitude and phase; a tone above 8 kHz is
// attenuated by at least ResampleStopbandDB.
func TestWAVResampled(t *testing.T) {
	for _, c := range []struct {
		s    wavSpec
		f    float64
		stop bool
	}{
		{wavSpec{code: wavPCM, channels: 1, bits: 16, rate: 8000}, 1000, false},
		{wavSpec{code: wavPCM, channels: 2, bits: 16, rate: 22050}, 3000, false},
		{wavSpec{code: wavPCM, channels: 2, bits: 24, rate: 44100, ext: true}, 440, false},
		{wavSpec{code: wavFloat, channels: 1, bits: 32, rate: 48000}, 5000, false},
		{wavSpec{code: wavFloat, channels: 2, bits: 64, rate: 44100}, 7000, false},
		{wavSpec{code: wavPCM, channels: 1, bits: 16, rate: 44100}, 10000, true},
		{wavSpec{code: wavFloat, channels: 1, bits: 32, rate: 48000}, 8000, true},
		{wavSpec{code: wavPCM, channels: 2, bits: 24, rate: 22050}, 9000, true},
	} {
		t.Run(fmt.Sprintf("rate=%d_bits=%d_ch=%d_f=%.0f", c.s.rate, c.s.bits, c.s.channels, c.f), func(t *testing.T) {
			amps := []float64{0.8, 0.4}[:c.s.channels]
			amp := 0.0
			for _, a := range amps {
				amp += a / float64(len(amps))
			}
			b, _ := encodeWAV(c.s, sineFrames(c.s.rate/2, c.s.rate, c.f, amps...))
			got, f, err := decodeAll(t, b, "tone.wav")
			if err != nil {
				t.Fatal(err)
			}
			if f.Rate != c.s.rate {
				t.Fatalf("format rate %d", f.Rate)
			}
			if want := (c.s.rate/2*16000 + c.s.rate - 1) / c.s.rate; len(got) != want {
				t.Fatalf("%d samples, want %d", len(got), want)
			}
			r, _ := NewResampler(c.s.rate, 16000)
			lo := edge(r)
			if c.stop {
				if a := rmsDB(got, lo, amp); a > -ResampleStopbandDB {
					t.Errorf("tone at %.0f Hz comes out at %.1f dB, want below -%d dB", c.f, a, ResampleStopbandDB)
				}
				return
			}
			// 16-bit storage itself limits the match to about -90 dB.
			limit := -float64(ResampleStopbandDB)
			if e := errDB(got, lo, c.f, amp, 0); e > limit {
				t.Errorf("error against the ideal %.0f Hz tone %.1f dB, want below %.0f dB", c.f, e, limit)
			}
		})
	}
}

func TestWAVErrors(t *testing.T) {
	frames := sineFrames(1000, 16000, 440, 0.5)
	good := wavSpec{code: wavPCM, channels: 1, bits: 16, rate: 16000}
	enc := func(mod func(*wavSpec)) []byte {
		s := good
		mod(&s)
		b, _ := encodeWAV(s, frames)
		return b
	}
	valid, _ := encodeWAV(good, frames)
	nan := enc(func(s *wavSpec) { s.code, s.bits = wavFloat, 32 })
	binary.LittleEndian.PutUint32(nan[len(nan)-40:], math.Float32bits(float32(math.NaN())))
	patchFmt := func(off int, v uint16) []byte {
		b := bytes.Clone(valid)
		binary.LittleEndian.PutUint16(b[20+off:], v)
		return b
	}
	for _, c := range []struct {
		name    string
		b       []byte
		want    error
		partial bool     // some samples come out first
		say     []string // the message names these
	}{
		{"adpcm", enc(func(s *wavSpec) { s.code = 2 }), ErrFormat, false, []string{"0x0002"}},
		{"mulaw-ext", enc(func(s *wavSpec) { s.code, s.ext, s.bits = 7, true, 8 }), ErrFormat, false, []string{"0x0007"}},
		{"rate0", enc(func(s *wavSpec) { s.rate = 0 }), ErrRate, false, []string{" 0 Hz"}},
		{"rate-absurd", enc(func(s *wavSpec) { s.rate = 4000000 }), ErrRate, false, []string{"4000000 Hz"}},
		{"rate-tiny", enc(func(s *wavSpec) { s.rate = 10 }), ErrRate, false, []string{"10 Hz"}},
		{"no-channels", patchFmt(2, 0), ErrCorrupt, false, []string{"0 channels"}},
		{"bad-align", patchFmt(12, 3), ErrCorrupt, false, []string{"block align 3"}},
		{"bits12", patchFmt(14, 12), ErrFormat, false, []string{"12-bit"}},
		{"lying-size", enc(func(s *wavSpec) { s.dataSize = 1 << 20 }), ErrCorrupt, true, []string{"truncated", "1048576"}},
		{"cut-frame", valid[:len(valid)-1], ErrCorrupt, true, []string{"inside a sample frame"}},
		{"cut-header", valid[:30], ErrCorrupt, false, []string{"fmt chunk"}},
		{"no-data", valid[:44-8], ErrCorrupt, false, []string{"no data chunk"}},
		{"nan", nan, ErrCorrupt, true, []string{"non-finite", "frame 990"}},
		{"rifx", append([]byte("RIFX"), valid[4:]...), ErrFormat, false, []string{"RIFX"}},
		{"garbage", []byte("this is not audio at all"), ErrFormat, false, []string{"neither FLAC nor WAV"}},
		{"empty", nil, ErrCorrupt, false, []string{"too short"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "/some/dir/" + c.name + ".wav"
			got, _, err := decodeAll(t, c.b, name)
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			for _, s := range append(c.say, name) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if c.partial != (len(got) > 0) {
				t.Errorf("%d samples before the error", len(got))
			}
		})
	}
}

// TestWAVUnknownSize: a data size of 0xFFFFFFFF (streamed WAV) reads to
// the end of the file without complaint.
func TestWAVUnknownSize(t *testing.T) {
	s := wavSpec{code: wavPCM, channels: 1, bits: 16, rate: 16000, dataSize: wavUnknownSize}
	b, want := encodeWAV(s, sineFrames(12345, 16000, 300, 0.5))
	got, f, err := decodeAll(t, b, "stream.wav")
	if err != nil || len(got) != len(want) || f.Frames != -1 {
		t.Fatalf("%d samples, frames %d, err %v; want %d samples", len(got), f.Frames, err, len(want))
	}
}

// TestWAVDir reads a directory of WAV files of mixed formats as a Source;
// a WAV whose header lies about its size ends its stream early and is
// counted while the others are read whole.
func TestWAVDir(t *testing.T) {
	dir := t.TempDir()
	specs := map[string]wavSpec{
		"a/one":   {code: wavPCM, channels: 1, bits: 16, rate: 16000},
		"a/two":   {code: wavPCM, channels: 2, bits: 24, rate: 44100},
		"b/three": {code: wavFloat, channels: 1, bits: 32, rate: 8000},
		"b/liar":  {code: wavPCM, channels: 1, bits: 16, rate: 16000, dataSize: 1 << 24},
	}
	lens := map[string]int64{}
	for id, s := range specs {
		b, _ := encodeWAV(s, sineFrames(s.rate*3/4, s.rate, 200, []float64{0.3, 0.3}[:s.channels]...))
		p := filepath.Join(dir, id+".wav")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		lens[id] = int64(s.rate*3/4*16000+s.rate-1) / int64(s.rate)
	}
	var named []string
	src, err := Open(dir, Config{OnSkip: func(p string, err error) { named = append(named, p) }})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := readStreams(t, src)
	if len(got) != 4 {
		t.Fatalf("streams %v", keys(got))
	}
	for id, n := range lens {
		if got[id].samples != n {
			t.Errorf("%s: %d samples, want %d", id, got[id].samples, n)
		}
	}
	st := src.Stats()
	if st.Truncated != 1 || st.Skipped != 0 || len(named) != 1 || !strings.HasSuffix(named[0], "liar.wav") {
		t.Errorf("stats %+v, reported %v; want the liar truncated", st, named)
	}
}
