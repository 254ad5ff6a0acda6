package blas

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	_, loadErr := LoadOpenBLAS()
	auto := NameGo
	if loadErr == nil {
		auto = NameOpenBLAS
	}
	for _, tc := range []struct {
		name, want string
		err        error
	}{
		{"", auto, nil},
		{"  ", auto, nil},
		{"go", NameGo, nil},
		{" Go\n", NameGo, nil},
		{"openblas", NameOpenBLAS, loadErr},
		{"OpenBLAS", NameOpenBLAS, loadErr},
		{"mkl", "", ErrUnknownBackend},
		{"go,openblas", "", ErrUnknownBackend},
	} {
		b, err := Select(tc.name)
		switch {
		case tc.err != nil:
			if !errors.Is(err, tc.err) && !errors.Is(err, ErrOpenBLASUnavailable) {
				t.Errorf("Select(%q) error %v, want %v", tc.name, err, tc.err)
			}
			if b != nil {
				t.Errorf("Select(%q) returned %v with an error", tc.name, b.Name())
			}
		case err != nil:
			t.Errorf("Select(%q): %v", tc.name, err)
		case b.Name() != tc.want:
			t.Errorf("Select(%q) = %q, want %q", tc.name, b.Name(), tc.want)
		}
	}

	_, err := Select("mkl")
	for _, s := range []string{`"mkl"`, `"go"`, `"openblas"`} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("unknown backend error %v does not name %s", err, s)
		}
	}
}

// TestOpenBLASMissing checks what happens where OpenBLAS cannot be loaded:
// here if it is not installed, else in a child process pointed at a
// library that does not exist.
func TestOpenBLASMissing(t *testing.T) {
	if _, err := LoadOpenBLAS(); err == nil {
		if os.Getenv("CLAPP_BLAS_TEST_CHILD") == "1" {
			t.Fatalf("%s=%s did not stop OpenBLAS from loading", LibEnvVar, os.Getenv(LibEnvVar))
		}
		if testing.Short() {
			t.Skip("child process skipped in short mode")
		}
		out := runChild(t, "TestOpenBLASMissing", EnvVar+"=", LibEnvVar+"="+missingLib)
		if !strings.Contains(out, "--- PASS: TestOpenBLASMissing") {
			t.Errorf("child without OpenBLAS:\n%s", out)
		}
		return
	}
	_, err := LoadOpenBLAS()
	if !errors.Is(err, ErrOpenBLASUnavailable) || !strings.Contains(err.Error(), "libopenblas0") {
		t.Errorf("load error %q should wrap ErrOpenBLASUnavailable and tell to install libopenblas0", err)
	}
	if _, err := Select(NameOpenBLAS); !errors.Is(err, ErrOpenBLASUnavailable) {
		t.Errorf("Select(openblas) error %v, want ErrOpenBLASUnavailable", err)
	}
	if b, err := Select(""); err != nil || b.Name() != NameGo {
		t.Errorf("Select(\"\") without OpenBLAS = %v, %v; want the pure Go backend", b, err)
	}
}

// missingLib is a library name that cannot be loaded.
const missingLib = "/nonexistent/libopenblas.so.0"

// runChild runs the named test of this package in a child process with
// extra environment variables and returns its output, failing if it fails.
func runChild(t *testing.T, test string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(append(os.Environ(), "CLAPP_BLAS_TEST_CHILD=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s %v: %v\n%s", test, env, err, out)
	}
	return string(out)
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvVar, "go")
	if b, err := FromEnv(); err != nil || b.Name() != NameGo {
		t.Errorf("FromEnv with %s=go: %v, %v", EnvVar, b, err)
	}
	t.Setenv(EnvVar, "blis")
	if _, err := FromEnv(); !errors.Is(err, ErrUnknownBackend) || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("FromEnv with %s=blis: error %v should wrap ErrUnknownBackend and name %s", EnvVar, err, EnvVar)
	}
}

// TestDefault checks Default in this process against the environment
// it runs in, then in child processes for each kind of value of EnvVar,
// since Default chooses only once per process.
func TestDefault(t *testing.T) {
	want, wantErr := FromEnv()
	if got := Default(); wantErr != nil {
		if got.Name() != NameGo || DefaultErr() == nil {
			t.Errorf("%s=%q: Default %q, DefaultErr %v; want the pure Go fallback and %v",
				EnvVar, os.Getenv(EnvVar), got.Name(), DefaultErr(), wantErr)
		}
	} else if got.Name() != want.Name() || DefaultErr() != nil {
		t.Errorf("%s=%q: Default %q, DefaultErr %v; want %q", EnvVar, os.Getenv(EnvVar), got.Name(), DefaultErr(), want.Name())
	}
	if Default() != Default() {
		t.Error("Default changes between calls")
	}

	if testing.Short() {
		t.Skip("child processes skipped in short mode")
	}
	_, loadErr := LoadOpenBLAS()
	auto := NameGo
	if loadErr == nil {
		auto = NameOpenBLAS
	}
	for _, tc := range []struct {
		env, lib string
		want     string
		wantErr  bool
	}{
		{"", "", auto, false},
		{"go", "", NameGo, false},
		{"openblas", "", map[bool]string{true: NameOpenBLAS, false: NameGo}[loadErr == nil], loadErr != nil},
		{"bogus", "", NameGo, true},
		{"", missingLib, NameGo, false},
		{"openblas", missingLib, NameGo, true},
	} {
		env := []string{EnvVar + "=" + tc.env}
		if tc.lib != "" {
			// Otherwise the child inherits this process's setting, which
			// auto and loadErr reflect.
			env = append(env, LibEnvVar+"="+tc.lib)
		}
		out := runChild(t, "TestDefaultChild", env...)
		line := fmt.Sprintf("default=%s err=%t", tc.want, tc.wantErr)
		if !strings.Contains(out, line) {
			t.Errorf("%s=%q %s=%q: child output lacks %q:\n%s", EnvVar, tc.env, LibEnvVar, tc.lib, line, out)
		}
		if n := strings.Count(out, "blas: backend selected"); n != 1 {
			t.Errorf("%s=%q: the choice was logged %d times, want once:\n%s", EnvVar, tc.env, n, out)
		}
		if tc.wantErr && !strings.Contains(out, "falling back to pure Go") {
			t.Errorf("%s=%q: the fallback was not logged:\n%s", EnvVar, tc.env, out)
		}
	}
}

// TestDefaultChild reports Default for TestDefault when run as its child.
func TestDefaultChild(t *testing.T) {
	if os.Getenv("CLAPP_BLAS_TEST_CHILD") != "1" {
		t.Skip("run by TestDefault in a child process")
	}
	b := Default()
	Default() // logs only once
	t.Logf("default=%s err=%t threads=%d", b.Name(), DefaultErr() != nil, b.Threads())
}
