package audio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// dataDir returns the shared data directory: $CLAPP_DATA, or ../shared/data
// beside the repository root (the directory holding go.mod).
func dataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("CLAPP_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory; set CLAPP_DATA")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("shared data not found at %s (set CLAPP_DATA): %v", d, err)
	}
	return d
}

// openDecoderFile reads path's header and closes the file again.
func openDecoderFile(path string) (*Decoder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return NewDecoder(f, path)
}
