package safetensors

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// seedFiles are valid files covering the shapes the model stores.
func seedFiles(t testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(7, 8))
	sets := []struct {
		tensors  []Tensor
		metadata map[string]string
	}{
		{nil, nil},
		{[]Tensor{{Name: "test", Shape: []int{2, 2}, Data: make([]float32, 4)}}, nil},
		{[]Tensor{randomTensor(rng, "s"), randomTensor(rng, "e", 0), randomTensor(rng, "m", 2, 0, 3)}, map[string]string{"step": "3"}},
		{[]Tensor{
			randomTensor(rng, "layers.0.conv.weight", 4, 1, 10),
			randomTensor(rng, "layers.0.conv.bias", 4),
			randomTensor(rng, "layers.0.pred.weight", 2, 4, 4),
			randomTensor(rng, "optim.layers.0.conv.bias.m", 4),
		}, map[string]string{"config": `{"k":2}`, "rng": "abc"}},
	}
	var files [][]byte
	for _, s := range sets {
		var buf bytes.Buffer
		if err := Encode(&buf, s.tensors, s.metadata); err != nil {
			t.Fatal(err)
		}
		files = append(files, buf.Bytes())
	}
	return files
}

func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, file := range seedFiles(f) {
		f.Add(file)
		// Truncations at the length prefix, inside the header, at the
		// boundary and inside the data.
		for _, n := range []int{0, 7, 8, 9, len(file) / 2, len(file) - 1} {
			if n >= 0 && n < len(file) {
				f.Add(file[:n])
			}
		}
		// Single-byte corruptions anywhere, and one in the length prefix.
		for range 4 {
			bad := bytes.Clone(file)
			bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
			f.Add(bad)
		}
		bad := bytes.Clone(file)
		bad[0]++
		f.Add(bad)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupportedDType) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		// Whatever decodes is consistent and survives a round trip.
		total := 0
		for i, tensor := range file.Tensors {
			n := 1
			for _, d := range tensor.Shape {
				n *= d
			}
			if n != len(tensor.Data) {
				t.Fatalf("tensor %q: shape %v with %d values", tensor.Name, tensor.Shape, len(tensor.Data))
			}
			if i > 0 && file.Tensors[i-1].Name >= tensor.Name {
				t.Fatalf("tensors not sorted by name: %q before %q", file.Tensors[i-1].Name, tensor.Name)
			}
			total += 4 * n
		}
		if total > len(data) {
			t.Fatalf("decoded %d bytes of tensors from %d bytes of input", total, len(data))
		}
		var buf bytes.Buffer
		if err := Encode(&buf, file.Tensors, file.Metadata); err != nil {
			t.Fatalf("re-encoding a decoded file: %v", err)
		}
		again, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("decoding a re-encoded file: %v", err)
		}
		sameTensors(t, again.Tensors, file.Tensors)
		if len(again.Metadata) != len(file.Metadata) {
			t.Fatalf("metadata: %v after round trip, was %v", again.Metadata, file.Metadata)
		}
		for k, v := range file.Metadata {
			if again.Metadata[k] != v {
				t.Fatalf("metadata %q: %q after round trip, was %q", k, again.Metadata[k], v)
			}
		}
	})
}
