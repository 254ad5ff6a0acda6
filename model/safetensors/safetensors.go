package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest JSON header accepted, as in the reference
// implementation; a larger length prefix is taken as corruption.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the string metadata.
const metadataKey = "__metadata__"

var (
	// ErrTruncated: the input ends before what its header describes.
	ErrTruncated = errors.New("safetensors: truncated file")
	// ErrCorrupt: the input is not a well-formed safetensors file.
	ErrCorrupt = errors.New("safetensors: corrupt file")
	// ErrUnsupportedDType: a well-formed tensor of a dtype other than F32.
	ErrUnsupportedDType = errors.New("safetensors: unsupported dtype")
	// ErrInvalidTensor: Encode or WriteFile was given a tensor or metadata
	// that cannot be written (Data length not matching Shape, a negative
	// dimension, a duplicate or reserved name, invalid UTF-8).
	ErrInvalidTensor = errors.New("safetensors: invalid tensor")
)

// dtypes of the format, so that a file this package cannot read is told apart
// from a broken one.
var knownDTypes = map[string]bool{
	"BOOL": true, "U8": true, "I8": true, "I16": true, "U16": true,
	"I32": true, "U32": true, "I64": true, "U64": true,
	"F16": true, "BF16": true, "F32": true, "F64": true, "C64": true,
	"F8_E5M2": true, "F8_E4M3": true, "F8_E8M0": true,
	"F4": true, "F6_E2M3": true, "F6_E3M2": true,
}

// Tensor is a named float32 tensor stored row-major. A scalar has an empty
// Shape and one value; a tensor with a zero dimension has no values.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// File is a decoded safetensors file.
type File struct {
	// Tensors sorted by name.
	Tensors []Tensor
	// Metadata from the header's "__metadata__"; never nil.
	Metadata map[string]string
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := slices.BinarySearchFunc(f.Tensors, name, func(t Tensor, name string) int {
		return strings.Compare(t.Name, name)
	})
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}

// Decode parses a safetensors file held in data. The tensors are copied out;
// data may be reused afterwards.
func Decode(data []byte) (*File, error) {
	return decoder{}.decode(data)
}

// decoder carries the name of the input into its errors.
type decoder struct{ source string }

func (d decoder) errorf(kind error, format string, args ...any) error {
	return failf(kind, d.source, format, args...)
}

// failf wraps kind with a message naming source (a file), if not empty:
// "safetensors: corrupt file: ckpt.safetensors: tensor "w": ...".
func failf(kind error, source, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if source != "" {
		msg = source + ": " + msg
	}
	return fmt.Errorf("%w: %s", kind, msg)
}

// entry is one tensor as the header describes it.
type entry struct {
	name       string
	shape      []int
	begin, end uint64
}

func (d decoder) decode(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, d.errorf(ErrTruncated, "%d bytes, shorter than the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, d.errorf(ErrCorrupt, "header length %d exceeds the maximum %d", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, d.errorf(ErrTruncated, "header length %d exceeds the %d bytes that follow it", n, len(data)-8)
	}
	metadata, entries, err := d.parseHeader(data[8 : 8+n])
	if err != nil {
		return nil, err
	}
	body := data[8+n:]

	// The tensors must tile the data section exactly, in offset order.
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	var pos uint64
	prev := ""
	for _, e := range entries {
		switch {
		case e.begin < pos:
			return nil, d.errorf(ErrCorrupt, "tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", e.name, e.begin, e.end, prev, pos)
		case e.begin > pos:
			return nil, d.errorf(ErrCorrupt, "tensor %q: data_offsets [%d, %d] leave a gap: the previous tensor ends at %d", e.name, e.begin, e.end, pos)
		case e.end > uint64(len(body)):
			return nil, d.errorf(ErrTruncated, "tensor %q: data_offsets [%d, %d] end past the data section of %d bytes", e.name, e.begin, e.end, len(body))
		}
		pos, prev = e.end, e.name
	}
	if pos != uint64(len(body)) {
		return nil, d.errorf(ErrCorrupt, "data section has %d bytes, the tensors cover %d", len(body), pos)
	}

	// Only now, with every claim bounded by the real input, allocate.
	f := &File{Tensors: make([]Tensor, len(entries)), Metadata: metadata}
	for i, e := range entries {
		raw := body[e.begin:e.end]
		values := make([]float32, len(raw)/4)
		for j := range values {
			values[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		f.Tensors[i] = Tensor{Name: e.name, Shape: e.shape, Data: values}
	}
	slices.SortFunc(f.Tensors, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	return f, nil
}

func (d decoder) parseHeader(h []byte) (map[string]string, []entry, error) {
	if !utf8.Valid(h) {
		return nil, nil, d.errorf(ErrCorrupt, "header is not valid UTF-8")
	}
	// The reference reader requires the JSON to start at the first byte.
	if len(h) == 0 || h[0] != '{' {
		return nil, nil, d.errorf(ErrCorrupt, "header of %d bytes does not start with '{'", len(h))
	}
	members, end, err := objectMembers(h)
	if err != nil {
		return nil, nil, d.errorf(ErrCorrupt, "header: %v", err)
	}
	// Writers pad the header with spaces; serde_json allows any whitespace.
	if i := bytes.IndexFunc(h[end:], func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i >= 0 {
		return nil, nil, d.errorf(ErrCorrupt, "header: unexpected %q at byte %d after the JSON object", h[end+i], end+i)
	}
	metadata := map[string]string{}
	var entries []entry
	for _, m := range members {
		if m.key == metadataKey {
			if metadata, err = parseMetadata(m.value); err != nil {
				return nil, nil, d.errorf(ErrCorrupt, "header: %s: %v", metadataKey, err)
			}
			continue
		}
		e, err := d.parseEntry(m.key, m.value)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	return metadata, entries, nil
}

func (d decoder) parseEntry(name string, raw json.RawMessage) (entry, error) {
	bad := func(format string, args ...any) error {
		return d.errorf(ErrCorrupt, "tensor %q: %s", name, fmt.Sprintf(format, args...))
	}
	members, _, err := objectMembers(raw)
	if err != nil {
		return entry{}, bad("%v", err)
	}
	var dtype string
	var shape, offsets []uint64
	var seen [3]bool
	for _, m := range members {
		switch m.key {
		case "dtype":
			seen[0] = true
			if len(m.value) == 0 || m.value[0] != '"' || json.Unmarshal(m.value, &dtype) != nil {
				return entry{}, bad("dtype is %s, not a string", m.value)
			}
		case "shape":
			seen[1] = true
			if shape, err = parseUints(m.value); err != nil {
				return entry{}, bad("shape: %v", err)
			}
		case "data_offsets":
			seen[2] = true
			if offsets, err = parseUints(m.value); err != nil {
				return entry{}, bad("data_offsets: %v", err)
			}
		default:
			return entry{}, bad("unknown field %q", m.key)
		}
	}
	for i, field := range []string{"dtype", "shape", "data_offsets"} {
		if !seen[i] {
			return entry{}, bad("missing field %q", field)
		}
	}
	if !knownDTypes[dtype] {
		return entry{}, bad("unknown dtype %q", dtype)
	}
	if dtype != "F32" {
		return entry{}, d.errorf(ErrUnsupportedDType, "tensor %q has dtype %s; only F32 is read", name, dtype)
	}
	if len(offsets) != 2 {
		return entry{}, bad("data_offsets has %d numbers, want 2", len(offsets))
	}
	e := entry{name: name, shape: make([]int, len(shape)), begin: offsets[0], end: offsets[1]}
	if e.end < e.begin {
		return entry{}, bad("data_offsets [%d, %d] end before they begin", e.begin, e.end)
	}
	// Checked arithmetic as in the reference: a product that overflows is
	// an error even if a later dimension is zero.
	nbytes := uint64(4)
	for i, dim := range shape {
		hi, lo := bits.Mul64(nbytes, dim)
		if dim > math.MaxInt || hi != 0 || lo > math.MaxInt {
			return entry{}, bad("shape %v overflows", shape)
		}
		nbytes, e.shape[i] = lo, int(dim)
	}
	if span := e.end - e.begin; span != nbytes {
		return entry{}, bad("shape %v needs %d bytes of F32, data_offsets [%d, %d] span %d", shape, nbytes, e.begin, e.end, span)
	}
	return e, nil
}

// member is one key and raw value of a JSON object, in input order.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers splits the JSON object at the start of raw into its members,
// rejecting duplicate keys (encoding/json would silently keep the last), and
// returns the offset just past the object.
func objectMembers(raw []byte) ([]member, int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil {
		return nil, 0, jsonError(err, dec)
	} else if tok != json.Delim('{') {
		return nil, 0, fmt.Errorf("%s is not a JSON object", describe(tok))
	}
	var members []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, 0, jsonError(err, dec)
		}
		key, ok := tok.(string)
		if !ok { // the decoder reports a syntax error first; be safe anyway
			return nil, 0, fmt.Errorf("object key %s is not a string", describe(tok))
		}
		if seen[key] {
			return nil, 0, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, 0, jsonError(err, dec)
		}
		members = append(members, member{key, value})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, 0, jsonError(err, dec)
	}
	return members, int(dec.InputOffset()), nil
}

// jsonError says where the JSON went wrong.
func jsonError(err error, dec *json.Decoder) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("JSON ends early at byte %d", dec.InputOffset())
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("invalid JSON at byte %d: %v", syntax.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// describe renders a JSON token for an error message.
func describe(tok json.Token) string {
	switch tok := tok.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(tok)
	default:
		return fmt.Sprint(tok)
	}
}

func parseMetadata(raw json.RawMessage) (map[string]string, error) {
	members, _, err := objectMembers(raw)
	if err != nil {
		return nil, err
	}
	metadata := make(map[string]string, len(members))
	for _, m := range members {
		var s string
		if m.value[0] != '"' || json.Unmarshal(m.value, &s) != nil {
			return nil, fmt.Errorf("value of %q is %s, not a string", m.key, m.value)
		}
		metadata[m.key] = s
	}
	return metadata, nil
}

// parseUints parses a JSON array of non-negative integers.
func parseUints(raw json.RawMessage) ([]uint64, error) {
	var elems []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		return nil, fmt.Errorf("%s is not an array", raw)
	}
	out := make([]uint64, len(elems))
	for i, el := range elems {
		s := string(el)
		v, err := strconv.ParseUint(s, 10, 64)
		switch {
		case err == nil:
			out[i] = v
		case strings.HasPrefix(s, "-"):
			return nil, fmt.Errorf("%s is negative", s)
		case errors.Is(err, strconv.ErrRange):
			return nil, fmt.Errorf("%s overflows", s)
		default:
			return nil, fmt.Errorf("%s is not a non-negative integer", s)
		}
	}
	return out, nil
}

// Encode writes tensors and metadata to w as a safetensors file. Tensors are
// written in name order whatever their order in the slice; empty metadata is
// omitted from the header. Every tensor is checked before the first byte is
// written: a Data length that does not match Shape gives ErrInvalidTensor.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, order, err := encodeHeader(tensors, metadata, "")
	if err != nil {
		return err
	}
	if err := writeFile(w, header, order, tensors); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// encodeHeader validates the input and returns the padded JSON header and
// the order in which the tensors' data follow it.
// Errors name source, if not empty.
func encodeHeader(tensors []Tensor, metadata map[string]string, source string) ([]byte, []int, error) {
	invalid := func(format string, args ...any) error {
		return failf(ErrInvalidTensor, source, format, args...)
	}
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, invalid("metadata %q: %q: not valid UTF-8", k, v)
		}
	}
	order := make([]int, len(tensors))
	for i, t := range tensors {
		order[i] = i
		if t.Name == metadataKey || !utf8.ValidString(t.Name) {
			return nil, nil, invalid("tensor name %q is reserved or not valid UTF-8", t.Name)
		}
		n := 1
		for _, dim := range t.Shape {
			hi, lo := bits.Mul64(uint64(n), uint64(dim))
			if dim < 0 || hi != 0 || lo > math.MaxInt/4 {
				return nil, nil, invalid("tensor %q: shape %v is negative or too large", t.Name, t.Shape)
			}
			n = int(lo)
		}
		if n != len(t.Data) {
			return nil, nil, invalid("tensor %q: shape %v holds %d values, Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(tensors[a].Name, tensors[b].Name) })
	for i := 1; i < len(order); i++ {
		if name := tensors[order[i]].Name; name == tensors[order[i-1]].Name {
			return nil, nil, invalid("duplicate tensor name %q", name)
		}
	}

	var b bytes.Buffer
	b.WriteByte('{')
	if len(metadata) > 0 {
		b.WriteString(`"` + metadataKey + `":{`)
		for i, k := range slices.Sorted(maps.Keys(metadata)) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, k)
			b.WriteByte(':')
			writeJSONString(&b, metadata[k])
		}
		b.WriteByte('}')
	}
	offset := 0
	for _, i := range order {
		t := tensors[i]
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		writeJSONString(&b, t.Name)
		b.WriteString(`:{"dtype":"F32","shape":[`)
		for j, dim := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(dim))
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, offset, offset+4*len(t.Data))
		offset += 4 * len(t.Data)
	}
	b.WriteByte('}')
	// Pad so the data section starts 8-byte aligned, as the reference does.
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), order, nil
}

// writeJSONString writes s as a JSON string, without HTML escaping (as
// serde_json writes it).
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a valid UTF-8 string into a bytes.Buffer cannot fail
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

// writeFile writes the length prefix, the header and the tensors' data in the
// given order, in chunks to keep the number of writes small.
func writeFile(w io.Writer, header []byte, order []int, tensors []Tensor) error {
	buf := make([]byte, 8, 1<<16)
	binary.LittleEndian.PutUint64(buf, uint64(len(header)))
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	buf = buf[:0]
	for _, i := range order {
		for _, v := range tensors[i].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
