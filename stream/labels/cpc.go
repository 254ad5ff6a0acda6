package labels

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// NumCPCClasses is the number of classes of the CPC phone-label file
// (converted_aligned_phones.txt): 0..40. The file does not name them.
const NumCPCClasses = 41

// CPC frame geometry: frame i of the CPC label file covers samples
// [CPCHop i, CPCHop i + CPCWindow).
const (
	CPCHop    = 160
	CPCWindow = 400
)

// maxCPCLine bounds a line of a CPC label file: 1 MiB holds about 30
// minutes of labels; LibriSpeech utterances are under 35 s.
const maxCPCLine = 1 << 20

// ParseCPCLine parses one line of a CPC phone-label file, "<utt> l0 l1 ...",
// fields separated by spaces or tabs, a trailing "\r" ignored. Every label
// must be a decimal integer in 0..40 and there must be at least one. The
// error wraps ErrCPC and says which field is wrong; the readers name the
// file and line too.
func ParseCPCLine(line []byte) (utt string, classes []uint8, err error) {
	utt, classes, msg := parseCPC(line)
	if msg != "" {
		return "", nil, fmt.Errorf("%w: %s", ErrCPC, msg)
	}
	return utt, classes, nil
}

// parseCPC parses a line; msg says what is wrong, empty if nothing is.
func parseCPC(line []byte) (utt string, classes []uint8, msg string) {
	id, rest := cpcField(bytes.TrimSuffix(line, []byte{'\r'}))
	if len(id) == 0 {
		return "", nil, "empty line"
	}
	classes = make([]uint8, 0, len(rest)/2)
	for n := 1; ; n++ {
		var f []byte
		if f, rest = cpcField(rest); len(f) == 0 {
			break
		}
		c, ok := cpcClass(f)
		if !ok {
			return "", nil, fmt.Sprintf("utterance %s: label %d %q is not an integer in 0..%d", id, n, f, NumCPCClasses-1)
		}
		classes = append(classes, c)
	}
	if len(classes) == 0 {
		return "", nil, fmt.Sprintf("utterance %s has no labels", id)
	}
	return string(id), classes, ""
}

// cpcField returns the first field of b and what follows it.
func cpcField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

func cpcClass(f []byte) (uint8, bool) {
	if len(f) > 2 {
		return 0, false
	}
	v := 0
	for _, c := range f {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = 10*v + int(c-'0')
	}
	return uint8(v), v < NumCPCClasses
}

// cpcLines calls fn for every line of r with its 1-based number. Lines
// longer than maxCPCLine are an error; a final line without "\n" counts.
func cpcLines(r io.Reader, name string, fn func(line []byte, n int, offset int64) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	var offset int64
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxCPCLine {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			if len(long) > maxCPCLine {
				return &Error{File: name, Line: n, Msg: fmt.Sprintf("line longer than %d bytes", maxCPCLine), Err: ErrCPC}
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("labels: %s:%d: %w", name, n, err)
		}
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		start := offset
		offset += int64(len(line))
		if ferr := fn(bytes.TrimSuffix(line, []byte{'\n'}), n, start); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
	}
}

// ReadCPC reads a CPC phone-label file from r as a stream and returns the
// labels of the utterances keep accepts (all of them if keep is nil),
// without holding the rest: the full file of train-clean-100 is ~28k lines
// and tens of MB. Lines that are not kept are checked for an id only. A
// malformed kept line, an empty line or an id seen twice is an *Error
// wrapping ErrCPC naming name and the line.
func ReadCPC(r io.Reader, name string, keep func(utt string) bool) (map[string][]uint8, error) {
	out := make(map[string][]uint8)
	seen := make(map[string]int)
	err := cpcLines(r, name, func(line []byte, n int, _ int64) error {
		id, _ := cpcField(bytes.TrimSuffix(line, []byte{'\r'}))
		if len(id) == 0 {
			return &Error{File: name, Line: n, Msg: "empty line", Err: ErrCPC}
		}
		if prev, dup := seen[string(id)]; dup {
			return &Error{File: name, Line: n, Msg: fmt.Sprintf("utterance %s already on line %d", id, prev), Err: ErrCPC}
		}
		seen[string(id)] = n
		if keep != nil && !keep(string(id)) {
			return nil
		}
		utt, classes, msg := parseCPC(line)
		if msg != "" {
			return &Error{File: name, Line: n, Msg: msg, Err: ErrCPC}
		}
		out[utt] = classes
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CPCFile is an index of a CPC phone-label file on disk: opening it reads
// the file once and keeps only each line's offset, so labels are read
// utterance by utterance. It is safe for concurrent use.
type CPCFile struct {
	f     *os.File
	name  string
	lines map[string]cpcLine
}

type cpcLine struct {
	offset int64
	length int
	n      int
}

// OpenCPC indexes the CPC phone-label file at path. An empty line or an id
// seen twice is an error; the labels themselves are checked when read.
func OpenCPC(path string) (*CPCFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	c := &CPCFile{f: f, name: path, lines: make(map[string]cpcLine)}
	err = cpcLines(f, path, func(line []byte, n int, offset int64) error {
		id, _ := cpcField(bytes.TrimSuffix(line, []byte{'\r'}))
		if len(id) == 0 {
			return &Error{File: path, Line: n, Msg: "empty line", Err: ErrCPC}
		}
		if prev, dup := c.lines[string(id)]; dup {
			return &Error{File: path, Line: n, Msg: fmt.Sprintf("utterance %s already on line %d", id, prev.n), Err: ErrCPC}
		}
		c.lines[string(id)] = cpcLine{offset: offset, length: len(line), n: n}
		return nil
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

// Len returns the number of utterances in the file.
func (c *CPCFile) Len() int { return len(c.lines) }

// Has reports whether the file holds labels for utt.
func (c *CPCFile) Has(utt string) bool { _, ok := c.lines[utt]; return ok }

// Utterances returns the ids in the file, sorted.
func (c *CPCFile) Utterances() []string {
	ids := make([]string, 0, len(c.lines))
	for id := range c.lines {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Labels reads and parses the labels of utt: one class per CPC frame
// (not yet on the canonical grid; see CPCToGrid). An id not in the file
// wraps ErrUtterance.
func (c *CPCFile) Labels(utt string) ([]uint8, error) {
	l, ok := c.lines[utt]
	if !ok {
		return nil, &Error{File: c.name, Msg: fmt.Sprintf("no utterance %q", utt), Err: ErrUtterance}
	}
	buf := make([]byte, l.length)
	if _, err := c.f.ReadAt(buf, l.offset); err != nil {
		return nil, fmt.Errorf("labels: %s:%d: %w", c.name, l.n, err)
	}
	_, classes, msg := parseCPC(bytes.TrimSuffix(buf, []byte{'\n'}))
	if msg != "" {
		return nil, &Error{File: c.name, Line: l.n, Msg: msg, Err: ErrCPC}
	}
	return classes, nil
}

// Close closes the file.
func (c *CPCFile) Close() error { return c.f.Close() }

// CPCFrames returns the number of CPC label frames of an utterance of
// samples samples: the windows of 400 samples at a hop of 160 that fit,
// floor((samples - 400)/160) + 1, or 0.
func CPCFrames(samples int) int {
	if samples < CPCWindow {
		return 0
	}
	return (samples-CPCWindow)/CPCHop + 1
}

// CPCFrameOf returns the CPC frame that grid position j takes, for an
// utterance with frames CPC frames (frames > 0): the frame whose window
// centre 160 i + 200 is nearest the grid time 160 j + 80, which is
// i = j - 1 (40 samples early), clamped to [0, frames-1].
//
// Grid position 0 is always clamped to frame 0 (its centre is 120 samples
// later, still inside frame 0's window), and the last grid position is
// clamped to the last frame when samples mod 160 < 80 (it lies 200 samples
// after that frame's centre, at the end of its window). All other positions are
// their own nearest frame.
func CPCFrameOf(j, frames int) int { return max(0, min(j-1, frames-1)) }

// CPCToGrid maps the labels of one utterance of the CPC file onto the
// canonical grid of its audio of samples samples (see CPCFrameOf). The
// label count must be CPCFrames(samples); otherwise the labels belong to
// other audio and the error wraps ErrLength.
func CPCToGrid(utt string, cpc []uint8, samples int) (Seq, error) {
	if want := CPCFrames(samples); len(cpc) != want || want == 0 {
		return Seq{}, &Error{File: utt, Err: ErrLength,
			Msg: fmt.Sprintf("%d CPC labels for %d samples, which have %d frames of %d at a hop of %d", len(cpc), samples, want, CPCWindow, CPCHop)}
	}
	out := make([]uint8, GridLen(samples))
	for j := range out {
		out[j] = cpc[CPCFrameOf(j, len(cpc))]
	}
	return Seq{Utt: utt, Classes: out}, nil
}
