package eval

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"clapp/model"
	"clapp/stream/streamtest"
)

// readNPY reads a .npy file written by WriteNPY, checking the header
// against the format's specification
// (numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// magic "\x93NUMPY", version 1.0, a little-endian uint16 header length,
// an ASCII dict literal with descr, fortran_order and shape, padded with
// spaces and ended by '\n' so that the data starts at a multiple of 64.
func readNPY(t *testing.T, path string) (rows, cols int, data []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" || b[6] != 1 || b[7] != 0 {
		t.Fatalf("%s: preamble % x, want \\x93NUMPY 1 0", path, b[:min(len(b), 8)])
	}
	hlen := int(binary.LittleEndian.Uint16(b[8:10]))
	start := 10 + hlen
	if start%64 != 0 || len(b) < start {
		t.Fatalf("%s: data starts at %d, not a multiple of 64 inside the file", path, start)
	}
	h := string(b[10:start])
	if h[len(h)-1] != '\n' {
		t.Fatalf("%s: header does not end in a newline: %q", path, h)
	}
	for _, c := range h {
		if c > 127 {
			t.Fatalf("%s: header is not ASCII: %q", path, h)
		}
	}
	re := regexp.MustCompile(`^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n$`)
	m := re.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("%s: header %q", path, h)
	}
	rows, _ = strconv.Atoi(m[1])
	cols, _ = strconv.Atoi(m[2])
	body := b[start:]
	if len(body) != 4*rows*cols {
		t.Fatalf("%s: %d data bytes for shape (%d, %d)", path, len(body), rows, cols)
	}
	data = make([]float32, rows*cols)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return rows, cols, data
}

func TestNPYHeader(t *testing.T) {
	for _, shape := range [][2]int{{0, 512}, {1, 1}, {4095, 512}, {128, 256}, {123456789, 7}} {
		h := npyHeader(shape[0], shape[1])
		if len(h)%64 != 0 {
			t.Errorf("shape %v: header of %d bytes", shape, len(h))
		}
		want := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + strconv.Itoa(shape[0]) + ", " + strconv.Itoa(shape[1]) + "), }"
		if !bytes.HasPrefix(h[10:], []byte(want)) || h[len(h)-1] != '\n' || int(binary.LittleEndian.Uint16(h[8:])) != len(h)-10 {
			t.Errorf("shape %v: header %q", shape, h)
		}
	}
	var buf bytes.Buffer
	if err := WriteNPY(&buf, []float32{1, -2.5, float32(math.Inf(1)), 0}, 2, 2); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()[len(npyHeader(2, 2)):]
	want := []byte{0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0, 0, 0, 0x80, 0x7f, 0, 0, 0, 0}
	if !bytes.Equal(got, want) {
		t.Errorf("data % x, want % x (little-endian float32)", got, want)
	}
}

// TestEncode writes the features of the nine utterances of the shared
// cpc/audio folder and reads them back.
func TestEncode(t *testing.T) {
	mc := model.NarrowConfig(16, 8)
	f, err := RandomInit(mc, 4)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	data := streamtest.DataDir(t, "cpc", "audio")
	idx, err := Encode(context.Background(), f, out, Config{Data: data, Quiet: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Utterances) != 9 || len(idx.Skipped) != 0 || len(idx.Layers) != 6 {
		t.Fatalf("%d utterances, %d skipped, %d layers", len(idx.Utterances), len(idx.Skipped), len(idx.Layers))
	}
	var disk Index
	b, err := os.ReadFile(filepath.Join(out, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &disk); err != nil {
		t.Fatal(err)
	}
	if len(disk.Utterances) != 9 || disk.Model.Channels != 16 || disk.Layers[0].FrameRate != 3200 || disk.Layers[5].Kind != "gru" {
		t.Fatalf("index.json: %+v", disk)
	}
	if c := disk.Layers[0].Centre; !strings.Contains(c, "= 5 t + 3 samples") {
		t.Errorf("layer 1 centre %q, want 5 t + 3", c)
	}
	if c := disk.Layers[4].Centre; !strings.Contains(c, "= 160 t + 20.5 samples") {
		t.Errorf("layer 5 centre %q, want 160 t + 20.5", c)
	}
	geo, _ := Geometry(mc)
	for _, u := range disk.Utterances[:3] {
		x, err := readAudio(filepath.Join(data, strings.ReplaceAll(u.ID[:strings.LastIndex(u.ID, "-")], "-", "/"), u.ID+".flac"), 0)
		if err != nil {
			t.Fatal(err)
		}
		want := f.Encoder.Encode(x)
		for _, l := range disk.Layers {
			rows, cols, got := readNPY(t, filepath.Join(out, u.ID, l.File))
			if rows != geo.Frames(l.Layer, len(x)) || rows != u.Frames[l.Layer-1] || cols != l.Channels {
				t.Errorf("%s layer %d: shape (%d, %d), geometry %d frames, index %d", u.ID, l.Layer, rows, cols, geo.Frames(l.Layer, len(x)), u.Frames[l.Layer-1])
			}
			if !slices.Equal(got, want[l.Layer-1]) {
				t.Errorf("%s layer %d: stored frames differ from Encode's", u.ID, l.Layer)
			}
		}
	}
	// numpy itself, where a python3 has it (Debian's python3-numpy).
	py := ""
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(c); err == nil && exec.Command(p, "-c", "import numpy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Log("no python3 with numpy: the header was checked against the .npy specification only")
		return
	}
	u := disk.Utterances[0]
	script := `import numpy as np, sys
a = np.load(sys.argv[1])
print(a.dtype.str, a.shape[0], a.shape[1], repr(float(a.astype(np.float64).sum())))`
	o, err := exec.Command(py, "-c", script, filepath.Join(out, u.ID, "layer1.npy")).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy.load: %v\n%s", err, o)
	}
	_, _, d := readNPY(t, filepath.Join(out, u.ID, "layer1.npy"))
	var sum float64
	for _, v := range d {
		sum += float64(v)
	}
	fields := strings.Fields(string(o))
	s, _ := strconv.ParseFloat(fields[3], 64)
	if fields[0] != "<f4" || fields[1] != strconv.Itoa(u.Frames[0]) || fields[2] != "16" || math.Abs(s-sum) > 1e-6*math.Abs(sum)+1e-6 {
		t.Errorf("numpy reads %s, want <f4 %d 16 %g", o, u.Frames[0], sum)
	}
}
