package dashboard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"clapp/stream/frame"
)

// Geometry is how one layer's frames are pooled into heatmap columns.
type Geometry struct {
	Layer int `json:"layer"`
	// Channels is the layer's width; Group channels are averaged into each
	// of the Rows rows of the heatmap.
	Channels int `json:"channels"`
	Group    int `json:"group"`
	Rows     int `json:"rows"`
	// Rate is the layer's frame rate (frames per second of audio);
	// FramesPerColumn frames are averaged into each column.
	Rate            float64 `json:"rate"`
	FramesPerColumn int     `json:"frames_per_column"`
}

func newGeometry(layer, channels int, rate float64, maxRows int, colsPerSec float64) Geometry {
	g := (channels + maxRows - 1) / maxRows
	fpc := 1
	if rate > 0 {
		fpc = max(1, int(math.Round(rate/colsPerSec)))
	}
	return Geometry{Layer: layer, Channels: channels, Group: g, Rows: (channels + g - 1) / g, Rate: rate, FramesPerColumn: fpc}
}

// heatmap pools the frames of one stream of one layer into columns and
// quantises them with a slowly decaying range. It follows one stream at a
// time: the first it sees, until that stream ends or falls silent for
// switchAfter, so the picture is one voice, not interleaved streams.
type heatmap struct {
	layer      int
	maxRows    int
	colsPerSec float64

	geo    Geometry
	stream string
	last   time.Time // when the followed stream last sent a block
	start  bool      // the next column starts a stream

	sum   []float64 // per row, over the current column's frames
	n     int       // frames in the current column
	colAt int64     // first frame of the current column
	lo    float64   // the colour range, decaying towards the data
	hi    float64

	columns int64 // columns produced
}

const switchAfter = 2 * time.Second

// rangeDecay is how much of the colour range a column lets go of (about
// 8 s of columns to halve at 25 per second): the colours are stable
// while the range follows a change of level.
const rangeDecay = 0.9965

func newHeatmap(layer, maxRows int, colsPerSec float64) *heatmap {
	return &heatmap{layer: layer, maxRows: maxRows, colsPerSec: colsPerSec}
}

// columnsMsg is a batch of quantised columns, ready to encode.
type columnsMsg struct {
	layer  int
	rows   int
	cols   int
	start  bool // the first column starts a new stream
	lo, hi float32
	t      float64 // audio time (s) of the first column's start in its stream
	data   []byte  // cols*rows, column by column, row 0 first
}

// add pools a block; it returns the columns completed (nil when none).
func (h *heatmap) add(b *frame.Block, now time.Time) *columnsMsg {
	if b.Cols <= 0 {
		return nil
	}
	if h.stream != "" && b.Stream != h.stream && now.Sub(h.last) > switchAfter {
		h.stream = "" // the followed stream went quiet: take this one
	}
	if h.stream == "" {
		if h.geo.Channels != b.Cols || h.geo.Rate != b.Rate {
			h.geo = newGeometry(h.layer, b.Cols, b.Rate, h.maxRows, h.colsPerSec)
			h.sum = make([]float64, h.geo.Rows)
		}
		h.stream, h.start = b.Stream, true
		h.n, h.colAt = 0, b.First
		clear(h.sum)
	}
	if b.Stream != h.stream {
		return nil
	}
	h.last = now
	g := h.geo
	var out []float64 // completed columns, row-major by column
	colAt := int64(-1)
	for r := 0; r < b.Rows; r++ {
		row := b.Row(r)
		if h.n == 0 {
			h.colAt = b.First + int64(r)
		}
		for c, v := range row {
			h.sum[c/g.Group] += float64(v)
		}
		h.n++
		if h.n == g.FramesPerColumn {
			if colAt < 0 {
				colAt = h.colAt
			}
			out = h.flush(out)
		}
	}
	if b.End {
		if h.n > 0 { // the stream's last, partial column
			if colAt < 0 {
				colAt = h.colAt
			}
			out = h.flush(out)
		}
		h.stream = ""
	}
	if len(out) == 0 {
		return nil
	}
	return h.quantise(out, colAt)
}

// flush appends the mean of the current column to out.
func (h *heatmap) flush(out []float64) []float64 {
	g := h.geo
	for i, s := range h.sum {
		// The last group may hold fewer channels.
		k := min(g.Group, g.Channels-i*g.Group)
		out = append(out, s/float64(h.n*k))
	}
	clear(h.sum)
	h.n = 0
	return out
}

func (h *heatmap) quantise(vals []float64, colAt int64) *columnsMsg {
	rows := h.geo.Rows
	cols := len(vals) / rows
	for c := 0; c < cols; c++ {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range vals[c*rows : (c+1)*rows] {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if h.columns == 0 && c == 0 {
			h.lo, h.hi = math.Min(lo, 0), hi
		}
		// The range holds peaks and lets go slowly; it always includes 0
		// so ReLU layers start their colour scale at silence.
		h.lo = math.Min(math.Min(lo, 0), h.lo*rangeDecay)
		h.hi = math.Max(hi, h.hi*rangeDecay)
	}
	m := &columnsMsg{layer: h.layer, rows: rows, cols: cols, start: h.start, lo: float32(h.lo), hi: float32(h.hi),
		t: float64(colAt) / h.geo.Rate, data: make([]byte, len(vals))}
	span := h.hi - h.lo
	for i, v := range vals {
		q := 0.0
		if span > 0 {
			q = math.Round(255 * (v - h.lo) / span)
		}
		m.data[i] = byte(min(255, max(0, q)))
	}
	h.start = false
	h.columns += int64(cols)
	return m
}

// Binary column message layout (little-endian); see doc.go.
const (
	kindColumns  = 1
	columnHeader = 24
	flagStart    = 1
)

func (m *columnsMsg) encode() []byte {
	buf := make([]byte, columnHeader+len(m.data))
	buf[0] = kindColumns
	buf[1] = byte(m.layer)
	binary.LittleEndian.PutUint16(buf[2:], uint16(m.rows))
	binary.LittleEndian.PutUint16(buf[4:], uint16(m.cols))
	var flags uint16
	if m.start {
		flags |= flagStart
	}
	binary.LittleEndian.PutUint16(buf[6:], flags)
	binary.LittleEndian.PutUint32(buf[8:], math.Float32bits(m.lo))
	binary.LittleEndian.PutUint32(buf[12:], math.Float32bits(m.hi))
	binary.LittleEndian.PutUint64(buf[16:], math.Float64bits(m.t))
	copy(buf[columnHeader:], m.data)
	return buf
}

// Columns is a decoded column message (the Go side of the page's
// decoder, for clients and tests).
type Columns struct {
	Layer  int
	Rows   int
	Cols   int
	Start  bool    // the first column starts a new stream
	Lo, Hi float32 // the values that byte 0 and byte 255 stand for
	Time   float64 // audio seconds from the stream's start to the first column
	// Data holds Cols columns of Rows bytes, column by column.
	Data []byte
}

// Value returns the pooled activation of row r in column c, dequantised.
func (c *Columns) Value(col, row int) float32 {
	return c.Lo + (c.Hi-c.Lo)*float32(c.Data[col*c.Rows+row])/255
}

// ErrBadColumns reports a binary message that is not a column message.
var ErrBadColumns = errors.New("dashboard: not a column message")

// DecodeColumns decodes a binary WebSocket message of the dashboard.
func DecodeColumns(msg []byte) (Columns, error) {
	if len(msg) < columnHeader || msg[0] != kindColumns {
		return Columns{}, fmt.Errorf("%w: %d bytes", ErrBadColumns, len(msg))
	}
	c := Columns{
		Layer: int(msg[1]),
		Rows:  int(binary.LittleEndian.Uint16(msg[2:])),
		Cols:  int(binary.LittleEndian.Uint16(msg[4:])),
		Start: binary.LittleEndian.Uint16(msg[6:])&flagStart != 0,
		Lo:    math.Float32frombits(binary.LittleEndian.Uint32(msg[8:])),
		Hi:    math.Float32frombits(binary.LittleEndian.Uint32(msg[12:])),
		Time:  math.Float64frombits(binary.LittleEndian.Uint64(msg[16:])),
		Data:  msg[columnHeader:],
	}
	if len(c.Data) != c.Rows*c.Cols {
		return Columns{}, fmt.Errorf("%w: %d bytes for %d rows x %d columns", ErrBadColumns, len(c.Data), c.Rows, c.Cols)
	}
	return c, nil
}
