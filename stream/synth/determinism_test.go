package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os/exec"
	"regexp"
	"slices"
	"testing"
)

func hashSamples(x []float32) string {
	h := sha256.New()
	var b [4]byte
	for _, v := range x {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func TestDeterministic(t *testing.T) {
	a := newGen(t, DefaultConfig())
	b := newGen(t, DefaultConfig())
	other := DefaultConfig()
	other.Seed = 2
	c := newGen(t, other)
	for _, tc := range []struct{ speaker, index int }{{0, 0}, {3, 12}, {23, 1000}} {
		ua, ub := a.Utterance(tc.speaker, tc.index), b.Utterance(tc.speaker, tc.index)
		if !slices.Equal(ua.Samples, ub.Samples) || !slices.Equal(ua.Labels, ub.Labels) {
			t.Errorf("speaker %d utterance %d differs between two generators with one seed", tc.speaker, tc.index)
		}
		// Generating other utterances in between changes nothing.
		a.Utterance(tc.speaker, tc.index+1)
		if again := a.Utterance(tc.speaker, tc.index); !slices.Equal(again.Samples, ua.Samples) {
			t.Errorf("speaker %d utterance %d changed on a second call", tc.speaker, tc.index)
		}
		if uc := c.Utterance(tc.speaker, tc.index); slices.Equal(uc.Samples, ua.Samples) {
			t.Errorf("seeds 1 and 2 give the same speaker %d utterance %d", tc.speaker, tc.index)
		}
		if next := a.Utterance(tc.speaker, tc.index+1); slices.Equal(next.Samples, ua.Samples) {
			t.Errorf("utterances %d and %d of speaker %d are the same", tc.index, tc.index+1, tc.speaker)
		}
	}
}

// TestGolden pins the samples bit for bit, so that a platform that
// computes them differently (a fused multiply-add, another exp) fails
// here. A deliberate change to the generator changes these hashes: update
// them and say so in the commit.
func TestGolden(t *testing.T) {
	g := newGen(t, DefaultConfig())
	for _, tc := range []struct {
		speaker, index int
		want           string
	}{
		{0, 0, "5ded9af30f3c58a5"},
		{5, 17, "d3d19c87713372c4"},
		{22, 3, "524f5393e136e6a5"},
	} {
		u := g.Utterance(tc.speaker, tc.index)
		if got := hashSamples(u.Samples); got != tc.want {
			t.Errorf("%s: sha256 of samples %s, want %s", u.ID, got, tc.want)
		}
	}
}

// TestNoFusedMultiplyAdd compiles this package for arm64 and for amd64
// with FMA (GOAMD64=v3), where Go may fuse x*y+z into one instruction
// with one rounding, and fails if it did: that would make the samples
// differ between machines.
func TestNoFusedMultiplyAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the package")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	fused := regexp.MustCompile(`\(([^)]*)\)\s+(FN?M(ADD|SUB)D|VFN?M(ADD|SUB)[0-9]+SD)\b`)
	for _, env := range [][]string{{"GOARCH=arm64"}, {"GOARCH=amd64", "GOAMD64=v3"}} {
		cmd := exec.Command(goTool, "build", "-o", "/dev/null", "-gcflags=clapp/stream/synth=-S", "clapp/stream/synth")
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v go build: %v\n%s", env, err, out)
		}
		for _, m := range fused.FindAllStringSubmatch(string(out), 20) {
			t.Errorf("%v: fused %s at %s", env, m[2], m[1])
		}
	}
}

func TestDeterministicMath(t *testing.T) {
	for x := -600.0; x < 700; x += 0.37 {
		if got, want := dexp(x), math.Exp(x); math.Abs(got-want) > 1e-13*want {
			t.Fatalf("dexp(%g) = %g, want %g", x, got, want)
		}
	}
	for x := -1e5; x < 1e5; x += 1.73 {
		s, c := dsincos(x)
		ws, wc := math.Sincos(x)
		if math.Abs(s-ws) > 2e-15 || math.Abs(c-wc) > 2e-15 {
			t.Fatalf("dsincos(%g) = %g, %g, want %g, %g", x, s, c, ws, wc)
		}
	}
}
