//go:build !portaudio || !cgo

package mic

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestStubSaysHow: without the portaudio tag, Open fails with an error that
// says how to get the microphone.
func TestStubSaysHow(t *testing.T) {
	m, err := Open(Config{})
	if m != nil || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open: %v, %v; want ErrUnavailable", m, err)
	}
	for _, s := range []string{"portaudio19-dev", "-tags portaudio", "file", "nats://"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if Available {
		t.Error("Available in a build without the portaudio tag")
	}
	var none *Mic
	if _, err := none.Next(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Next: %v", err)
	}
}
