//go:build portaudio && cgo

package mic

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"clapp/stream/audio"
	"clapp/stream/streamtest"
)

// The capture tests run PortAudio against ALSA's file plugin: the default
// device reads a raw S16_LE 16 kHz mono file made from a real LibriSpeech
// utterance, and the device "fifocap" reads a FIFO the test feeds.
var (
	fileSamples []int16 // what the default device holds
	stereo48    []int16 // what the device "filecap48" holds: 48 kHz, 2 channels
	fifoPath    string
	fifoW       *os.File // the FIFO's writing end, held open by the test
	speechFile  string
)

func TestMain(m *testing.M) {
	flag.Parse() // -clapp.data is read before m.Run
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "clapp-mic-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := setupALSA(dir); err != nil {
			fmt.Fprintln(os.Stderr, "mic tests:", err)
			return 1
		}
		defer fifoW.Close()
		return m.Run()
	}())
}

// setupALSA writes the raw file, the FIFO and the ALSA configuration, and
// points ALSA at it before PortAudio starts.
func setupALSA(dir string) error {
	data, err := streamtest.Dir()
	if err != nil {
		return err
	}
	speechFile = filepath.Join(data, "LibriSpeech", "train-clean-100", "4088", "158077", "4088-158077-0000.flac")
	src, err := audio.OpenFile(speechFile, audio.Config{})
	if err != nil {
		return err
	}
	defer src.Close()
	for {
		b, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		for _, v := range b.Data {
			fileSamples = append(fileSamples, int16(v*32768))
		}
	}
	raw := make([]byte, 2*len(fileSamples))
	for i, v := range fileSamples {
		raw[2*i], raw[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	rawPath := filepath.Join(dir, "in.raw")
	if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
		return err
	}
	// The same speech at 48 kHz in stereo: left as is, right at half.
	up, err := audio.NewResampler(16000, 48000)
	if err != nil {
		return err
	}
	mono := make([]float32, len(fileSamples))
	for i, v := range fileSamples {
		mono[i] = float32(v) / 32768
	}
	for _, v := range up.Flush(up.Process(nil, mono)) {
		l := int16(max(-32768, min(32767, math.Round(float64(v)*32768))))
		stereo48 = append(stereo48, l, l/2)
	}
	raw48 := make([]byte, 2*len(stereo48))
	for i, v := range stereo48 {
		raw48[2*i], raw48[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	raw48Path := filepath.Join(dir, "in48.raw")
	if err := os.WriteFile(raw48Path, raw48, 0o644); err != nil {
		return err
	}
	fifoPath = filepath.Join(dir, "in.fifo")
	if err := syscall.Mkfifo(fifoPath, 0o644); err != nil {
		return err
	}
	// Opened read-write, the FIFO always has a writer: the plugin's open
	// does not block, and its reads block while the FIFO is empty.
	if fifoW, err = os.OpenFile(fifoPath, os.O_RDWR, 0); err != nil {
		return err
	}
	conf := fmt.Sprintf(`pcm.nullpcm { type null }
pcm.filecap_raw { type file slave.pcm "nullpcm" file "/dev/null" infile %q format "raw" }
pcm.filecap { type plug slave { pcm "filecap_raw" format S16_LE rate 16000 channels 1 } }
pcm.!default { type plug slave.pcm "filecap" }
pcm.fifocap_raw { type file slave.pcm "nullpcm" file "/dev/null" infile %q format "raw" }
pcm.fifocap { type plug slave { pcm "fifocap_raw" format S16_LE rate 16000 channels 1 } }
pcm.filecap48_raw { type file slave.pcm "nullpcm" file "/dev/null" infile %q format "raw" }
pcm.filecap48 { type plug slave { pcm "filecap48_raw" format S16_LE rate 48000 channels 2 } }
`, rawPath, fifoPath, raw48Path)
	confPath := filepath.Join(dir, "test-alsa.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return err
	}
	return os.Setenv("ALSA_CONFIG_PATH", "/usr/share/alsa/alsa.conf:"+confPath)
}

// TestCaptureMatchesFile captures exactly the file's length from the
// default device and compares every sample with the file's.
func TestCaptureMatchesFile(t *testing.T) {
	n := len(fileSamples)
	m, err := Open(Config{MaxSamples: int64(n), Buffer: n})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var got []float32
	var next int64
	for {
		b, err := m.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.Stream != "mic" || b.First != next || b.Cols != 1 || b.Rate != 16000 || b.Rows != len(b.Data) {
			t.Fatalf("block %+v at %d", b, next)
		}
		if b.Rows != DefaultChunk && !b.End {
			t.Fatalf("short block of %d rows without End", b.Rows)
		}
		got = append(got, b.Data...)
		next += int64(b.Rows)
		if b.End != (next == int64(n)) {
			t.Fatalf("End %v at %d of %d", b.End, next, n)
		}
	}
	if len(got) != n {
		t.Fatalf("captured %d samples, the file holds %d", len(got), n)
	}
	for i, v := range fileSamples {
		if got[i] != float32(v)/32768 {
			t.Fatalf("sample %d: %v, the file holds %d/32768", i, got[i], v)
		}
	}
	st := m.Stats()
	if st.Rate != 16000 || st.Channels != 1 || st.Captured != int64(n) || st.Delivered != int64(n) || st.Dropped != 0 || st.RingOverruns != 0 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("%d samples of %s through PortAudio and ALSA, %+v", n, filepath.Base(speechFile), st)
}

// TestSlowConsumer: the device is read as fast as ALSA's file plugin goes
// while nobody takes blocks; the ring keeps the newest audio, counts what
// it dropped, and First shows the gap.
func TestSlowConsumer(t *testing.T) {
	n := len(fileSamples)
	const ringSize = 16000
	m, err := Open(Config{MaxSamples: int64(n), Buffer: ringSize})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for deadline := time.Now().Add(time.Minute); m.Stats().Captured < int64(n); {
		if time.Now().After(deadline) {
			t.Fatalf("captured %d of %d samples in a minute", m.Stats().Captured, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	first := true
	var next int64
	for {
		b, err := m.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if first && b.First != int64(n-ringSize) {
			t.Fatalf("first block at %d, want %d (the last %d samples)", b.First, n-ringSize, ringSize)
		}
		if !first && b.First != next {
			t.Fatalf("block at %d, want %d", b.First, next)
		}
		first = false
		for i, v := range b.Data {
			if v != float32(fileSamples[b.First+int64(i)])/32768 {
				t.Fatalf("sample %d differs from the file", b.First+int64(i))
			}
		}
		next = b.Last()
	}
	st := m.Stats()
	if st.Dropped != int64(n-ringSize) || st.RingOverruns == 0 || st.Delivered != ringSize {
		t.Errorf("stats %+v, want %d dropped", st, n-ringSize)
	}
}

// TestStalledDevice: a device whose reads block (here a FIFO nobody
// writes) makes Next return ErrStalled instead of hanging, and Close
// returns in bounded time.
func TestStalledDevice(t *testing.T) {
	const fed = 8000
	raw := make([]byte, 2*fed)
	for i, v := range fileSamples[:fed] {
		raw[2*i], raw[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	if _, err := fifoW.Write(raw); err != nil {
		t.Fatal(err)
	}
	stall := 300 * time.Millisecond
	m, err := Open(Config{Device: "fifocap", Stall: stall})
	if err != nil {
		t.Fatal(err)
	}
	var got int
	for {
		b, err := m.Next(context.Background())
		if err != nil {
			if !errors.Is(err, ErrStalled) {
				t.Fatalf("after %d samples: %v, want ErrStalled", got, err)
			}
			t.Logf("after %d samples: %v", got, err)
			break
		}
		// Whole periods arrive intact; the plugin may pad the last partial
		// one with stale data, so compare the first half only.
		for i, v := range b.Data {
			if j := int(b.First) + i; j < fed/2 && v != float32(fileSamples[j])/32768 {
				t.Fatalf("sample %d differs from what was fed", j)
			}
		}
		got += b.Rows
		if got > 4*fed {
			t.Fatalf("%d samples from a device fed %d", got, fed)
		}
	}
	if got < fed/2 {
		t.Errorf("only %d of the %d samples fed arrived", got, fed)
	}
	start := time.Now()
	err = m.Close()
	if took := time.Since(start); took > stall+3*time.Second {
		t.Errorf("Close took %v", took)
	}
	t.Logf("Close on a hung device: %v", err)
	if _, err := m.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	// Unblock the read so the capture goroutine ends.
	fifoW.Write(make([]byte, 64<<10))
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		t.Errorf("the capture goroutine did not end once the device was fed")
	}
}

// TestCloseStops: Close in the middle of a stream stops the capture
// goroutine and releases the device, which opens again.
func TestCloseStops(t *testing.T) {
	for range 2 {
		m, err := Open(Config{MaxSamples: int64(len(fileSamples)), Buffer: len(fileSamples)})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := m.Next(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-m.done:
		default:
			t.Fatal("capture goroutine still running after Close")
		}
		if _, err := m.Next(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
	}
}

// TestResampledStereo opens a device at 48 kHz with two channels: the
// channels are averaged and the result resampled to 16 kHz, matching the
// same computation done on the file's samples.
func TestResampledStereo(t *testing.T) {
	frames := len(stereo48) / 2
	mono := make([]float32, frames)
	for i := range mono {
		mono[i] = float32(int32(stereo48[2*i])+int32(stereo48[2*i+1])) * (1.0 / 32768) / 2
	}
	rs, _ := audio.NewResampler(48000, 16000)
	want := rs.Process(nil, mono)
	// Stop well before the device would have to read past the file.
	n := frames/3 - 2000
	m, err := Open(Config{Device: "filecap48", Rate: 48000, Channels: 2, MaxSamples: int64(n), Buffer: n})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var got []float32
	for {
		b, err := m.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.Data...)
	}
	if len(got) != n {
		t.Fatalf("%d samples, want %d", len(got), n)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d: %v, want %v", i, got[i], want[i])
		}
	}
	if st := m.Stats(); st.Device != "filecap48" || st.Rate != 48000 || st.Channels != 2 {
		t.Errorf("stats %+v", st)
	}
	// And the speech is still there, in place (no delay): against the
	// 16 kHz original at 3/4 of the level (left + right/2, averaged), the
	// round trip 16 -> 48 -> 16 kHz differs by what the two filters remove
	// above 7.2 kHz, some 35 dB down for this utterance; a shift by one
	// sample would leave about 3 dB.
	var e2, s2 float64
	for i := 1000; i < n-1000; i++ {
		ref := 0.75 * float64(fileSamples[i]) / 32768
		d := float64(got[i]) - ref
		e2 += d * d
		s2 += ref * ref
	}
	if snr := 10 * math.Log10(s2/e2); snr < 30 {
		t.Errorf("round trip SNR %.1f dB, want over 30 dB", snr)
	} else {
		t.Logf("round trip 16 -> 48 kHz stereo -> device -> 16 kHz mono: SNR %.1f dB", snr)
	}
}

func TestNoSuchDevice(t *testing.T) {
	_, err := Open(Config{Device: "no-such-device"})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no-such-device") || !strings.Contains(err.Error(), "filecap") || !strings.Contains(err.Error(), "nats://") {
		t.Errorf("err %v, want ErrUnavailable naming the device, listing the inputs and saying what to do", err)
	}
	if !Available {
		t.Error("Available false with the portaudio tag")
	}
}
