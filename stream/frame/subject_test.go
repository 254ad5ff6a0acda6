package frame

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateRun(t *testing.T) {
	for _, tc := range []struct {
		run string
		ok  bool
	}{
		{"run1", true},
		{"Exp_2026-11-03", true},
		{strings.Repeat("a", MaxRunLen), true},
		{"", false},
		{strings.Repeat("a", MaxRunLen+1), false},
		{"a.b", false},
		{"a b", false},
		{"*", false},
		{">", false},
		{"run\n", false},
		{"run/1", false},
		{"é", false},
	} {
		err := ValidateRun(tc.run)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRun(%q) = %v, want ok=%v", tc.run, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrSubject) {
			t.Errorf("ValidateRun(%q) = %v, not wrapping ErrSubject", tc.run, err)
		}
	}
}

func TestSubjectsRoundTrip(t *testing.T) {
	build := []struct {
		f    func(string) (string, error)
		want string
		kind Kind
		lay  int
	}{
		{AudioSubject, "clapp.r1.audio", KindAudio, AudioLayer},
		{LabelsSubject, "clapp.r1.labels", KindLabels, LabelLayer},
		{ControlSubject, "clapp.r1.control", KindControl, 0},
		{StatsSubject, "clapp.r1.stats", KindStats, 0},
		{func(r string) (string, error) { return LayerSubject(r, 3) }, "clapp.r1.layer.3", KindLayer, 3},
		{func(r string) (string, error) { return BlockSubject(r, 0) }, "clapp.r1.audio", KindAudio, AudioLayer},
		{func(r string) (string, error) { return BlockSubject(r, -1) }, "clapp.r1.labels", KindLabels, LabelLayer},
		{func(r string) (string, error) { return BlockSubject(r, MaxLayer) }, "clapp.r1.layer.64", KindLayer, MaxLayer},
	}
	for _, tc := range build {
		got, err := tc.f("r1")
		if err != nil || got != tc.want {
			t.Fatalf("got %q, %v; want %q", got, err, tc.want)
		}
		s, err := ParseSubject(got)
		if err != nil {
			t.Fatalf("ParseSubject(%q): %v", got, err)
		}
		if s.Run != "r1" || s.Kind != tc.kind || s.Layer != tc.lay || s.String() != got {
			t.Errorf("ParseSubject(%q) = %+v (String %q)", got, s, s.String())
		}
	}
	if got, err := AllLayersSubject("r1"); err != nil || got != "clapp.r1.layer.*" {
		t.Errorf("AllLayersSubject = %q, %v", got, err)
	}
	for _, bad := range []func() (string, error){
		func() (string, error) { return LayerSubject("r1", 0) },
		func() (string, error) { return LayerSubject("r1", MaxLayer+1) },
		func() (string, error) { return BlockSubject("r1", -2) },
		func() (string, error) { return AudioSubject("a.b") },
		func() (string, error) { return AllLayersSubject("") },
	} {
		if s, err := bad(); !errors.Is(err, ErrSubject) {
			t.Errorf("got %q, %v; want ErrSubject", s, err)
		}
	}
}

func TestParseSubjectRejects(t *testing.T) {
	for _, s := range []string{
		"", "clapp", "clapp.r1", "nats.r1.audio", "clapp.r1.audio.x", "clapp.r1.layer",
		"clapp.r1.layer.0", "clapp.r1.layer.65", "clapp.r1.layer.03", "clapp.r1.layer.+3",
		"clapp.r1.layer.*", "clapp.r1.>", "clapp.*.audio", "clapp.r.1.audio", "clapp.r1.video",
		"clapp..audio", "clapp.r1.layer.1.2",
	} {
		if got, err := ParseSubject(s); !errors.Is(err, ErrSubject) {
			t.Errorf("ParseSubject(%q) = %+v, %v; want ErrSubject", s, got, err)
		}
	}
}
