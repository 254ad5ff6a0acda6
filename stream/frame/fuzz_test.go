package frame

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// headerText writes h as "Key: value" lines, the way NATS carries headers
// (without the NATS/1.0 line), in a stable order.
func headerText(h map[string][]string) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		for _, v := range h[k] {
			sb.WriteString(k + ": " + v + "\r\n")
		}
	}
	return sb.String()
}

// parseHeaderText reads headers as nats.go does: one "Key: value" per
// line, key case kept, spaces after the colon skipped, repeated keys
// appended; lines without a colon are ignored here.
func parseHeaderText(s string) map[string][]string {
	h := map[string][]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSuffix(line, "\r")
		i := strings.IndexByte(line, ':')
		if i <= 0 {
			continue
		}
		h[line[:i]] = append(h[line[:i]], strings.TrimLeft(line[i+1:], " \t"))
	}
	return h
}

func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 10))
	seeds := []Block{
		randomBlock(rng, AudioLayer, 160, 1, SampleRate),
		randomBlock(rng, 5, 1, 512, 100),
		randomBlock(rng, 1, 4, 16, 3200),
		randomBlock(rng, LabelLayer, 3, 1, 100),
		{Stream: "u-1", Layer: 6, First: 99, Rows: 0, Cols: 256, Rate: 100, End: true, Model: "m"},
	}
	for i := range seeds {
		h, p, err := Encode(&seeds[i])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(headerText(h), p)
	}
	// Corruptions of a valid encoding.
	for _, tc := range corruptions {
		h, p := validEncoding(f)
		p = tc.mod(h, p)
		f.Add(headerText(h), p)
	}
	f.Add("", []byte{})
	f.Add("Clapp-Stream: s\r\nClapp-Rows: 1\r\n", []byte{1, 2, 3, 4})

	f.Fuzz(func(t *testing.T, hdr string, payload []byte) {
		h := parseHeaderText(hdr)
		d := NewDecoder(WithMaxPayload(1 << 16))
		b, err := d.Decode(h, payload)
		s := d.Stats()
		if err != nil {
			if b.Data != nil || b.Rows != 0 {
				t.Fatalf("block returned with error %v", err)
			}
			known := false
			for _, e := range reasonErr {
				known = known || errors.Is(err, e)
			}
			if !known || s.Rejected() != 1 || s.Decoded != 0 {
				t.Fatalf("error %v, stats %+v", err, s)
			}
			return
		}
		if s.Decoded != 1 || s.Rejected() != 0 {
			t.Fatalf("stats %+v", s)
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("decoded block does not validate: %v", err)
		}
		if len(payload) != 4*b.Rows*b.Cols {
			t.Fatalf("payload %d bytes for %dx%d", len(payload), b.Rows, b.Cols)
		}
		// A decoded block re-encodes to the same payload bytes and decodes
		// to the same block.
		h2, p2, err := Encode(&b)
		if err != nil {
			t.Fatal(err)
		}
		if string(p2) != string(payload) {
			t.Fatal("payload not reproduced")
		}
		b2, err := d.Decode(h2, p2)
		if err != nil {
			t.Fatal(err)
		}
		if b2.Stream != b.Stream || b2.First != b.First || b2.Rows != b.Rows || b2.Cols != b.Cols || b2.Layer != b.Layer ||
			math.Float64bits(b2.Rate) != math.Float64bits(b.Rate) || b2.Model != b.Model || b2.End != b.End || !sameBits(b2.Data, b.Data) {
			t.Fatalf("re-decoded %+v, want %+v", b2, b)
		}
	})
}
