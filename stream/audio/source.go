package audio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"clapp/stream/frame"
)

// DefaultChunk is the default block length in samples: 100 ms at 16 kHz.
const DefaultChunk = 1600

// Config sets how a Source reads its files. The zero value reads one file
// at a time in order of stream id, in blocks of DefaultChunk samples, once.
type Config struct {
	// Chunk is the number of samples per block (the last block of a stream
	// may be shorter); 0 means DefaultChunk.
	Chunk int
	// Streams is the number of files open at once, their blocks
	// interleaved round-robin: the batch of the learner. 0 means 1.
	Streams int
	// Shuffle reads the files in an order drawn from Seed, a new order on
	// every pass, instead of sorted by stream id.
	Shuffle bool
	Seed    uint64
	// Loop starts over at the end of the list, so that Next does not
	// return io.EOF. A stream id is never open twice at once.
	Loop bool
	// IDs, if not nil, restricts a directory to these stream ids (for
	// LibriSpeech, utterance ids such as those ReadSplit returns).
	IDs []string
	// OnSkip, if not nil, is called from Next for every file that is
	// skipped or whose stream ends early, with an error naming the file.
	OnSkip func(path string, err error)
	// Logger receives a warning per skipped file and a note per resampled
	// file; nil means slog.Default().
	Logger *slog.Logger
}

// Stats counts what a Source has done so far.
type Stats struct {
	Files     int   // files in the list
	Passes    int64 // passes begun over the list
	Started   int64 // streams begun
	Ended     int64 // streams ended, including those cut short
	Skipped   int64 // files that yielded nothing: unreadable, not audio, corrupt
	Truncated int64 // files that failed midway: their stream ended early
	Blocks    int64
	Samples   int64
}

// entry is one file of the list.
type entry struct {
	id   string
	path string
}

// A Source yields the audio of a list of files as frame.Blocks: Layer
// frame.AudioLayer, Cols 1, Rate 16000, Stream the file's stream id, First
// the index of the block's first sample in its stream, End set on the last
// block of a stream. It holds the names of the files and the decoders of
// the open streams only; Block.Data is newly allocated and belongs to the
// caller.
//
// A file that cannot be read is skipped, logged, counted and reported to
// Config.OnSkip; a file that breaks off midway ends its stream with an End
// block and is counted as truncated. Neither stops the Source.
//
// A Source is not safe for concurrent use, except Stats.
type Source struct {
	cfg       Config
	log       *slog.Logger
	root      string
	list      []entry
	bad       []bool // files that failed to open: not retried on later passes
	nbad      int
	order     []int
	pos       int
	pass      uint64
	postponed []int // entries postponed because their id was open (Loop)

	slots     []*track
	cur       int
	exhausted bool
	err       error
	closed    bool

	started, ended, skipped, truncated, blocks, samples, passes atomic.Int64
}

// Open opens path as a Source: a directory in LibriSpeech layout if it
// holds .flac files (OpenLibriSpeech), a directory of WAV files otherwise
// (OpenWAVDir), or a single FLAC or WAV file (OpenFile).
func Open(path string, cfg Config) (*Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	if !fi.IsDir() {
		return OpenFile(path, cfg)
	}
	flacs, wavs, err := walk(path, cfg)
	if err != nil {
		return nil, err
	}
	if len(flacs) > 0 {
		return newSource(path, flacs, cfg)
	}
	return newSource(path, wavs, cfg)
}

// OpenLibriSpeech opens a directory in LibriSpeech layout,
// <reader>/<chapter>/<reader>-<chapter>-<n>.flac, at any depth (a corpus
// root, a subset such as train-clean-100, a reader). Each .flac file is a
// stream whose id is its name without the extension, the utterance id. The
// transcripts are not read. The directory is listed once, by name; files
// are opened as their turn comes.
func OpenLibriSpeech(dir string, cfg Config) (*Source, error) {
	flacs, _, err := walk(dir, cfg)
	if err != nil {
		return nil, err
	}
	return newSource(dir, flacs, cfg)
}

// OpenWAVDir opens every .wav file under dir; a stream's id is the file's
// path relative to dir without the extension, with forward slashes.
func OpenWAVDir(dir string, cfg Config) (*Source, error) {
	_, wavs, err := walk(dir, cfg)
	if err != nil {
		return nil, err
	}
	return newSource(dir, wavs, cfg)
}

// OpenFile opens one FLAC or WAV file, recognised by its content, as a
// Source of one stream whose id is the file's name without the extension.
// Unlike a file in a directory, a file that cannot be read is an error
// here.
func OpenFile(path string, cfg Config) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	_, err = NewDecoder(f, path)
	f.Close()
	if err != nil {
		return nil, err
	}
	base := filepath.Base(path)
	cfg.IDs = nil
	return newSource(path, []entry{{id: strings.TrimSuffix(base, filepath.Ext(base)), path: path}}, cfg)
}

// walk lists the .flac and .wav files under root by name, skipping names
// that start with a dot. Symbolic links to files are listed; symbolic
// links to directories are not followed (the root itself may be one).
func walk(root string, cfg Config) (flacs, wavs []entry, err error) {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, fmt.Errorf("audio: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == real {
				return err
			}
			log.Warn("audio: cannot list", "path", p, "err", err)
			if cfg.OnSkip != nil {
				cfg.OnSkip(p, err)
			}
			return nil
		}
		name := d.Name()
		if p != real && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || (!d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0) {
			return nil
		}
		ext := filepath.Ext(name)
		path := filepath.Join(root, strings.TrimPrefix(p, real))
		switch {
		case strings.EqualFold(ext, ".flac"):
			flacs = append(flacs, entry{id: name[:len(name)-len(ext)], path: path})
		case strings.EqualFold(ext, ".wav"):
			rel, _ := filepath.Rel(real, p)
			wavs = append(wavs, entry{id: filepath.ToSlash(rel[:len(rel)-len(ext)]), path: path})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("audio: %w", err)
	}
	return flacs, wavs, nil
}

func newSource(root string, list []entry, cfg Config) (*Source, error) {
	if cfg.Chunk < 0 || cfg.Streams < 0 {
		return nil, fmt.Errorf("audio: Config with Chunk %d, Streams %d", cfg.Chunk, cfg.Streams)
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = DefaultChunk
	}
	if cfg.Streams == 0 {
		cfg.Streams = 1
	}
	s := &Source{cfg: cfg, log: cfg.Logger, root: root}
	if s.log == nil {
		s.log = slog.Default()
	}
	slices.SortFunc(list, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.path, b.path))
	})
	// One stream per id: a second file with the same id would make two
	// streams indistinguishable downstream.
	list = slices.CompactFunc(list, func(a, b entry) bool {
		if a.id == b.id {
			s.skip(b.path, fmt.Errorf("audio: %s: stream id %q already taken by %s", b.path, b.id, a.path))
			return true
		}
		return false
	})
	if cfg.IDs != nil {
		want := make(map[string]bool, len(cfg.IDs))
		for _, id := range cfg.IDs {
			want[id] = true
		}
		all := len(list)
		list = slices.DeleteFunc(list, func(e entry) bool { return !want[e.id] })
		s.log.Info("audio: restricted to listed ids", "root", root, "files", all, "ids", len(want), "kept", len(list))
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: none under %s", ErrNoAudio, root)
	}
	s.list = slices.Clip(list)
	s.bad = make([]bool, len(list))
	s.slots = make([]*track, cfg.Streams)
	return s, nil
}

// Stats returns the counts so far. It is safe to call concurrently with
// Next.
func (s *Source) Stats() Stats {
	return Stats{
		Files:     len(s.list),
		Passes:    s.passes.Load(),
		Started:   s.started.Load(),
		Ended:     s.ended.Load(),
		Skipped:   s.skipped.Load(),
		Truncated: s.truncated.Load(),
		Blocks:    s.blocks.Load(),
		Samples:   s.samples.Load(),
	}
}

// Next returns the next block, taking the open streams in turn. It returns
// io.EOF when every file has been read (never with Config.Loop), and an
// error wrapping ErrNoAudio if no file at all could be read.
func (s *Source) Next(ctx context.Context) (frame.Block, error) {
	if s.closed {
		return frame.Block{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return frame.Block{}, err
	}
	for range len(s.slots) {
		i := s.cur
		s.cur = (s.cur + 1) % len(s.slots)
		t := s.slots[i]
		if t == nil {
			if s.exhausted {
				continue
			}
			var err error
			if t, err = s.openNext(ctx); err != nil {
				return frame.Block{}, err
			}
			if t == nil {
				continue
			}
			s.slots[i] = t
		}
		b := t.block(s.cfg.Chunk)
		s.blocks.Add(1)
		s.samples.Add(int64(b.Rows))
		if b.End {
			if t.err != io.EOF {
				s.truncated.Add(1)
				s.report("audio: stream ended early", t.e.path, t.err)
			}
			t.close()
			s.slots[i] = nil
			s.ended.Add(1)
		}
		return b, nil
	}
	if s.err != nil {
		return frame.Block{}, s.err
	}
	return frame.Block{}, io.EOF
}

// Close closes the open files. Next then returns ErrClosed.
func (s *Source) Close() error {
	s.closed = true
	var errs []error
	for i, t := range s.slots {
		if t != nil {
			errs = append(errs, t.close())
			s.slots[i] = nil
		}
	}
	return errors.Join(errs...)
}

// openNext opens the next readable file of the list; nil when none is due.
func (s *Source) openNext(ctx context.Context) (*track, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx, ok := s.nextEntry()
		if !ok {
			return nil, nil
		}
		t, err := s.open(idx)
		if err != nil {
			s.bad[idx] = true
			s.nbad++
			s.skip(s.list[idx].path, err)
			continue
		}
		s.started.Add(1)
		return t, nil
	}
}

// nextEntry picks the index of the next file to open.
func (s *Source) nextEntry() (int, bool) {
	for j, idx := range s.postponed {
		if !s.isOpen(idx) {
			s.postponed = slices.Delete(s.postponed, j, j+1)
			return idx, true
		}
	}
	for range len(s.list) + len(s.slots) + 1 {
		if s.pos == len(s.order) {
			if (s.pass > 0 && !s.cfg.Loop) || s.nbad == len(s.list) {
				s.exhausted = true
				if s.started.Load() == 0 {
					s.err = fmt.Errorf("%w: none of the %d files under %s could be read", ErrNoAudio, len(s.list), s.root)
				}
				return -1, false
			}
			s.newPass()
		}
		idx := s.order[s.pos]
		s.pos++
		switch {
		case s.bad[idx]:
		case s.isOpen(idx):
			if !slices.Contains(s.postponed, idx) {
				s.postponed = append(s.postponed, idx)
			}
		default:
			return idx, true
		}
	}
	return -1, false // every candidate is open right now
}

func (s *Source) newPass() {
	if s.order == nil {
		s.order = make([]int, len(s.list))
	}
	for i := range s.order {
		s.order[i] = i
	}
	if s.cfg.Shuffle {
		rng := rand.New(rand.NewPCG(s.cfg.Seed, s.pass))
		rng.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
	}
	s.pos = 0
	s.pass++
	s.passes.Add(1)
}

func (s *Source) isOpen(idx int) bool {
	for _, t := range s.slots {
		if t != nil && t.idx == idx {
			return true
		}
	}
	return false
}

// open starts the stream of list[idx] and decodes its first block ahead, so
// that a file that yields nothing is skipped rather than begun.
func (s *Source) open(idx int) (*track, error) {
	e := s.list[idx]
	f, err := os.Open(e.path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	dec, err := NewDecoder(f, e.path)
	if err != nil {
		f.Close()
		return nil, err
	}
	if ff := dec.Format(); ff.Rate != frame.SampleRate {
		s.log.Info("audio: resampling", "file", e.path, "from", ff.Rate, "to", frame.SampleRate, "channels", ff.Channels)
	}
	t := &track{e: e, idx: idx, f: f, dec: dec}
	t.fill(s.cfg.Chunk)
	if len(t.buf) == 0 && t.err != io.EOF {
		t.close()
		return nil, t.err
	}
	return t, nil
}

func (s *Source) skip(path string, err error) {
	s.skipped.Add(1)
	s.report("audio: skipped file", path, err)
}

func (s *Source) report(msg, path string, err error) {
	s.log.Warn(msg, "file", path, "err", err)
	if s.cfg.OnSkip != nil {
		s.cfg.OnSkip(path, err)
	}
}

// track is one open stream.
type track struct {
	e    entry
	idx  int
	f    *os.File
	dec  *Decoder
	buf  []float32 // decoded, not yet yielded
	next int64     // First of the next block
	err  error     // the decoder's final error: io.EOF or damage
}

// fill decodes until more than chunk samples are pending or the file ends.
func (t *track) fill(chunk int) {
	for len(t.buf) <= chunk && t.err == nil {
		if cap(t.buf)-len(t.buf) < chunk {
			t.buf = slices.Grow(t.buf, 2*chunk)
		}
		n, err := t.dec.Read(t.buf[len(t.buf):cap(t.buf)])
		t.buf = t.buf[:len(t.buf)+n]
		if err != nil {
			t.err = err
		}
	}
}

// block returns the next block of the stream.
func (t *track) block(chunk int) frame.Block {
	t.fill(chunk)
	rows, end := chunk, false
	if len(t.buf) <= chunk {
		rows, end = len(t.buf), true
	}
	data := make([]float32, rows)
	copy(data, t.buf)
	t.buf = t.buf[:copy(t.buf, t.buf[rows:])]
	b := frame.Block{
		Stream: t.e.id,
		Layer:  frame.AudioLayer,
		First:  t.next,
		Rows:   rows,
		Cols:   1,
		Data:   data,
		Rate:   frame.SampleRate,
		End:    end,
	}
	t.next += int64(rows)
	return b
}

func (t *track) close() error {
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}
