package frame

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pythonSnippet returns the Python code block of doc.go's "Decoding in
// Python" section, so that the snippet the README reuses is the one tested.
func pythonSnippet(t *testing.T) string {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var code []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case line == "// # Decoding in Python":
			in = true
		case in && strings.HasPrefix(line, "//\t"):
			code = append(code, strings.TrimPrefix(line, "//\t"))
		case in && len(code) > 0 && line == "//":
			code = append(code, "")
		case in && len(code) > 0:
			return strings.Join(code, "\n")
		}
	}
	t.Fatal("no Python snippet in doc.go")
	return ""
}

// TestPythonSnippet runs the documented numpy decoder on payloads written
// by Encode, when python3 with numpy is installed.
func TestPythonSnippet(t *testing.T) {
	py := ""
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(c); err == nil && exec.Command(p, "-c", "import numpy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with numpy installed")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	blocks := []Block{
		randomBlock(rng, 5, 3, 512, 100),
		randomBlock(rng, AudioLayer, 160, 1, SampleRate),
		{Stream: "u-9", Layer: 2, First: 7, Rows: 0, Cols: 64, Rate: 640, End: true},
	}
	blocks[0].Model = "clapp-2026-11-03T10:00:00Z"
	for i := range blocks {
		h, p, err := Encode(&blocks[i])
		if err != nil {
			t.Fatal(err)
		}
		flat := map[string]string{}
		for k, v := range h {
			flat[k] = v[0]
		}
		hj, _ := json.Marshal(flat)
		base := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(base+".json", hj, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".bin", p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := pythonSnippet(t) + `

import json, sys
for base in sys.argv[1:]:
    headers = json.load(open(base + ".json"))
    payload = open(base + ".bin", "rb").read()
    stream, layer, first, rate, end, data = decode_block(headers, payload)
    flat = data.ravel()
    print(stream, layer, first, repr(rate), end, data.shape[0], data.shape[1],
          " ".join(flat[:4].view("<u4").astype(str)), flat.view("<u4").sum(dtype="uint64"))
# A NaN is refused.
bad = bytearray(open(sys.argv[1] + ".bin", "rb").read())
bad[0:4] = bytes([0, 0, 0xc0, 0x7f])
try:
    decode_block(json.load(open(sys.argv[1] + ".json")), bytes(bad))
    print("NaN accepted")
except ValueError as e:
    print("rejected:", e)
`
	sp := filepath.Join(dir, "decode.py")
	if err := os.WriteFile(sp, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{sp}
	for i := range blocks {
		args = append(args, filepath.Join(dir, strconv.Itoa(i)))
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(blocks)+1 {
		t.Fatalf("python printed:\n%s", out)
	}
	for i, b := range blocks {
		var first4 []string
		var sum uint64
		for j, v := range b.Data {
			u := uint64(math.Float32bits(v))
			if j < 4 {
				first4 = append(first4, strconv.FormatUint(u, 10))
			}
			sum += u
		}
		want := strings.Join([]string{b.Stream, strconv.Itoa(b.Layer), strconv.FormatInt(b.First, 10), pyFloat(b.Rate), pyBool(b.End),
			strconv.Itoa(b.Rows), strconv.Itoa(b.Cols), strings.Join(first4, " "), strconv.FormatUint(sum, 10)}, " ")
		if lines[i] != want {
			t.Errorf("block %d: python says\n%q\nwant\n%q", i, lines[i], want)
		}
	}
	if !strings.HasPrefix(lines[len(blocks)], "rejected: NaN") {
		t.Errorf("NaN payload: python says %q", lines[len(blocks)])
	}
}

func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
