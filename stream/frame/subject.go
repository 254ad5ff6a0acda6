package frame

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSubject is returned for a run name or subject that does not follow the
// clapp.<run>.<kind> scheme.
var ErrSubject = errors.New("frame: bad subject")

// SubjectPrefix is the first token of every clapp subject.
const SubjectPrefix = "clapp"

// MaxRunLen is the longest run name accepted.
const MaxRunLen = 64

// Kind says what a clapp subject carries.
type Kind int

const (
	// KindLayer is clapp.<run>.layer.<n>: frames of encoder layer n >= 1.
	KindLayer Kind = iota + 1
	// KindAudio is clapp.<run>.audio: raw audio blocks (layer 0).
	KindAudio
	// KindLabels is clapp.<run>.labels: label blocks (LabelLayer).
	KindLabels
	// KindControl is clapp.<run>.control: request/reply, JSON payloads
	// defined by the actors.
	KindControl
	// KindStats is clapp.<run>.stats: statistics, payload defined by the
	// actors.
	KindStats
)

var kindNames = [...]string{KindLayer: "layer", KindAudio: "audio", KindLabels: "labels", KindControl: "control", KindStats: "stats"}

func (k Kind) String() string {
	if k >= KindLayer && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Subject is a parsed clapp subject.
type Subject struct {
	Run  string
	Kind Kind
	// Layer is the layer of the blocks carried: n for KindLayer,
	// AudioLayer for KindAudio, LabelLayer for KindLabels, 0 otherwise.
	Layer int
}

// String formats s as a NATS subject.
func (s Subject) String() string {
	if s.Kind == KindLayer {
		return SubjectPrefix + "." + s.Run + ".layer." + strconv.Itoa(s.Layer)
	}
	return SubjectPrefix + "." + s.Run + "." + s.Kind.String()
}

// CarriesBlocks reports whether the subject carries encoded Blocks (layer,
// audio and labels subjects).
func (s Subject) CarriesBlocks() bool {
	return s.Kind == KindLayer || s.Kind == KindAudio || s.Kind == KindLabels
}

// ValidateRun checks that run can be one token of a NATS subject and a part
// of a JetStream stream or consumer name: 1 to MaxRunLen characters among
// ASCII letters, digits, '_' and '-'. Dots, spaces and wildcards are
// therefore refused.
func ValidateRun(run string) error {
	if run == "" {
		return fmt.Errorf("%w: empty run name", ErrSubject)
	}
	if len(run) > MaxRunLen {
		return fmt.Errorf("%w: run name %.16q... longer than %d", ErrSubject, run, MaxRunLen)
	}
	for i := 0; i < len(run); i++ {
		c := run[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%w: run name %q: character %q not allowed (letters, digits, '_' and '-' only)", ErrSubject, run, c)
		}
	}
	return nil
}

func kindSubject(run string, k Kind) (string, error) {
	if err := ValidateRun(run); err != nil {
		return "", err
	}
	return SubjectPrefix + "." + run + "." + k.String(), nil
}

// LayerSubject returns clapp.<run>.layer.<n> for encoder layer n in
// 1..MaxLayer.
func LayerSubject(run string, n int) (string, error) {
	if err := ValidateRun(run); err != nil {
		return "", err
	}
	if n < 1 || n > MaxLayer {
		return "", fmt.Errorf("%w: layer %d not in 1..%d (audio and labels have their own subjects)", ErrSubject, n, MaxLayer)
	}
	return SubjectPrefix + "." + run + ".layer." + strconv.Itoa(n), nil
}

// AllLayersSubject returns clapp.<run>.layer.*, the wildcard matching every
// layer's frames.
func AllLayersSubject(run string) (string, error) {
	if err := ValidateRun(run); err != nil {
		return "", err
	}
	return SubjectPrefix + "." + run + ".layer.*", nil
}

// AudioSubject returns clapp.<run>.audio.
func AudioSubject(run string) (string, error) { return kindSubject(run, KindAudio) }

// LabelsSubject returns clapp.<run>.labels.
func LabelsSubject(run string) (string, error) { return kindSubject(run, KindLabels) }

// ControlSubject returns clapp.<run>.control.
func ControlSubject(run string) (string, error) { return kindSubject(run, KindControl) }

// StatsSubject returns clapp.<run>.stats.
func StatsSubject(run string) (string, error) { return kindSubject(run, KindStats) }

// BlockSubject returns the subject that carries blocks of the given layer:
// the audio subject for AudioLayer, the labels subject for LabelLayer and
// clapp.<run>.layer.<n> otherwise.
func BlockSubject(run string, layer int) (string, error) {
	switch layer {
	case AudioLayer:
		return AudioSubject(run)
	case LabelLayer:
		return LabelsSubject(run)
	}
	return LayerSubject(run, layer)
}

// ParseSubject parses a concrete (wildcard-free) clapp subject.
func ParseSubject(subject string) (Subject, error) {
	tok := strings.Split(subject, ".")
	if len(tok) < 3 || tok[0] != SubjectPrefix {
		return Subject{}, fmt.Errorf("%w: %q is not clapp.<run>.<kind>", ErrSubject, subject)
	}
	if err := ValidateRun(tok[1]); err != nil {
		return Subject{}, fmt.Errorf("subject %q: %w", subject, err)
	}
	s := Subject{Run: tok[1]}
	switch {
	case tok[2] == "layer" && len(tok) == 4:
		n, err := strconv.Atoi(tok[3])
		if err != nil || n < 1 || n > MaxLayer || tok[3] != strconv.Itoa(n) {
			return Subject{}, fmt.Errorf("%w: %q: layer %q not an integer in 1..%d", ErrSubject, subject, tok[3], MaxLayer)
		}
		s.Kind, s.Layer = KindLayer, n
		return s, nil
	case len(tok) != 3:
		return Subject{}, fmt.Errorf("%w: %q has %d tokens", ErrSubject, subject, len(tok))
	}
	switch tok[2] {
	case "audio":
		s.Kind, s.Layer = KindAudio, AudioLayer
	case "labels":
		s.Kind, s.Layer = KindLabels, LabelLayer
	case "control":
		s.Kind = KindControl
	case "stats":
		s.Kind = KindStats
	default:
		return Subject{}, fmt.Errorf("%w: %q: unknown kind %q", ErrSubject, subject, tok[2])
	}
	return s, nil
}
