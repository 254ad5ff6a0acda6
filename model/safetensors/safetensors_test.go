package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rawFile assembles a file from a header exactly as given (no padding) and
// a data section.
func rawFile(header string, body ...byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, body...)
}

// f32 returns the little-endian bytes of vs.
func f32(vs ...float32) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

func randomTensor(rng *rand.Rand, name string, shape ...int) Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return Tensor{Name: name, Shape: shape, Data: data}
}

// sameTensors compares names, shapes and the bits of every value (so NaN
// payloads and -0 count).
func sameTensors(t *testing.T, got, want []Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) || len(g.Data) != len(w.Data) {
			t.Fatalf("tensor %d: got %q %v (%d values), want %q %v (%d values)",
				i, g.Name, g.Shape, len(g.Data), w.Name, w.Shape, len(w.Data))
		}
		for j := range w.Data {
			if math.Float32bits(g.Data[j]) != math.Float32bits(w.Data[j]) {
				t.Fatalf("tensor %q value %d: got %v, want %v", w.Name, j, g.Data[j], w.Data[j])
			}
		}
	}
}

func sortedByName(ts []Tensor) []Tensor {
	out := slices.Clone(ts)
	slices.SortFunc(out, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := Tensor{Name: "special", Shape: []int{6}, Data: []float32{
		float32(math.NaN()), math.Float32frombits(0x7fc00123), float32(math.Inf(1)),
		float32(math.Inf(-1)), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32,
	}}
	tensors := []Tensor{
		randomTensor(rng, "layers.0.conv.weight", 4, 3, 10),
		randomTensor(rng, "layers.0.conv.bias", 4),
		randomTensor(rng, "scalar"),
		randomTensor(rng, "empty", 0),
		randomTensor(rng, "empty.middle", 3, 0, 2),
		randomTensor(rng, "layers.5.gru.weight_hh_l0", 12, 4),
		randomTensor(rng, "big", 70, 300), // more than one 64 KiB write chunk
		randomTensor(rng, "ünïcode <&> \"quoted\"\n", 2),
		special,
	}
	metadata := map[string]string{"step": "12345", "config": `{"lr": 2e-4, "k": 12}`, "": "empty key", "ü<&>": "\x00\t"}

	var first []byte
	for trial := range 3 {
		shuffled := slices.Clone(tensors)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		var buf bytes.Buffer
		if err := Encode(&buf, shuffled, metadata); err != nil {
			t.Fatal(err)
		}
		if trial == 0 {
			first = slices.Clone(buf.Bytes())
		} else if !bytes.Equal(buf.Bytes(), first) {
			t.Fatal("encoding depends on the order of the input tensors")
		}
	}
	if n := binary.LittleEndian.Uint64(first); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}

	f, err := Decode(first)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, f.Tensors, sortedByName(tensors))
	if fmt.Sprint(f.Metadata) != fmt.Sprint(metadata) {
		t.Errorf("metadata: got %v, want %v", f.Metadata, metadata)
	}
	for _, want := range tensors {
		got, ok := f.Tensor(want.Name)
		if !ok || got.Name != want.Name {
			t.Errorf("Tensor(%q): got %q, %v", want.Name, got.Name, ok)
		}
	}
	if _, ok := f.Tensor("missing"); ok {
		t.Error(`Tensor("missing") found something`)
	}

	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := WriteFile(path, tensors, metadata); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, first) {
		t.Error("WriteFile and Encode wrote different bytes")
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, g.Tensors, sortedByName(tensors))
}

func TestRoundTripEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	// "{}" padded to 8 bytes, no data.
	want := rawFile("{}      ")
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("got %q, want %q", buf.Bytes(), want)
	}
	f, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 0 || f.Metadata == nil || len(f.Metadata) != 0 {
		t.Errorf("got %+v, want no tensors and empty non-nil metadata", f)
	}
}

// TestEncodeBytes pins the layout to bytes worked out by hand from the
// format description, not from this package's own reader.
func TestEncodeBytes(t *testing.T) {
	t.Run("reference", func(t *testing.T) {
		// huggingface/safetensors bindings/python/tests/test_simple.py,
		// test_serialization: save({"test": np.zeros((2, 2), np.int32)})
		// gives these bytes with "I32"; zeros of F32 have the same bytes.
		want := []byte("@\x00\x00\x00\x00\x00\x00\x00" +
			`{"test":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}    ` +
			"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
		var buf bytes.Buffer
		if err := Encode(&buf, []Tensor{{Name: "test", Shape: []int{2, 2}, Data: make([]float32, 4)}}, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("got\n%q\nwant\n%q", buf.Bytes(), want)
		}
	})
	t.Run("hand-checked", func(t *testing.T) {
		// The JSON below is 193 bytes, padded with 7 spaces to 200 = 0xc8.
		// Tensors follow in name order: a = 0.5 (0x3f000000), b = [1, -2]
		// (0x3f800000, 0xc0000000), z has no data.
		header := `{"__metadata__":{"step":"17"},` +
			`"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},` +
			`"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},` +
			`"z":{"dtype":"F32","shape":[0,3],"data_offsets":[12,12]}}`
		if len(header) != 193 {
			t.Fatalf("test header has %d bytes, the comment says 193", len(header))
		}
		want := []byte{0xc8, 0, 0, 0, 0, 0, 0, 0}
		want = append(want, header+"       "...)
		want = append(want,
			0x00, 0x00, 0x00, 0x3f,
			0x00, 0x00, 0x80, 0x3f,
			0x00, 0x00, 0x00, 0xc0)
		tensors := []Tensor{
			{Name: "z", Shape: []int{0, 3}},
			{Name: "b", Shape: []int{2}, Data: []float32{1, -2}},
			{Name: "a", Shape: []int{}, Data: []float32{0.5}},
		}
		var buf bytes.Buffer
		if err := Encode(&buf, tensors, map[string]string{"step": "17"}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("got\n%q\nwant\n%q", buf.Bytes(), want)
		}
		f, err := Decode(want)
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, f.Tensors, sortedByName(tensors))
	})
}

// TestDecodeAccepts covers valid files this package would not write itself.
func TestDecodeAccepts(t *testing.T) {
	zeros := make([]byte, 16)
	for _, tc := range []struct {
		name string
		file []byte
		want []Tensor
		meta map[string]string
	}{
		{
			// test_simple.py, test_deserialization with metadata, with F32
			// for I32: the header is not padded to a multiple of 8.
			name: "unpadded header",
			file: rawFile(`{"__metadata__":{"framework":"pt"},"test1":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}       `, zeros...),
			want: []Tensor{{Name: "test1", Shape: []int{2, 2}, Data: make([]float32, 4)}},
			meta: map[string]string{"framework": "pt"},
		},
		{
			name: "other whitespace, members in any order, data not in name order",
			file: rawFile("{\"b\":{\"shape\":[1],\"data_offsets\":[0,4],\"dtype\":\"F32\"},\n \"a\":{\"dtype\":\"F32\",\"shape\":[ 1 ],\"data_offsets\":[4,8]}}\n\t", f32(2, 1)...),
			want: []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "b", Shape: []int{1}, Data: []float32{2}}},
		},
		{
			name: "zero-size tensors at the offset of the next",
			file: rawFile(`{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"f":{"dtype":"F32","shape":[5,0],"data_offsets":[4,4]}}`, f32(3)...),
			want: []Tensor{{Name: "e", Shape: []int{0}}, {Name: "f", Shape: []int{5, 0}}, {Name: "s", Shape: []int{}, Data: []float32{3}}},
		},
		{
			name: "NaN in the data",
			file: rawFile(`{"n":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(float32(math.NaN()), 1)...),
			want: []Tensor{{Name: "n", Shape: []int{2}, Data: []float32{float32(math.NaN()), 1}}},
		},
		{
			name: "only metadata",
			file: rawFile(`{"__metadata__":{}}`),
		},
		{
			name: "escaped names",
			file: rawFile(`{"a\u002eb\n":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"__metadata__":{"\u00fc":"\"x\""}}`, f32(1)...),
			want: []Tensor{{Name: "a.b\n", Shape: []int{}, Data: []float32{1}}},
			meta: map[string]string{"ü": `"x"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Decode(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			sameTensors(t, f.Tensors, tc.want)
			if fmt.Sprint(f.Metadata) != fmt.Sprint(tc.meta) {
				t.Errorf("metadata: got %v, want %v", f.Metadata, tc.meta)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	entry := func(name, shape, offsets string) string {
		return fmt.Sprintf(`%q:{"dtype":"F32","shape":%s,"data_offsets":%s}`, name, shape, offsets)
	}
	one := func(shape, offsets string) string { return "{" + entry("w", shape, offsets) + "}" }
	lengthOnly := func(n uint64, rest int) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), make([]byte, rest)...)
	}
	for _, tc := range []struct {
		name string
		file []byte
		want error
		msg  string // part of the message: what and where
	}{
		{"empty input", nil, ErrTruncated, "0 bytes"},
		{"shorter than the length", []byte{8, 0, 0, 0, 0, 0, 0}, ErrTruncated, "7 bytes"},
		{"header longer than the file", lengthOnly(100, 50), ErrTruncated, "header length 100 exceeds the 50 bytes"},
		{"header longer than the maximum", lengthOnly(MaxHeaderSize+1, 10), ErrCorrupt, "exceeds the maximum"},
		{"header length 2^64-1", lengthOnly(math.MaxUint64, 10), ErrCorrupt, "exceeds the maximum"},
		{"empty header", rawFile(""), ErrCorrupt, "does not start with '{'"},
		{"leading space", rawFile(` {}`), ErrCorrupt, "does not start with '{'"},
		{"invalid UTF-8", rawFile("{\"\xff\":1}"), ErrCorrupt, "UTF-8"},
		{"JSON ends early", rawFile(`{"w":`), ErrCorrupt, "JSON ends early at byte"},
		{"syntax error", rawFile(`{"w" 1}`), ErrCorrupt, "invalid JSON at byte"},
		{"not an object", rawFile(`[1]`), ErrCorrupt, "does not start with '{'"},
		{"trailing garbage", rawFile(`{} x`), ErrCorrupt, `unexpected 'x' at byte 3`},
		{"second object", rawFile(`{}{}`), ErrCorrupt, `unexpected '{' at byte 2`},
		{"NUL padding", rawFile("{}\x00"), ErrCorrupt, `unexpected '\x00'`},
		{"entry not an object", rawFile(`{"w":[0,4]}`), ErrCorrupt, `tensor "w": [ is not a JSON object`},
		{"entry null", rawFile(`{"w":null}`), ErrCorrupt, `tensor "w"`},
		{"unknown field", rawFile(`{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4],"offset":0}}`, f32(1)...), ErrCorrupt, `tensor "w": unknown field "offset"`},
		{"field in other case", rawFile(`{"w":{"DTYPE":"F32","shape":[],"data_offsets":[0,4]}}`, f32(1)...), ErrCorrupt, `tensor "w": unknown field "DTYPE"`},
		{"duplicate field", rawFile(`{"w":{"dtype":"F32","shape":[],"shape":[],"data_offsets":[0,4]}}`, f32(1)...), ErrCorrupt, `tensor "w": duplicate key "shape"`},
		{"missing dtype", rawFile(`{"w":{"shape":[],"data_offsets":[0,4]}}`, f32(1)...), ErrCorrupt, `tensor "w": missing field "dtype"`},
		{"missing shape", rawFile(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, f32(1)...), ErrCorrupt, `tensor "w": missing field "shape"`},
		{"missing offsets", rawFile(`{"w":{"dtype":"F32","shape":[]}}`, f32(1)...), ErrCorrupt, `tensor "w": missing field "data_offsets"`},
		{"dtype not a string", rawFile(`{"w":{"dtype":32,"shape":[],"data_offsets":[0,4]}}`, f32(1)...), ErrCorrupt, `tensor "w": dtype is 32`},
		{"dtype null", rawFile(`{"w":{"dtype":null,"shape":[],"data_offsets":[0,4]}}`, f32(1)...), ErrCorrupt, `tensor "w": dtype is null`},
		{"unknown dtype", rawFile(`{"w":{"dtype":"f32","shape":[],"data_offsets":[0,4]}}`, f32(1)...), ErrCorrupt, `tensor "w": unknown dtype "f32"`},
		{"dtype F16", rawFile(`{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, f32(1)...), ErrUnsupportedDType, `tensor "w" has dtype F16`},
		{"dtype I64", rawFile(`{"w":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, f32(1, 0)...), ErrUnsupportedDType, `tensor "w" has dtype I64`},
		{"shape null", rawFile(one(`null`, `[0,4]`), f32(1)...), ErrCorrupt, `tensor "w": shape: null is not an array`},
		{"shape not an array", rawFile(one(`4`, `[0,4]`), f32(1)...), ErrCorrupt, `tensor "w": shape: 4 is not an array`},
		{"negative dimension", rawFile(one(`[-1]`, `[0,4]`), f32(1)...), ErrCorrupt, `tensor "w": shape: -1 is negative`},
		{"fractional dimension", rawFile(one(`[1.5]`, `[0,4]`), f32(1)...), ErrCorrupt, `tensor "w": shape: 1.5 is not a non-negative integer`},
		{"exponent dimension", rawFile(one(`[1e0]`, `[0,4]`), f32(1)...), ErrCorrupt, `shape: 1e0 is not`},
		{"string dimension", rawFile(one(`["1"]`, `[0,4]`), f32(1)...), ErrCorrupt, `shape: "1" is not`},
		{"dimension beyond uint64", rawFile(one(`[18446744073709551616]`, `[0,4]`), f32(1)...), ErrCorrupt, `shape: 18446744073709551616 overflows`},
		{"dimension beyond int", rawFile(one(`[9223372036854775808]`, `[0,4]`), f32(1)...), ErrCorrupt, `shape [9223372036854775808] overflows`},
		{"product overflows", rawFile(one(`[4294967296,4294967296]`, `[0,4]`), f32(1)...), ErrCorrupt, `shape [4294967296 4294967296] overflows`},
		{"overflow before a zero", rawFile(one(`[4294967296,4294967296,0]`, `[0,0]`)), ErrCorrupt, "overflows"},
		{"product times 4 overflows", rawFile(one(`[4611686018427387904]`, `[0,4]`), f32(1)...), ErrCorrupt, "overflows"},
		{"span too small for shape", rawFile(one(`[2,3]`, `[0,20]`), make([]byte, 20)...), ErrCorrupt, `tensor "w": shape [2 3] needs 24 bytes of F32, data_offsets [0, 20] span 20`},
		{"span too large for shape", rawFile(one(`[]`, `[0,8]`), make([]byte, 8)...), ErrCorrupt, `shape [] needs 4 bytes`},
		{"offsets reversed", rawFile(one(`[]`, `[4,0]`), f32(1)...), ErrCorrupt, `tensor "w": data_offsets [4, 0] end before they begin`},
		{"one offset", rawFile(one(`[]`, `[4]`), f32(1)...), ErrCorrupt, `data_offsets has 1 numbers, want 2`},
		{"three offsets", rawFile(one(`[]`, `[0,4,8]`), f32(1)...), ErrCorrupt, `data_offsets has 3 numbers, want 2`},
		{"negative offset", rawFile(one(`[]`, `[-4,0]`), f32(1)...), ErrCorrupt, `data_offsets: -4 is negative`},
		{"offset beyond uint64", rawFile(one(`[]`, `[0,18446744073709551620]`), f32(1)...), ErrCorrupt, `overflows`},
		{"offsets past the data", rawFile(one(`[]`, `[0,4]`)), ErrTruncated, `tensor "w": data_offsets [0, 4] end past the data section of 0 bytes`},
		{"offsets far past the data", rawFile(one(`[1000000,1000]`, `[0,4000000000]`)), ErrTruncated, `end past the data section`},
		{"data section short", rawFile("{"+entry("a", "[2]", "[0,8]")+","+entry("b", "[2]", "[8,16]")+"}", make([]byte, 12)...), ErrTruncated, `tensor "b": data_offsets [8, 16] end past the data section of 12 bytes`},
		{"data section long", rawFile(one(`[]`, `[0,4]`), make([]byte, 8)...), ErrCorrupt, `data section has 8 bytes, the tensors cover 4`},
		{"data with no tensors", rawFile(`{}`, 1, 2, 3, 4), ErrCorrupt, `data section has 4 bytes, the tensors cover 0`},
		{"first tensor not at 0", rawFile(one(`[]`, `[4,8]`), make([]byte, 8)...), ErrCorrupt, `tensor "w": data_offsets [4, 8] leave a gap: the previous tensor ends at 0`},
		{"gap", rawFile("{"+entry("a", "[1]", "[0,4]")+","+entry("b", "[1]", "[8,12]")+"}", make([]byte, 12)...), ErrCorrupt, `tensor "b": data_offsets [8, 12] leave a gap`},
		{"overlap", rawFile("{"+entry("a", "[2]", "[0,8]")+","+entry("b", "[2]", "[4,12]")+"}", make([]byte, 12)...), ErrCorrupt, `tensor "b": data_offsets [4, 12] overlap tensor "a", which ends at 8`},
		{"same offsets", rawFile("{"+entry("a", "[1]", "[0,4]")+","+entry("b", "[1]", "[0,4]")+"}", make([]byte, 8)...), ErrCorrupt, `overlap tensor "a"`},
		{"empty tensor inside another", rawFile("{"+entry("a", "[2]", "[0,8]")+","+entry("e", "[0]", "[4,4]")+"}", make([]byte, 8)...), ErrCorrupt, `tensor "e": data_offsets [4, 4] overlap tensor "a"`},
		{"duplicate tensor", rawFile("{"+entry("a", "[1]", "[0,4]")+","+entry("a", "[1]", "[4,8]")+"}", make([]byte, 8)...), ErrCorrupt, `duplicate key "a"`},
		{"duplicate after unescaping", rawFile("{"+entry("a", "[1]", "[0,4]")+`,"\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)...), ErrCorrupt, `duplicate key "a"`},
		{"metadata not an object", rawFile(`{"__metadata__":"x"}`), ErrCorrupt, `__metadata__: "x" is not a JSON object`},
		{"metadata null", rawFile(`{"__metadata__":null}`), ErrCorrupt, `__metadata__`},
		{"metadata value not a string", rawFile(`{"__metadata__":{"step":7}}`), ErrCorrupt, `__metadata__: value of "step" is 7, not a string`},
		{"metadata duplicate key", rawFile(`{"__metadata__":{"k":"a","k":"b"}}`), ErrCorrupt, `__metadata__: duplicate key "k"`},
		{"metadata twice", rawFile(`{"__metadata__":{},"__metadata__":{}}`), ErrCorrupt, `duplicate key "__metadata__"`},
		{"deep nesting", rawFile(`{"w":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}"), ErrCorrupt, `header`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Decode(tc.file)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", f)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message %q does not start with \"safetensors: \" or lacks %q", err, tc.msg)
			}
			t.Log(err)
		})
	}
}

func TestReadFileNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "broken.safetensors")
	if err := os.WriteFile(path, rawFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 1, 2, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), path+`: tensor "w"`) {
		t.Errorf("got %v, want ErrTruncated naming %s and the tensor", err, path)
	}
	_, err = ReadFile(filepath.Join(dir, "missing.safetensors"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("got %v, want a not-exist error naming the file", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	ok := Tensor{Name: "ok", Shape: []int{1}, Data: []float32{1}}
	for _, tc := range []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
		msg      string
	}{
		{"too few values", []Tensor{ok, {Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}}, nil, `tensor "w": shape [2 3] holds 6 values, Data has 5`},
		{"too many values", []Tensor{{Name: "w", Shape: []int{}, Data: make([]float32, 2)}}, nil, `shape [] holds 1 values, Data has 2`},
		{"zero size with data", []Tensor{{Name: "w", Shape: []int{0, 4}, Data: make([]float32, 1)}}, nil, `holds 0 values, Data has 1`},
		{"negative dimension", []Tensor{{Name: "w", Shape: []int{-2, -3}, Data: make([]float32, 6)}}, nil, `tensor "w": shape [-2 -3] is negative or too large`},
		{"overflowing shape", []Tensor{{Name: "w", Shape: []int{1 << 40, 1 << 40, 0}}}, nil, `is negative or too large`},
		{"duplicate name", []Tensor{ok, ok}, nil, `duplicate tensor name "ok"`},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: []int{}, Data: []float32{1}}}, nil, `"__metadata__" is reserved`},
		{"invalid UTF-8 name", []Tensor{{Name: "w\xff", Shape: []int{}, Data: []float32{1}}}, nil, `not valid UTF-8`},
		{"invalid UTF-8 metadata", []Tensor{ok}, map[string]string{"k": "\xfe"}, `metadata "k"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tc.tensors, tc.metadata)
			if !errors.Is(err, ErrInvalidTensor) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrInvalidTensor with %q", err, tc.msg)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestEncodeWriteError(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tensors := []Tensor{randomTensor(rng, "a", 100, 300), randomTensor(rng, "b", 7)}
	var buf bytes.Buffer
	if err := Encode(&buf, tensors, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 5, 8, 100, 70000, buf.Len() - 1} {
		if err := Encode(&failingWriter{n: n}, tensors, nil); !errors.Is(err, errDiskFull) {
			t.Errorf("failing after %d bytes: got %v, want the writer's error", n, err)
		}
	}
	if err := Encode(&failingWriter{n: buf.Len()}, tensors, nil); err != nil {
		t.Errorf("writer with exactly enough room: %v", err)
	}
}

// dirNames lists a directory, so tests can see stray temporary files.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	oldTensors := []Tensor{randomTensor(rng, "w", 3, 4)}
	newTensors := []Tensor{randomTensor(rng, "w", 3, 4), randomTensor(rng, "b", 3)}

	// setup writes the old checkpoint and returns its path and bytes.
	setup := func(t *testing.T) (string, []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "ckpt.safetensors")
		if err := WriteFile(path, oldTensors, map[string]string{"step": "1"}); err != nil {
			t.Fatal(err)
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return path, old
	}
	unchanged := func(t *testing.T, path string, old []byte) {
		t.Helper()
		now, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(now, old) {
			t.Error("the old checkpoint was changed")
		}
		if names := dirNames(t, filepath.Dir(path)); !slices.Equal(names, []string{filepath.Base(path)}) {
			t.Errorf("directory holds %q, want only the checkpoint", names)
		}
	}

	t.Run("replace", func(t *testing.T) {
		path, _ := setup(t)
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(path, newTensors, map[string]string{"step": "2"}); err != nil {
			t.Fatal(err)
		}
		f, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, f.Tensors, sortedByName(newTensors))
		if f.Metadata["step"] != "2" {
			t.Errorf("metadata %v, want step 2", f.Metadata)
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("mode after replace: %v, %v; want 0600 kept", info.Mode(), err)
		}
		if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
			t.Errorf("directory holds %q, want only the checkpoint", names)
		}
	})
	t.Run("new file mode", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "new.safetensors")
		if err := WriteFile(path, newTensors, nil); err != nil {
			t.Fatal(err)
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("mode of a new file: %v, %v; want 0644", info.Mode(), err)
		}
	})
	t.Run("invalid tensor", func(t *testing.T) {
		path, old := setup(t)
		bad := append(slices.Clone(newTensors), Tensor{Name: "short", Shape: []int{4}, Data: make([]float32, 3)})
		err := WriteFile(path, bad, nil)
		if !errors.Is(err, ErrInvalidTensor) || !strings.Contains(err.Error(), path) {
			t.Errorf("got %v, want ErrInvalidTensor naming %s", err, path)
		}
		unchanged(t, path, old)
	})
	t.Run("rename fails", func(t *testing.T) {
		// A non-empty directory at the target: everything up to the rename
		// succeeds, the rename cannot.
		dir := t.TempDir()
		path := filepath.Join(dir, "ckpt.safetensors")
		if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(path, newTensors, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("got %v, want an error naming %s", err, path)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"ckpt.safetensors"}) {
			t.Errorf("directory holds %q, want only the target directory", names)
		}
		if names := dirNames(t, path); !slices.Equal(names, []string{"inside"}) {
			t.Errorf("target directory holds %q", names)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "no", "ckpt.safetensors")
		if err := WriteFile(path, newTensors, nil); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want a not-exist error", err)
		}
	})
	t.Run("read-only directory", func(t *testing.T) {
		path, old := setup(t)
		dir := filepath.Dir(path)
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		if probe, err := os.CreateTemp(dir, "probe"); err == nil {
			probe.Close()
			os.Remove(probe.Name())
			t.Skip("read-only directory is writable here (running as root?)")
		}
		if err := WriteFile(path, newTensors, nil); !errors.Is(err, os.ErrPermission) {
			t.Errorf("got %v, want a permission error", err)
		}
		unchanged(t, path, old)
	})
}
