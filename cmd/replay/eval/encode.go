package eval

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"clapp/model"
)

// IndexFile is the name of the index Encode writes next to the features.
const IndexFile = "index.json"

// Index describes the features Encode wrote: the encoder, every layer's
// timing and every utterance.
type Index struct {
	// Features and Name say which encoder (e.g. checkpoint and its path).
	Features   string       `json:"features"`
	Name       string       `json:"name"`
	Model      model.Config `json:"model"`
	Data       string       `json:"data"`
	SampleRate int          `json:"sample_rate"`
	// Layout says where the features of utterance <id> and layer <n> are.
	Layout     string           `json:"layout"`
	Layers     []IndexLayer     `json:"layers"`
	Utterances []IndexUtterance `json:"utterances"`
	Skipped    []Skip           `json:"skipped,omitempty"`
	Seconds    float64          `json:"seconds"`
}

// IndexLayer is the timing of one layer's frames. Frame t of the layer
// depends on samples [FieldStart + t Hop, FieldStart + t Hop + FieldWidth)
// and its centre is at FieldStart + t Hop + FieldWidth/2 samples (Centre
// spells it out); samples before 0 are the convolutions' zero padding.
type IndexLayer struct {
	Layer      int     `json:"layer"`
	Kind       string  `json:"kind"` // "conv" or "gru"
	File       string  `json:"file"`
	Channels   int     `json:"channels"`
	FrameRate  float64 `json:"frame_rate_hz"`
	Hop        int     `json:"hop_samples"`
	FieldStart int     `json:"field_start_samples"`
	FieldWidth int     `json:"field_width_samples"`
	Centre     string  `json:"centre"`
}

// IndexUtterance is one encoded utterance: its audio length and the number
// of frames of every layer (layer n at index n-1).
type IndexUtterance struct {
	ID      string `json:"id"`
	Samples int    `json:"samples"`
	Frames  []int  `json:"frames"`
}

// Encode runs the encoder of f over every utterance in the directory
// cfg.Data (in parallel, one utterance per worker) and writes every layer's
// frames, on the layer's own frame rate and without any alignment, to
// <out>/<utterance id>/layer<n>.npy (NumPy .npy v1.0, little-endian float32,
// shape (frames, channels)), then <out>/index.json. Files are written
// through temporary files and renamed, so a file that exists is complete.
// An unreadable audio file is skipped, named in the index and logged.
func Encode(ctx context.Context, f Features, out string, cfg Config) (*Index, error) {
	if f.Encoder == nil {
		return nil, fmt.Errorf("%w: encode needs an encoder (a checkpoint or a random init), not %s", ErrConfig, f.Kind)
	}
	if cfg.Data == Synthetic || cfg.Data == "" {
		return nil, fmt.Errorf("%w: encode reads a directory of audio, not %q", ErrConfig, cfg.Data)
	}
	cfg, err := cfg.Fill()
	if err != nil {
		return nil, err
	}
	ensureBLAS(cfg)
	start := time.Now()
	dir, err := filepath.Abs(cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: data %s: %w", ErrConfig, cfg.Data, err)
	}
	files, err := indexAudio(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("%w: output directory %s: %w", ErrConfig, out, err)
	}
	ids := make([]string, 0, len(files))
	for id := range files {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	mc := f.Encoder.Config
	idx := &Index{Features: f.Kind, Name: f.Name, Model: mc, Data: dir, SampleRate: model.SampleRate,
		Layout: "<utterance id>/layer<n>.npy"}
	for _, n := range f.Layers() {
		fd := f.geo.Field(n)
		kind := "conv"
		if n > len(mc.Convs) {
			kind = "gru"
		}
		idx.Layers = append(idx.Layers, IndexLayer{Layer: n, Kind: kind, File: npyName(n), Channels: f.Width(n),
			FrameRate: mc.FrameRate(n), Hop: fd.Jump, FieldStart: fd.Start, FieldWidth: fd.Width,
			Centre: centreFormula(fd.Start, fd.Jump, fd.Width)})
	}

	enc := inference(f.Encoder)
	utts := make([]IndexUtterance, len(ids))
	var mu sync.Mutex
	bar := newBar(cfg, len(ids), "encoding")
	err = parallel(ctx, len(ids), cfg.Workers, func(i int) error {
		id := ids[i]
		x, err := readAudio(files[id], 0)
		if err != nil {
			mu.Lock()
			idx.Skipped = append(idx.Skipped, Skip{id, err.Error()})
			mu.Unlock()
			cfg.Logger.Warn("eval: unreadable audio skipped", "utt", id, "err", err)
			bar.add(1)
			return nil
		}
		outs := enc.Encode(x)
		ud := filepath.Join(out, id)
		if err := os.MkdirAll(ud, 0o755); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		u := IndexUtterance{ID: id, Samples: len(x)}
		for li, z := range outs {
			n := li + 1
			w := f.Width(n)
			u.Frames = append(u.Frames, len(z)/w)
			if err := writeNPYFile(filepath.Join(ud, npyName(n)), z, len(z)/w, w); err != nil {
				return fmt.Errorf("eval: utterance %s layer %d: %w", id, n, err)
			}
		}
		utts[i] = u
		bar.add(1)
		return nil
	})
	bar.finish()
	if err != nil {
		return nil, err
	}
	for _, u := range utts {
		if u.ID != "" {
			idx.Utterances = append(idx.Utterances, u)
		}
	}
	slices.SortFunc(idx.Skipped, func(a, b Skip) int { return strings.Compare(a.ID, b.ID) })
	idx.Seconds = time.Since(start).Seconds()
	if err := writeJSONAtomic(filepath.Join(out, IndexFile), idx); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	return idx, nil
}

func npyName(layer int) string { return "layer" + strconv.Itoa(layer) + ".npy" }

// centreFormula spells out the centre of frame t in samples.
func centreFormula(start, hop, width int) string {
	c := float64(start) + float64(width)/2
	s := fmt.Sprintf("centre(t) = %d + %d t + %d/2 = %d t", start, hop, width, hop)
	switch {
	case c > 0:
		s += fmt.Sprintf(" + %g", c)
	case c < 0:
		s += fmt.Sprintf(" - %g", -c)
	}
	return s + " samples (t from 0; seconds: divide by 16000)"
}

// WriteNPY writes rows x cols float32 values (row-major) as a NumPy .npy
// file, format version 1.0: the magic "\x93NUMPY", version 1 0, the header
// length (uint16, little-endian) and a header dict padded with spaces and
// ended by a newline so that the data starts at a multiple of 64 bytes, then
// the values as little-endian float32 ('<f4'), C order.
func WriteNPY(w io.Writer, data []float32, rows, cols int) error {
	if len(data) != rows*cols {
		panic(fmt.Sprintf("eval: WriteNPY: %d values for %d x %d", len(data), rows, cols))
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.Write(npyHeader(rows, cols)); err != nil {
		return err
	}
	var b [4]byte
	for _, v := range data {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		if _, err := bw.Write(b[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// npyHeader returns the preamble and header of a (rows, cols) '<f4' array.
func npyHeader(rows, cols int) []byte {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	const pre = 10 // magic (6), version (2), header length (2)
	total := pre + len(dict) + 1
	pad := (64 - total%64) % 64
	h := make([]byte, 0, total+pad)
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	for range pad {
		h = append(h, ' ')
	}
	return append(h, '\n')
}

func writeNPYFile(path string, data []float32, rows, cols int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := WriteNPY(tmp, data, rows, cols); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
