package model

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func smallConfig() Config {
	c := NarrowConfig(8, 6)
	c.K = 3
	return c
}

func TestCheckpointRoundTrip(t *testing.T) {
	for _, split := range []bool{false, true} {
		cfg := smallConfig()
		cfg.Split = split
		e, err := NewEncoder(cfg, 42)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.paramCount(), len(flatten(e.Params())); got != want {
			t.Fatalf("paramCount %d, encoder has %d", got, want)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		opt := NewAdam(e.LayerParams(2), 1e-3)
		opt.Apply(randGrads(rng, e.LayerParams(2), 1))
		opt.EndCycle()
		opt.Apply(randGrads(rng, e.LayerParams(2), 1)) // mid-cycle
		st := opt.State()
		path := filepath.Join(t.TempDir(), "ckpt.safetensors")
		ck := &Checkpoint{Encoder: e, Optim: []*OptimState{nil, &st}, Meta: json.RawMessage(`{"blocks":17}`)}
		if err := ck.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.Encoder.Config.Split != split || got.Encoder.Config.Channels != 8 {
			t.Errorf("config %+v", got.Encoder.Config)
		}
		a, b := flatten(e.Params()), flatten(got.Encoder.Params())
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("weight %d: %v, saved %v", i, b[i], a[i])
			}
		}
		if len(got.Optim) != 2 || got.Optim[1] == nil || got.Optim[1].Cycles != 1 {
			t.Fatalf("optimiser state %+v", got.Optim)
		}
		for k, v := range st.Tensors {
			w := got.Optim[1].Tensors[k]
			for i := range v {
				if v[i] != w[i] {
					t.Fatalf("%s[%d]: %v, saved %v", k, i, w[i], v[i])
				}
			}
		}
		if string(got.Meta) != `{"blocks":17}` {
			t.Errorf("meta %s", got.Meta)
		}
	}
}

func flatten(ps []*Param) []float32 {
	var out []float32
	for _, p := range ps {
		out = append(out, p.Data...)
	}
	return out
}

// TestCheckpointTorchLayout: the file holds conv weights in PyTorch's
// (Cout, Cin, kernel) order, so a PyTorch user reads what the model computes.
func TestCheckpointTorchLayout(t *testing.T) {
	e, _ := NewEncoder(smallConfig(), 1)
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := (&Checkpoint{Encoder: e}).Save(path); err != nil {
		t.Fatal(err)
	}
	c := e.Convs[1].Conv
	raw, _ := os.ReadFile(path)
	f, err := decodeRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := f["layers.1.conv.weight"]
	if !ok {
		t.Fatal("no layers.1.conv.weight")
	}
	// weight[o][i][k] in the file = W[o][k][i] in memory.
	o, i, k := 3, 5, 2
	if got, want := w[(o*c.Cin+i)*c.Kernel+k], c.W[(o*c.Kernel+k)*c.Cin+i]; got != want {
		t.Errorf("file weight[%d][%d][%d] = %v, model %v", o, i, k, got, want)
	}
	for _, name := range []string{"layers.5.gru.weight_ih_l0", "layers.5.gru.weight_hh_l0", "layers.5.gru.bias_ih_l0", "layers.5.gru.bias_hh_l0", "layers.5.pred.weight", "layers.0.pred.weight"} {
		if _, ok := f[name]; !ok {
			t.Errorf("no tensor %s", name)
		}
	}
}

func TestCheckpointRejectsBadFiles(t *testing.T) {
	e, _ := NewEncoder(smallConfig(), 1)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := (&Checkpoint{Encoder: e}).Save(good); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	other := smallConfig()
	other.Channels = 9
	e9, _ := NewEncoder(other, 1)
	mismatch := filepath.Join(dir, "nine.safetensors")
	(&Checkpoint{Encoder: e9}).Save(mismatch)
	raw9, _ := os.ReadFile(mismatch)
	// Swap the metadata of the 8-channel file into the 9-channel one: the
	// shapes no longer match the configuration.
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"truncated header", raw[:5], "truncated"},
		{"truncated data", raw[:len(raw)-10], ""},
		{"garbage", []byte(strings.Repeat("x", 100)), ""},
		{"config mismatch", swapMeta(t, raw9, raw), "shape"},
	}
	for _, tc := range cases {
		_, err := DecodeCheckpoint(tc.data)
		if !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: error %v, want ErrCheckpoint", tc.name, err)
			continue
		}
		if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not say %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "missing")); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	e, _ := NewEncoder(smallConfig(), 1)
	dir := f.TempDir()
	path := filepath.Join(dir, "c.safetensors")
	(&Checkpoint{Encoder: e}).Save(path)
	raw, _ := os.ReadFile(path)
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCheckpoint(data)
		if err == nil && c.Encoder == nil {
			t.Fatal("nil encoder without error")
		}
	})
}
