package safetensors

import (
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// pythonReader reads a safetensors file with nothing but the Python standard
// library, checking the layout rules on its own, and prints the tensors as
// JSON. Floats go through struct's IEEE float32 decoding and Python's exact
// repr of the resulting double.
const pythonReader = `
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
assert (8 + n) % 8 == 0, "data section not 8-byte aligned"
header = raw[8:8 + n].decode("utf-8")
assert header.rstrip(" ").endswith("}"), "header padded with something but spaces"
def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "duplicate keys"
    return dict(pairs)
meta = json.loads(header, object_pairs_hook=no_duplicates)
data = raw[8 + n:]
out = {"__metadata__": meta.pop("__metadata__", {}), "tensors": {}}
end = 0
for name, info in sorted(meta.items(), key=lambda kv: kv[1]["data_offsets"]):
    assert set(info) == {"dtype", "shape", "data_offsets"}, info
    assert info["dtype"] == "F32", info
    begin, stop = info["data_offsets"]
    assert begin == end, (name, begin, end)
    count = 1
    for d in info["shape"]:
        count *= d
    assert stop - begin == 4 * count, (name, info)
    values = struct.unpack("<%df" % count, data[begin:stop])
    out["tensors"][name] = {"shape": info["shape"], "data": list(values)}
    end = stop
assert end == len(data), (end, len(data))
json.dump(out, sys.stdout)
`

func TestPythonReader(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	tensors := []Tensor{
		randomTensor(rng, "layers.0.conv.weight", 4, 1, 10),
		randomTensor(rng, "layers.0.conv.bias", 4),
		randomTensor(rng, "layers.5.gru.weight_ih_l0", 12, 4),
		randomTensor(rng, "layers.1.pred.weight", 3, 4, 5),
		randomTensor(rng, "scalar"),
		randomTensor(rng, "empty", 0, 7),
		randomTensor(rng, "ünïcode", 2),
	}
	metadata := map[string]string{"step": "42", "config": `{"lr": 0.0002}`}
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := WriteFile(path, tensors, metadata); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", pythonReader, path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("python reader: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got struct {
		Metadata map[string]string `json:"__metadata__"`
		Tensors  map[string]struct {
			Shape []int     `json:"shape"`
			Data  []float64 `json:"data"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	if len(got.Metadata) != len(metadata) || got.Metadata["step"] != "42" || got.Metadata["config"] != metadata["config"] {
		t.Errorf("python read metadata %v, want %v", got.Metadata, metadata)
	}
	if len(got.Tensors) != len(tensors) {
		t.Fatalf("python read %d tensors, want %d", len(got.Tensors), len(tensors))
	}
	for _, want := range tensors {
		g, ok := got.Tensors[want.Name]
		if !ok {
			t.Errorf("python did not find %q", want.Name)
			continue
		}
		if !slices.Equal(g.Shape, want.Shape) && !(len(g.Shape) == 0 && len(want.Shape) == 0) {
			t.Errorf("%q: python read shape %v, want %v", want.Name, g.Shape, want.Shape)
		}
		if len(g.Data) != len(want.Data) {
			t.Errorf("%q: python read %d values, want %d", want.Name, len(g.Data), len(want.Data))
			continue
		}
		for i, v := range want.Data {
			if g.Data[i] != float64(v) {
				t.Errorf("%q[%d]: python read %v, want %v", want.Name, i, g.Data[i], v)
				break
			}
		}
	}
}
