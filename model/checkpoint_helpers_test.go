package model

import (
	"bytes"
	"testing"

	"clapp/model/safetensors"
)

func decodeRaw(raw []byte) (map[string][]float32, error) {
	f, err := safetensors.Decode(raw)
	if err != nil {
		return nil, err
	}
	out := map[string][]float32{}
	for _, t := range f.Tensors {
		out[t.Name] = t.Data
	}
	return out, nil
}

// swapMeta returns the tensors of a with the metadata of b.
func swapMeta(t *testing.T, a, b []byte) []byte {
	t.Helper()
	fa, err := safetensors.Decode(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := safetensors.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := safetensors.Encode(&buf, fa.Tensors, fb.Metadata); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
