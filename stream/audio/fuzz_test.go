package audio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzDecode decodes data as a file called name and checks that it either
// decodes to finite samples or fails with one of the package's errors,
// naming the input, and never panics.
func fuzzDecode(t *testing.T, data []byte, name string) {
	d, err := NewDecoder(bytes.NewReader(data), name)
	if err != nil {
		checkFuzzErr(t, err, name)
		return
	}
	f := d.Format()
	bounded := f.Rate == 16000 && !f.Float // no resampler overshoot, integer input
	buf := make([]float32, 4096)
	for total := 0; total < 1<<21; {
		n, err := d.Read(buf)
		for i, v := range buf[:n] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || (bounded && (v < -1 || v > 1)) {
				t.Fatalf("sample %d = %v (format %+v)", total+i, v, f)
			}
		}
		total += n
		if err == io.EOF {
			return
		}
		if err != nil {
			checkFuzzErr(t, err, name)
			return
		}
	}
}

func checkFuzzErr(t *testing.T, err error, name string) {
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrRate) {
		t.Fatalf("error %v wraps none of ErrCorrupt, ErrFormat, ErrRate", err)
	}
	if !strings.Contains(err.Error(), name) {
		t.Fatalf("error %v does not name the input %s", err, name)
	}
}

// FuzzFLAC feeds bytes to the FLAC decoding path: seeded with the start of
// real LibriSpeech files (header and first frames), a whole short one, and
// when the flac command is installed a stereo 24-bit 44.1 kHz file made
// from real speech.
func FuzzFLAC(f *testing.F) {
	files := sharedFLACs(f)
	for _, p := range []string{files[0], files[200], files[504]} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 12<<10)])
		f.Add(b[:min(len(b), 300)])
	}
	if _, err := exec.LookPath("flac"); err == nil {
		speech := realSpeech(f, 4000)
		frames := make([][]float64, len(speech))
		for i, v := range speech {
			frames[i] = []float64{v, -0.5 * v}
		}
		wav, _ := encodeWAV(wavSpec{code: wavPCM, channels: 2, bits: 24, rate: 44100}, frames)
		dir := f.TempDir()
		in := filepath.Join(dir, "s.wav")
		os.WriteFile(in, wav, 0o644)
		out := filepath.Join(dir, "s.flac")
		if err := exec.Command("flac", "-s", "-f", "-o", out, in).Run(); err != nil {
			f.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, "fuzz.flac")
	})
}

// FuzzWAV feeds bytes to the WAV parser: seeded with real speech stored in
// the formats the package reads.
func FuzzWAV(f *testing.F) {
	speech := realSpeech(f, 1500)
	for _, s := range []wavSpec{
		{code: wavPCM, channels: 1, bits: 16, rate: 16000},
		{code: wavPCM, channels: 1, bits: 8, rate: 16000, list: true},
		{code: wavPCM, channels: 2, bits: 24, rate: 44100, ext: true},
		{code: wavPCM, channels: 2, bits: 32, rate: 48000},
		{code: wavFloat, channels: 1, bits: 32, rate: 22050},
		{code: wavFloat, channels: 3, bits: 64, rate: 8000, ext: true},
		{code: wavPCM, channels: 1, bits: 16, rate: 16000, dataSize: wavUnknownSize},
		{code: wavPCM, channels: 1, bits: 16, rate: 16000, dataSize: 1 << 20},
	} {
		frames := make([][]float64, len(speech))
		for i, v := range speech {
			frames[i] = make([]float64, s.channels)
			for c := range frames[i] {
				frames[i][c] = v / float64(c+1)
			}
		}
		b, _ := encodeWAV(s, frames)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, "fuzz.wav")
	})
}

// realSpeech returns n samples from the middle of a shared utterance.
func realSpeech(t testing.TB, n int) []float64 {
	src, err := OpenFile(sharedFLACs(t)[0], Config{Chunk: 16000})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := readStreamsKeep(t, src, true, 16000)
	for _, s := range got {
		out := make([]float64, n)
		for i := range out {
			out[i] = float64(s.data[16000+i])
		}
		return out
	}
	return nil
}
