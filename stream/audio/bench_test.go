package audio

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
)

// decodeBench decodes b b.N times and reports output samples per second.
func decodeBench(b *testing.B, data []byte) {
	buf := make([]float32, 4096)
	var n int64
	for b.Loop() {
		d, err := NewDecoder(bytes.NewReader(data), "bench")
		if err != nil {
			b.Fatal(err)
		}
		for {
			k, err := d.Read(buf)
			n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
	b.SetBytes(int64(len(data)))
}

// BenchmarkDecodeFLAC decodes a 16-bit 16 kHz mono LibriSpeech utterance
// (from memory: the decoder, not the disk).
func BenchmarkDecodeFLAC(b *testing.B) {
	files := sharedFLACs(b)
	data, err := os.ReadFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	decodeBench(b, data)
}

// BenchmarkDecodeWAV decodes 30 s of WAV in several formats; those not at
// 16 kHz mono include the mix-down and the resampler.
func BenchmarkDecodeWAV(b *testing.B) {
	for _, s := range []wavSpec{
		{code: wavPCM, channels: 1, bits: 16, rate: 16000},
		{code: wavPCM, channels: 2, bits: 24, rate: 16000},
		{code: wavFloat, channels: 1, bits: 32, rate: 16000},
		{code: wavPCM, channels: 1, bits: 16, rate: 8000},
		{code: wavPCM, channels: 2, bits: 16, rate: 44100},
		{code: wavFloat, channels: 2, bits: 32, rate: 48000},
	} {
		name := fmt.Sprintf("rate=%d_ch=%d_bits=%d_float=%v", s.rate, s.channels, s.bits, s.code == wavFloat)
		b.Run(name, func(b *testing.B) {
			data, _ := encodeWAV(s, sineFrames(30*s.rate, s.rate, 440, []float64{0.5, 0.25}[:s.channels]...))
			decodeBench(b, data)
		})
	}
}
