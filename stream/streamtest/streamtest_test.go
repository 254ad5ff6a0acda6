package streamtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	flagged, env := t.TempDir(), t.TempDir()
	missing := filepath.Join(t.TempDir(), "absent")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, flag, env string
		want            string
		err             error
	}{
		{name: "flag wins over env", flag: flagged, env: env, want: flagged},
		{name: "env", env: env, want: env},
		{name: "missing", env: missing, err: ErrNoData},
		{name: "not a directory", flag: file, err: ErrNoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := *dataFlag
			t.Cleanup(func() { *dataFlag = old })
			*dataFlag = tt.flag
			t.Setenv(EnvData, tt.env)
			got, err := Dir()
			if !errors.Is(err, tt.err) {
				t.Fatalf("Dir() error %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Dir() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDirBesideRepository finds ../shared/data from a directory below the
// repository root, as every package's tests do when nothing is set.
func TestDirBesideRepository(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "repo", "stream", "audio")
	data := filepath.Join(root, "shared", "data")
	for _, d := range []string{sub, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "repo", "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvData, "")
	t.Chdir(sub)
	got, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if got != data {
		t.Errorf("Dir() = %q, want %q", got, data)
	}
}
