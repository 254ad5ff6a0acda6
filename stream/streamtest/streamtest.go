package streamtest

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvData is the environment variable that overrides the data location.
const EnvData = "CLAPP_DATA"

var dataFlag = flag.String("clapp.data", "", "shared test data directory (default $"+EnvData+", else ../shared/data beside go.mod)")

// ErrNoData reports that the shared data directory does not exist.
var ErrNoData = errors.New("streamtest: shared data not found")

// Dir returns the shared data directory: the -clapp.data flag, else
// $CLAPP_DATA, else ../shared/data beside the repository root (the first
// directory holding go.mod above the working directory). A TestMain that
// calls it before m.Run must call flag.Parse first for the flag to count.
func Dir() (string, error) {
	d := *dataFlag
	if d == "" {
		d = os.Getenv(EnvData)
	}
	if d == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		d = filepath.Join(filepath.Dir(root), "shared", "data")
	}
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w at %s (set -clapp.data or %s)", ErrNoData, d, EnvData)
	}
	return d, nil
}

// DataDir returns the path elem... inside the shared data directory, and
// fails the test if the directory cannot be found.
func DataDir(tb testing.TB, elem ...string) string {
	tb.Helper()
	d, err := Dir()
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(append([]string{d}, elem...)...)
}

// LibriSpeech returns the shared LibriSpeech train-clean-100 directory.
func LibriSpeech(tb testing.TB) string {
	tb.Helper()
	return DataDir(tb, "LibriSpeech", "train-clean-100")
}

// Utterance returns the path of the one utterance several tests decode
// (reader 4088, chapter 158077, utterance 0).
func Utterance(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(LibriSpeech(tb), "4088", "158077", "4088-158077-0000.flac")
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("%w: no go.mod above the working directory (set -clapp.data or %s)", ErrNoData, EnvData)
		}
		dir = up
	}
}
