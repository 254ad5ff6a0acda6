package frame

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// randomBlock returns a block of rows x cols values drawn from rng,
// including values whose bits must survive exactly: negative zero,
// subnormals and the largest finite float32.
func randomBlock(rng *rand.Rand, layer, rows, cols int, rate float64) Block {
	b := Block{Stream: "103-1240-0000", Layer: layer, First: rng.Int64N(1 << 40), Rows: rows, Cols: cols, Rate: rate, Data: make([]float32, rows*cols)}
	for i := range b.Data {
		b.Data[i] = float32(rng.NormFloat64())
	}
	special := []float32{float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.MaxFloat32, math.MaxFloat32}
	for i := 0; i < len(special) && i < len(b.Data); i++ {
		b.Data[i] = special[i]
	}
	return b
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name              string
		layer, rows, cols int
		rate              float64
		model             string
		end               bool
	}{
		{"audio", AudioLayer, 1600, 1, SampleRate, "", false},
		{"audio-end-empty", AudioLayer, 0, 1, SampleRate, "", true},
		{"layer1", 1, 320, 512, 3200, "m-1", false},
		{"layer5-10ms", 5, 1, 512, 100, "clapp-2026-11-03T10:00:00Z", false},
		{"layer6-block", 6, 128, 256, 100, "v2", true},
		{"labels", LabelLayer, 50, 1, 100, "", false},
		{"odd-rate", 3, 7, 3, 1000.0 / 3, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := randomBlock(rng, tc.layer, tc.rows, tc.cols, tc.rate)
			b.Model, b.End = tc.model, tc.end
			h, p, err := Encode(&b)
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != 4*tc.rows*tc.cols {
				t.Fatalf("payload %d bytes, want %d", len(p), 4*tc.rows*tc.cols)
			}
			for _, k := range []string{HeaderStream, HeaderFirst, HeaderRows, HeaderCols, HeaderDtype, HeaderLayer, HeaderRate} {
				if len(h[k]) != 1 {
					t.Errorf("header %s = %q", k, h[k])
				}
			}
			if _, ok := h[HeaderEnd]; ok != tc.end {
				t.Errorf("Clapp-End present = %v, want %v", ok, tc.end)
			}
			if _, ok := h[HeaderModel]; ok != (tc.model != "") {
				t.Errorf("Clapp-Model present = %v", ok)
			}
			var d Decoder
			got, err := d.Decode(h, p)
			if err != nil {
				t.Fatal(err)
			}
			if !sameBits(got.Data, b.Data) {
				t.Fatal("data not bit-exact")
			}
			got.Data, b.Data = nil, nil
			if !reflect.DeepEqual(got, b) {
				t.Fatalf("decoded %+v, want %+v", got, b)
			}
			if s := d.Stats(); s.Decoded != 1 || s.Rejected() != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestPayloadLayout(t *testing.T) {
	b := Block{Stream: "s", Layer: 1, Rows: 2, Cols: 2, Rate: 3200, Data: []float32{1, -2, 0.5, 0}}
	_, p, err := Encode(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f, 0, 0, 0, 0}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("payload % x, want % x", p, want)
	}
	h := map[string][]string{"Other": {"kept"}}
	h, p2, err := EncodeTo(h, p[:0:0], &b)
	if err != nil || !reflect.DeepEqual(p2, want) || h["Other"][0] != "kept" || h[HeaderRows][0] != "2" || h[HeaderFirst][0] != "0" || h[HeaderRate][0] != "3200" {
		t.Fatalf("EncodeTo: %v %v % x", err, h, p2)
	}
	// Reusing the map for a block without model or end drops those headers.
	b.Model, b.End = "m", true
	SetHeaders(h, &b)
	b.Model, b.End = "", false
	SetHeaders(h, &b)
	if _, ok := h[HeaderModel]; ok {
		t.Error("stale Clapp-Model")
	}
	if _, ok := h[HeaderEnd]; ok {
		t.Error("stale Clapp-End")
	}
}

func TestValidateRejects(t *testing.T) {
	ok := func() Block {
		return Block{Stream: "s", Layer: 2, First: 10, Rows: 2, Cols: 3, Rate: 640, Data: make([]float32, 6)}
	}
	for _, tc := range []struct {
		name string
		mod  func(*Block)
		want error
	}{
		{"empty-stream", func(b *Block) { b.Stream = "" }, ErrMissingHeader},
		{"newline-stream", func(b *Block) { b.Stream = "a\r\nClapp-Rows: 9" }, ErrBadHeader},
		{"space-stream", func(b *Block) { b.Stream = " a" }, ErrBadHeader},
		{"long-stream", func(b *Block) { b.Stream = strings.Repeat("x", MaxIDLen+1) }, ErrBadHeader},
		{"utf8-stream", func(b *Block) { b.Stream = "\xff" }, ErrBadHeader},
		{"bad-model", func(b *Block) { b.Model = "v\n2" }, ErrBadHeader},
		{"neg-rows", func(b *Block) { b.Rows = -1 }, ErrOutOfRange},
		{"zero-cols", func(b *Block) { b.Cols, b.Rows, b.Data = 0, 0, nil }, ErrOutOfRange},
		{"neg-first", func(b *Block) { b.First = -1 }, ErrOutOfRange},
		{"overflow-first", func(b *Block) { b.First = math.MaxInt64 - 1 }, ErrOutOfRange},
		{"layer-low", func(b *Block) { b.Layer = -2 }, ErrOutOfRange},
		{"layer-high", func(b *Block) { b.Layer = MaxLayer + 1 }, ErrOutOfRange},
		{"rate-zero", func(b *Block) { b.Rate = 0 }, ErrOutOfRange},
		{"rate-nan", func(b *Block) { b.Rate = math.NaN() }, ErrOutOfRange},
		{"rate-inf", func(b *Block) { b.Rate = math.Inf(1) }, ErrOutOfRange},
		{"short-data", func(b *Block) { b.Data = b.Data[:5] }, ErrPayloadSize},
		{"nan", func(b *Block) { b.Data[4] = float32(math.NaN()) }, ErrNonFinite},
		{"inf", func(b *Block) { b.Data[0] = float32(math.Inf(-1)) }, ErrNonFinite},
	} {
		b := ok()
		tc.mod(&b)
		h, p, err := Encode(&b)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Encode error %v, want %v", tc.name, err, tc.want)
		}
		if h != nil || p != nil {
			t.Errorf("%s: Encode returned output with an error", tc.name)
		}
	}
}

// corruptions apply to a valid encoding of a 3x4 layer-2 block.
var corruptions = []struct {
	name  string
	mod   func(h map[string][]string, p []byte) []byte
	want  error
	count func(DecodeStats) uint64
}{
	{"missing-stream", func(h map[string][]string, p []byte) []byte { delete(h, HeaderStream); return p }, ErrMissingHeader, func(s DecodeStats) uint64 { return s.MissingHeader }},
	{"empty-stream", func(h map[string][]string, p []byte) []byte { h[HeaderStream] = []string{""}; return p }, ErrMissingHeader, func(s DecodeStats) uint64 { return s.MissingHeader }},
	{"missing-rows", func(h map[string][]string, p []byte) []byte { delete(h, HeaderRows); return p }, ErrMissingHeader, func(s DecodeStats) uint64 { return s.MissingHeader }},
	{"missing-rate", func(h map[string][]string, p []byte) []byte { delete(h, HeaderRate); return p }, ErrMissingHeader, func(s DecodeStats) uint64 { return s.MissingHeader }},
	{"missing-dtype", func(h map[string][]string, p []byte) []byte { delete(h, HeaderDtype); return p }, ErrMissingHeader, func(s DecodeStats) uint64 { return s.MissingHeader }},
	{"lowercase-key", func(h map[string][]string, p []byte) []byte {
		h["clapp-layer"] = h[HeaderLayer]
		delete(h, HeaderLayer)
		return p
	}, ErrMissingHeader, func(s DecodeStats) uint64 { return s.MissingHeader }},
	{"two-rows", func(h map[string][]string, p []byte) []byte { h[HeaderRows] = []string{"3", "3"}; return p }, ErrBadHeader, func(s DecodeStats) uint64 { return s.BadHeader }},
	{"rows-text", func(h map[string][]string, p []byte) []byte { h[HeaderRows] = []string{"three"}; return p }, ErrBadHeader, func(s DecodeStats) uint64 { return s.BadHeader }},
	{"cols-float", func(h map[string][]string, p []byte) []byte { h[HeaderCols] = []string{"4.0"}; return p }, ErrBadHeader, func(s DecodeStats) uint64 { return s.BadHeader }},
	{"first-huge", func(h map[string][]string, p []byte) []byte {
		h[HeaderFirst] = []string{"99999999999999999999"}
		return p
	}, ErrBadHeader, func(s DecodeStats) uint64 { return s.BadHeader }},
	{"rate-text", func(h map[string][]string, p []byte) []byte { h[HeaderRate] = []string{"fast"}; return p }, ErrBadHeader, func(s DecodeStats) uint64 { return s.BadHeader }},
	{"end-yes", func(h map[string][]string, p []byte) []byte { h[HeaderEnd] = []string{"yes"}; return p }, ErrBadHeader, func(s DecodeStats) uint64 { return s.BadHeader }},
	{"model-ctrl", func(h map[string][]string, p []byte) []byte { h[HeaderModel] = []string{"a\x00b"}; return p }, ErrBadHeader, func(s DecodeStats) uint64 { return s.BadHeader }},
	{"dtype-f16", func(h map[string][]string, p []byte) []byte { h[HeaderDtype] = []string{"f16le"}; return p }, ErrDtype, func(s DecodeStats) uint64 { return s.Dtype }},
	{"rows-neg", func(h map[string][]string, p []byte) []byte { h[HeaderRows] = []string{"-3"}; return p }, ErrOutOfRange, func(s DecodeStats) uint64 { return s.OutOfRange }},
	{"cols-zero", func(h map[string][]string, p []byte) []byte { h[HeaderCols] = []string{"0"}; return p }, ErrOutOfRange, func(s DecodeStats) uint64 { return s.OutOfRange }},
	{"first-neg", func(h map[string][]string, p []byte) []byte { h[HeaderFirst] = []string{"-1"}; return p }, ErrOutOfRange, func(s DecodeStats) uint64 { return s.OutOfRange }},
	{"first-overflow", func(h map[string][]string, p []byte) []byte {
		h[HeaderFirst] = []string{"9223372036854775807"}
		return p
	}, ErrOutOfRange, func(s DecodeStats) uint64 { return s.OutOfRange }},
	{"layer-99", func(h map[string][]string, p []byte) []byte { h[HeaderLayer] = []string{"99"}; return p }, ErrOutOfRange, func(s DecodeStats) uint64 { return s.OutOfRange }},
	{"rate-neg", func(h map[string][]string, p []byte) []byte { h[HeaderRate] = []string{"-100"}; return p }, ErrOutOfRange, func(s DecodeStats) uint64 { return s.OutOfRange }},
	{"rate-nan", func(h map[string][]string, p []byte) []byte { h[HeaderRate] = []string{"NaN"}; return p }, ErrOutOfRange, func(s DecodeStats) uint64 { return s.OutOfRange }},
	{"rate-inf", func(h map[string][]string, p []byte) []byte { h[HeaderRate] = []string{"+Inf"}; return p }, ErrOutOfRange, func(s DecodeStats) uint64 { return s.OutOfRange }},
	{"payload-short", func(h map[string][]string, p []byte) []byte { return p[:len(p)-1] }, ErrPayloadSize, func(s DecodeStats) uint64 { return s.PayloadSize }},
	{"payload-long", func(h map[string][]string, p []byte) []byte { return append(p, 0, 0, 0, 0) }, ErrPayloadSize, func(s DecodeStats) uint64 { return s.PayloadSize }},
	{"rows-lie", func(h map[string][]string, p []byte) []byte { h[HeaderRows] = []string{"4"}; return p }, ErrPayloadSize, func(s DecodeStats) uint64 { return s.PayloadSize }},
	{"rows-huge", func(h map[string][]string, p []byte) []byte {
		h[HeaderRows] = []string{"4611686018427387904"}
		return p
	}, ErrTooLarge, func(s DecodeStats) uint64 { return s.TooLarge }},
	{"rows-cols-overflow", func(h map[string][]string, p []byte) []byte {
		h[HeaderRows], h[HeaderCols] = []string{"2097151"}, []string{"2097151"}
		return p
	}, ErrTooLarge, func(s DecodeStats) uint64 { return s.TooLarge }},
	{"nan", func(h map[string][]string, p []byte) []byte { copy(p[8:], []byte{0, 0, 0xc0, 0x7f}); return p }, ErrNonFinite, func(s DecodeStats) uint64 { return s.NonFinite }},
	{"neg-inf", func(h map[string][]string, p []byte) []byte { copy(p[44:], []byte{0, 0, 0x80, 0xff}); return p }, ErrNonFinite, func(s DecodeStats) uint64 { return s.NonFinite }},
	{"audio-44k", func(h map[string][]string, p []byte) []byte {
		h[HeaderLayer], h[HeaderRate], h[HeaderRows], h[HeaderCols] = []string{"0"}, []string{"44100"}, []string{"12"}, []string{"1"}
		return p
	}, ErrRate, func(s DecodeStats) uint64 { return s.Rate }},
	{"audio-stereo", func(h map[string][]string, p []byte) []byte {
		h[HeaderLayer], h[HeaderRate], h[HeaderRows], h[HeaderCols] = []string{"0"}, []string{"16000"}, []string{"6"}, []string{"2"}
		return p
	}, ErrMismatch, func(s DecodeStats) uint64 { return s.Mismatch }},
}

func validEncoding(t testing.TB) (map[string][]string, []byte) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := randomBlock(rng, 2, 3, 4, 640)
	b.Model = "v1"
	h, p, err := Encode(&b)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func TestDecodeRejects(t *testing.T) {
	d := NewDecoder(WithMaxPayload(1 << 20))
	for i, tc := range corruptions {
		h, p := validEncoding(t)
		p = tc.mod(h, p)
		b, err := d.Decode(h, p)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		} else if !strings.HasPrefix(err.Error(), "frame: ") {
			t.Errorf("%s: error %q does not start with frame:", tc.name, err)
		}
		if b.Data != nil || b.Stream != "" {
			t.Errorf("%s: returned a block with the error", tc.name)
		}
		if s := d.Stats(); s.Rejected() != uint64(i+1) || tc.count(s) == 0 || s.Decoded != 0 {
			t.Errorf("%s: stats %+v", tc.name, s)
		}
	}
}

func TestDecoderLimitsAndExpectations(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	audio := randomBlock(rng, AudioLayer, 160, 1, SampleRate)
	ha, pa, err := Encode(&audio)
	if err != nil {
		t.Fatal(err)
	}
	layer := randomBlock(rng, 3, 10, 8, 640)
	hl, pl, err := Encode(&layer)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := NewDecoder(WithMaxPayload(len(pa)-1)).Decode(ha, pa); !errors.Is(err, ErrTooLarge) {
		t.Errorf("max payload: %v", err)
	}
	if _, err := NewDecoder(WithMaxPayload(len(pa))).Decode(ha, pa); err != nil {
		t.Errorf("payload at the limit: %v", err)
	}

	ad := NewAudioDecoder()
	if _, err := ad.Decode(ha, pa); err != nil {
		t.Fatalf("audio decoder on audio: %v", err)
	}
	if _, err := ad.Decode(hl, pl); !errors.Is(err, ErrMismatch) {
		t.Errorf("audio decoder on layer 3: %v", err)
	}
	h8 := map[string][]string{}
	for k, v := range ha {
		h8[k] = v
	}
	h8[HeaderRate] = []string{"8000"}
	if _, err := ad.Decode(h8, pa); !errors.Is(err, ErrRate) || !strings.Contains(err.Error(), "8000") {
		t.Errorf("audio decoder on 8 kHz audio: %v", err)
	}
	if s := ad.Stats(); s.Decoded != 1 || s.Mismatch != 1 || s.Rate != 1 || s.Rejected() != 2 {
		t.Errorf("audio decoder stats %+v", s)
	}

	if _, err := NewDecoder(ExpectRate(100)).Decode(hl, pl); !errors.Is(err, ErrRate) {
		t.Errorf("ExpectRate: %v", err)
	}
	if _, err := NewDecoder(ExpectCols(512)).Decode(hl, pl); !errors.Is(err, ErrMismatch) {
		t.Errorf("ExpectCols: %v", err)
	}
	if _, err := NewDecoder(ExpectLayer(3), ExpectCols(8), ExpectRate(640)).Decode(hl, pl); err != nil {
		t.Errorf("matching expectations: %v", err)
	}
}

func TestDecodeMsgChecksSubject(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	b := randomBlock(rng, 3, 2, 2, 640)
	h, p, err := Encode(&b)
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	for _, tc := range []struct {
		subject string
		ok      bool
	}{
		{"clapp.r1.layer.3", true},
		{"clapp.r1.layer.4", false},
		{"clapp.r1.audio", false},
		{"clapp.r1.labels", false},
		{"clapp.r1.stats", true},   // not a block subject: no layer to compare
		{"probe.inbox.42", true},   // not a clapp subject
		{"clapp.r1.layer.x", true}, // not parseable: no claim to compare
	} {
		_, err := d.DecodeMsg(tc.subject, h, p)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.subject, err)
		}
		if err != nil && (!errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.subject)) {
			t.Errorf("%s: error %v", tc.subject, err)
		}
	}
	if s := d.Stats(); s.Mismatch != 3 || s.Decoded != 4 {
		t.Errorf("stats %+v", s)
	}
}

func TestDecoderConcurrentCounts(t *testing.T) {
	h, p := validEncoding(t)
	d := NewDecoder()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if _, err := d.Decode(h, p); err != nil {
					t.Error(err)
					return
				}
				if _, err := d.Decode(h, p[:3]); err == nil {
					t.Error("short payload accepted")
					return
				}
			}
		}()
	}
	wg.Wait()
	if s := d.Stats(); s.Decoded != 2000 || s.PayloadSize != 2000 {
		t.Errorf("stats %+v", s)
	}
}
