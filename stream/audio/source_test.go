package audio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"clapp/stream/frame"
	"clapp/stream/streamtest"
)

// streamInfo is what readStreams saw of one stream.
type streamInfo struct {
	samples int64
	blocks  int
	data    []float32 // only when kept
}

func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// readStreams reads src to io.EOF, checking the source convention on every
// block, and returns what each stream held.
func readStreams(t testing.TB, src *Source) map[string]*streamInfo {
	return readStreamsKeep(t, src, false, 0)
}

func readStreamsKeep(t testing.TB, src *Source, keep bool, chunk int) map[string]*streamInfo {
	t.Helper()
	if chunk == 0 {
		chunk = DefaultChunk
	}
	ctx := context.Background()
	got := map[string]*streamInfo{}
	open := map[string]bool{}
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		checkBlock(t, b, chunk)
		s := got[b.Stream]
		if s == nil {
			s = &streamInfo{}
			got[b.Stream] = s
			open[b.Stream] = true
		}
		if !open[b.Stream] {
			t.Fatalf("block of %s after its End", b.Stream)
		}
		if b.First != s.samples {
			t.Fatalf("%s: block at %d, want %d", b.Stream, b.First, s.samples)
		}
		s.samples += int64(b.Rows)
		s.blocks++
		if keep {
			s.data = append(s.data, b.Data...)
		}
		if b.End {
			open[b.Stream] = false
		}
	}
	for id, o := range open {
		if o {
			t.Errorf("%s never ended", id)
		}
	}
	return got
}

func checkBlock(t testing.TB, b frame.Block, chunk int) {
	t.Helper()
	if b.Layer != frame.AudioLayer || b.Cols != 1 || b.Rate != frame.SampleRate || b.Model != "" {
		t.Fatalf("block %s@%d: layer %d cols %d rate %g", b.Stream, b.First, b.Layer, b.Cols, b.Rate)
	}
	if len(b.Data) != b.Rows || b.Rows > chunk || (b.Rows < chunk && !b.End) {
		t.Fatalf("block %s@%d: %d rows, %d values, end %v (chunk %d)", b.Stream, b.First, b.Rows, len(b.Data), b.End, chunk)
	}
}

// sharedFLACs lists every FLAC file of the shared data, sorted.
func sharedFLACs(t testing.TB) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(streamtest.DataDir(t), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".flac") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 505 {
		t.Fatalf("%d FLAC files in the shared data, want 505", len(files))
	}
	slices.Sort(files)
	return files
}

// flacCLI decodes path with the reference decoder to int16 samples.
func flacCLI(t testing.TB, path string) []int16 {
	t.Helper()
	out, err := exec.Command("flac", "-d", "-c", "-s", "--force-raw-format", "--endian=little", "--sign=signed", path).Output()
	if err != nil {
		t.Fatalf("flac -d %s: %v", path, err)
	}
	s := make([]int16, len(out)/2)
	binary.Read(bytes.NewReader(out), binary.LittleEndian, s)
	return s
}

// TestFLACMatchesReference compares every sample of a few shared files with
// the reference decoder, the flac command.
func TestFLACMatchesReference(t *testing.T) {
	if _, err := exec.LookPath("flac"); err != nil {
		t.Skip("the flac command is not installed (apt-get install flac); skipping the comparison with the reference decoder")
	}
	files := sharedFLACs(t)
	// Spread over readers, plus the nine CPC files.
	var pick []string
	for i := 0; i < len(files); i += 37 {
		pick = append(pick, files[i])
	}
	for _, f := range files {
		if strings.Contains(f, "/cpc/") {
			pick = append(pick, f)
		}
	}
	for _, path := range pick {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := flacCLI(t, path)
			src, err := OpenFile(path, Config{Chunk: 1000})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got := readStreamsKeep(t, src, true, 1000)
			id := strings.TrimSuffix(filepath.Base(path), ".flac")
			s := got[id]
			if len(got) != 1 || s == nil {
				t.Fatalf("streams %v, want %s", keys(got), id)
			}
			if len(s.data) != len(want) {
				t.Fatalf("%d samples, flac gives %d", len(s.data), len(want))
			}
			for i, v := range want {
				if s.data[i] != float32(v)/32768 {
					t.Fatalf("sample %d: %v, flac gives %d/32768", i, s.data[i], v)
				}
			}
		})
	}
}

// TestDecodeAllShared reads all 505 shared files (1.7 hours) through Open
// with 8 streams at once: none is skipped, each stream has the length its
// header announces, and the heap stays small and flat while 390 MB of
// float32 audio pass through.
func TestDecodeAllShared(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 100 minutes of audio")
	}
	want := map[string]int64{}
	for _, p := range sharedFLACs(t) {
		d, err := openDecoderFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want[strings.TrimSuffix(filepath.Base(p), ".flac")] = d.Format().Frames
	}
	got := map[string]int64{}
	h := newHeapWatch()
	var total int64
	for _, dir := range []string{streamtest.LibriSpeech(t), streamtest.DataDir(t, "cpc", "audio")} {
		src, err := Open(dir, Config{Streams: 8})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := readWatched(t, src, h, got)
		total += n
		if st := src.Stats(); st.Skipped != 0 || st.Truncated != 0 || st.Started != st.Ended || st.Samples != n {
			t.Errorf("%s: %+v", dir, st)
		}
		src.Close()
	}
	if len(got) != len(want) {
		t.Fatalf("%d streams, want %d", len(got), len(want))
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("%s: %d samples, want %d", id, got[id], n)
		}
	}
	t.Logf("%d files, %d samples (%.1f min); heap: peak %.1f MB, live %.1f MB, growth %.2f MB over %d checkpoints",
		len(got), total, float64(total)/16000/60, float64(h.peak)/mb, float64(slicesMax(h.live))/mb, float64(h.growth())/mb, len(h.live))
	// The audio alone is 4*total bytes (390 MB): a source that kept it,
	// or a fraction of it, would blow these bounds.
	if h.peak > 48*mb || slicesMax(h.live) > 16*mb || h.growth() > 2*mb {
		t.Errorf("heap: peak %d B, live %d B, growth %d B; want under 48 MB, 16 MB, 2 MB", h.peak, slicesMax(h.live), h.growth())
	}
}

// TestInterleave: with Streams n, blocks come from n streams in turn, each
// stream in order; files start in order of id, or in a seeded shuffle.
func TestInterleave(t *testing.T) {
	ctx := context.Background()
	const streams = 4
	run := func(cfg Config) (order []string) {
		src, err := OpenLibriSpeech(filepath.Join(streamtest.LibriSpeech(t), "4088", "158077"), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var seq []frame.Block
		for len(order) < 20 {
			b, err := src.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b.First == 0 {
				order = append(order, b.Stream)
			}
			seq = append(seq, b)
		}
		// While every slot is busy, a stream's next block comes exactly
		// one round later.
		for i, b := range seq {
			if b.End {
				continue
			}
			j := i + 1
			for j < len(seq) && seq[j].Stream != b.Stream {
				j++
			}
			if j < len(seq) && j != i+streams {
				t.Fatalf("%s: blocks at positions %d and %d, want %d apart", b.Stream, i, j, streams)
			}
			if j < len(seq) && seq[j].First != b.Last() {
				t.Fatalf("%s: block at %d follows one ending at %d", b.Stream, seq[j].First, b.Last())
			}
		}
		return order
	}
	sorted := run(Config{Streams: streams, Chunk: 4000})
	if !slices.IsSorted(sorted) {
		t.Errorf("streams began in order %v", sorted)
	}
	a := run(Config{Streams: streams, Chunk: 4000, Shuffle: true, Seed: 7})
	b := run(Config{Streams: streams, Chunk: 4000, Shuffle: true, Seed: 7})
	c := run(Config{Streams: streams, Chunk: 4000, Shuffle: true, Seed: 8})
	if !slices.Equal(a, b) || slices.Equal(a, sorted) || slices.Equal(a, c) {
		t.Errorf("shuffle: seed 7 %v, again %v, seed 8 %v", a, b, c)
	}
}

// TestLoop: a looping source keeps going over a short list and never has
// the same stream id open twice at once, even with more streams than files.
func TestLoop(t *testing.T) {
	dir := t.TempDir()
	files := sharedFLACs(t)
	slices.SortFunc(files, func(a, b string) int { return int(fileSize(a) - fileSize(b)) })
	for _, p := range files[:3] {
		link(t, p, dir, filepath.Base(p))
	}
	for _, shuffle := range []bool{false, true} {
		src, err := OpenLibriSpeech(dir, Config{Streams: 5, Loop: true, Shuffle: shuffle, Seed: 3, Chunk: 8000})
		if err != nil {
			t.Fatal(err)
		}
		open := map[string]bool{}
		ends := 0
		for range 600 {
			b, err := src.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if b.First == 0 {
				if open[b.Stream] {
					t.Fatalf("%s opened twice at once", b.Stream)
				}
				open[b.Stream] = true
			}
			if b.End {
				open[b.Stream] = false
				ends++
			}
		}
		if st := src.Stats(); st.Passes < 5 || ends < 15 {
			t.Errorf("shuffle %v: %d ends, %+v", shuffle, ends, st)
		}
		src.Close()
		if _, err := src.Next(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
	}
}

func TestSplit(t *testing.T) {
	cpc := streamtest.DataDir(t, "cpc")
	for _, c := range []struct {
		file       string
		ids, found int
	}{{"train_split.txt", 22830, 391}, {"test_split.txt", 5708, 105}} {
		ids, err := ReadSplit(filepath.Join(cpc, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != c.ids {
			t.Errorf("%s: %d ids, want %d", c.file, len(ids), c.ids)
		}
		src, err := OpenLibriSpeech(streamtest.LibriSpeech(t), Config{IDs: ids})
		if err != nil {
			t.Fatal(err)
		}
		// The list, not the audio: decoding is tested elsewhere.
		if st := src.Stats(); st.Files != c.found {
			t.Errorf("%s: %d files, want %d", c.file, st.Files, c.found)
		}
		for _, e := range src.list {
			if !slices.Contains(ids, e.id) {
				t.Errorf("%s: stream %s is not in the split", c.file, e.id)
			}
		}
		src.Close()
	}
	dir := t.TempDir()
	for _, c := range []struct{ name, text, say string }{
		{"bad", "103-1240-0000\n103-1240 0001\n", "line 2"},
		{"dup", "103-1240-0000\n\n19-198-0001\n103-1240-0000\n", "line 4: 103-1240-0000 repeats line 1"},
		{"empty", "\n\n", "no ids"},
		{"words", "hello\n", `"hello" is not an utterance id`},
	} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, []byte(c.text), 0o644)
		_, err := ReadSplit(p)
		if !errors.Is(err, ErrSplit) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%s: err %v, want ErrSplit naming %s and saying %q", c.name, err, p, c.say)
		}
	}
	if _, err := ReadSplit(filepath.Join(dir, "missing")); !errors.Is(err, ErrSplit) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// link makes dir/<rel> a symbolic link to target.
func link(t testing.TB, target, dir, rel string) string {
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCorruptFilesSkipped: damaged files in a LibriSpeech tree are skipped
// or cut short, named and counted, while every good file is read whole.
func TestCorruptFilesSkipped(t *testing.T) {
	dir := t.TempDir()
	files := sharedFLACs(t)
	good := map[string]int64{}
	for _, p := range files[:6] {
		id := strings.TrimSuffix(filepath.Base(p), ".flac")
		link(t, p, dir, libriRel(id))
		good[id] = int64(len(flacCLIorDecode(t, p)))
	}
	real, err := os.ReadFile(files[10])
	if err != nil {
		t.Fatal(err)
	}
	wavb, _ := encodeWAV(wavSpec{code: wavPCM, channels: 1, bits: 16, rate: 16000, dataSize: 1 << 22}, sineFrames(20000, 16000, 100, 0.2))
	bad := map[string]struct {
		b         []byte
		truncated bool // begun, then cut short; else skipped
	}{
		"9001-1-0001": {real[:len(real)*2/5], true},                                           // truncated FLAC
		"9001-1-0002": {bytes.Repeat([]byte("garbage! "), 5000), false},                       // not audio at all
		"9001-1-0003": {real[:100], false},                                                    // header only
		"9001-1-0004": {nil, false},                                                           // empty
		"9001-1-0005": {wavb, true},                                                           // WAV under a .flac name, lying about its size
		"9001-1-0006": {append(bytes.Clone(real[:len(real)/2]), make([]byte, 3000)...), true}, // zeros where frames should be
	}
	for id, c := range bad {
		p := filepath.Join(dir, libriRel(id))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file that cannot be opened.
	unreadable := filepath.Join(dir, libriRel("9001-1-0007"))
	os.WriteFile(unreadable, real, 0o000)
	if f, err := os.Open(unreadable); err == nil { // running as root
		f.Close()
		os.Remove(unreadable)
		link(t, filepath.Join(dir, "nowhere.flac"), dir, libriRel("9001-1-0007"))
	}
	named := map[string]error{}
	src, err := OpenLibriSpeech(dir, Config{Streams: 3, OnSkip: func(p string, err error) { named[p] = err }})
	if err != nil {
		t.Fatal(err)
	}
	got := readStreams(t, src)
	src.Close()
	for id, n := range good {
		if got[id] == nil || got[id].samples != n {
			t.Errorf("good file %s: %v, want %d samples", id, got[id], n)
		}
	}
	for id, c := range bad {
		p := filepath.Join(dir, libriRel(id))
		err := named[p]
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: reported %v, want an error naming %s", id, err, p)
		}
		if c.truncated != (got[id] != nil) {
			t.Errorf("%s: stream %v, want begun %v", id, got[id], c.truncated)
		}
	}
	if err := named[unreadable]; err == nil {
		t.Errorf("unreadable file not reported")
	}
	st := src.Stats()
	if st.Skipped != 4 || st.Truncated != 3 || st.Started != 9 || st.Ended != 9 {
		t.Errorf("stats %+v, want 4 skipped, 3 truncated, 9 begun", st)
	}
	for p, err := range named {
		t.Logf("%s: %v", filepath.Base(p), err)
	}
}

// libriRel is the path of an utterance in LibriSpeech layout.
func libriRel(id string) string {
	f := strings.Split(id, "-")
	return filepath.Join(f[0], f[1], id+".flac")
}

// flacCLIorDecode returns the samples of a FLAC file: from the reference
// decoder when installed, else from ours.
func flacCLIorDecode(t testing.TB, path string) []float32 {
	if _, err := exec.LookPath("flac"); err == nil {
		s := flacCLI(t, path)
		out := make([]float32, len(s))
		for i, v := range s {
			out[i] = float32(v) / 32768
		}
		return out
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := decodeAll(t, b, path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenErrors: bad paths and configurations give clear errors.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o644)
	garbage := filepath.Join(dir, "x.flac")
	os.WriteFile(garbage, []byte("garbage garbage"), 0o644)
	onlyBad := t.TempDir()
	os.WriteFile(filepath.Join(onlyBad, "1-2-3.flac"), []byte("garbage garbage"), 0o644)
	emptyDir := t.TempDir()
	for _, c := range []struct {
		path string
		cfg  Config
		want error
	}{
		{filepath.Join(dir, "missing"), Config{}, os.ErrNotExist},
		{emptyDir, Config{}, ErrNoAudio},
		{garbage, Config{}, ErrFormat},
		{streamtest.LibriSpeech(t), Config{Chunk: -1}, nil},
		{streamtest.LibriSpeech(t), Config{IDs: []string{"1-2-3"}}, ErrNoAudio},
	} {
		_, err := Open(c.path, c.cfg)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("Open(%s, %+v): %v, want %v", c.path, c.cfg, err, c.want)
		}
	}
	// A directory whose only file is unreadable opens, then says so.
	src, err := Open(onlyBad, Config{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(context.Background()); !errors.Is(err, ErrNoAudio) {
		t.Errorf("Next on a tree of garbage: %v", err)
	}
	// A cancelled context stops Next.
	src, _ = Open(streamtest.LibriSpeech(t), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a cancelled context: %v", err)
	}
	src.Close()
}

func ExampleOpen() {
	src, err := Open("/data/LibriSpeech/train-clean-100", Config{Streams: 8, Shuffle: true, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	for {
		b, err := src.Next(context.Background())
		if err != nil {
			break // io.EOF when every file has been read
		}
		_ = b // b.Stream, b.First, b.Data[:b.Rows], b.End
	}
}

// TestFLACResampledStereo: a FLAC file at 44.1 kHz in stereo, 24 bits, made
// by the reference encoder, is mixed down and resampled like the same WAV.
func TestFLACResampledStereo(t *testing.T) {
	if _, err := exec.LookPath("flac"); err != nil {
		t.Skip("the flac command is not installed (apt-get install flac); it makes the test file")
	}
	for _, c := range []struct {
		rate, bits int
		f          float64
	}{{44100, 24, 3000}, {8000, 16, 1000}, {48000, 16, 11000}} {
		t.Run(fmt.Sprintf("rate=%d_bits=%d_f=%.0f", c.rate, c.bits, c.f), func(t *testing.T) {
			dir := t.TempDir()
			wav, _ := encodeWAV(wavSpec{code: wavPCM, channels: 2, bits: c.bits, rate: c.rate}, sineFrames(c.rate, c.rate, c.f, 0.6, 0.2))
			wavPath := filepath.Join(dir, "tone.wav")
			os.WriteFile(wavPath, wav, 0o644)
			flacPath := filepath.Join(dir, "tone.flac")
			if out, err := exec.Command("flac", "-s", "-f", "-o", flacPath, wavPath).CombinedOutput(); err != nil {
				t.Fatalf("flac: %v %s", err, out)
			}
			read := func(p string) []float32 {
				src, err := OpenFile(p, Config{})
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				return readStreamsKeep(t, src, true, 0)["tone"].data
			}
			fromFLAC, fromWAV := read(flacPath), read(wavPath)
			if len(fromFLAC) != 16000 || len(fromWAV) != 16000 {
				t.Fatalf("%d samples from FLAC, %d from WAV, want 16000", len(fromFLAC), len(fromWAV))
			}
			for i := range fromFLAC {
				if d := fromFLAC[i] - fromWAV[i]; d > 1e-6 || d < -1e-6 {
					t.Fatalf("sample %d: %v from FLAC, %v from WAV", i, fromFLAC[i], fromWAV[i])
				}
			}
			r, _ := NewResampler(c.rate, 16000)
			if c.f >= 8000 {
				if a := rmsDB(fromFLAC, edge(r), 0.4); a > -ResampleStopbandDB {
					t.Errorf("%.0f Hz comes out at %.1f dB", c.f, a)
				}
			} else if e := errDB(fromFLAC, edge(r), c.f, 0.4, 0); e > -ResampleStopbandDB {
				t.Errorf("error against the ideal tone %.1f dB", e)
			}
		})
	}
}
