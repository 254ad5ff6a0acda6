package eval

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"clapp/model"
	"clapp/stream/labels"
	"clapp/stream/streamtest"
)

func alignDir(t testing.TB) string {
	return streamtest.DataDir(t, "librispeech-alignments", "train-clean-100")
}

// presentIDs returns the ids of the CPC split (train or test) whose audio
// is in the shared LibriSpeech folder, perReader of each reader (all if
// perReader <= 0), in split order.
func presentIDs(t testing.TB, split string, perReader int) []string {
	t.Helper()
	files, err := indexAudio(streamtest.LibriSpeech(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(streamtest.DataDir(t, "cpc", split+"_split.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := map[int]int{}
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id := strings.TrimSpace(sc.Text())
		if _, ok := files[id]; !ok {
			continue
		}
		r, err := labels.Speaker(id)
		if err != nil {
			t.Fatal(err)
		}
		if perReader > 0 && count[r] >= perReader {
			continue
		}
		count[r]++
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// writeSplit writes ids as a split file in a temporary directory.
func writeSplit(t testing.TB, name string, ids []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// quietLogger discards logs unless the test runs with -v.
func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// smallConfig is a probe of ~20 train and ~12 test utterances of the four
// readers, with the shared alignments.
func smallConfig(t testing.TB, trainPerReader, testPerReader int) Config {
	t.Helper()
	train := presentIDs(t, "train", trainPerReader)
	test := presentIDs(t, "test", testPerReader)
	return Config{
		Data:       streamtest.LibriSpeech(t),
		Labels:     LabelsTextGrid + ":" + alignDir(t),
		TrainSplit: writeSplit(t, "train.txt", train),
		TestSplit:  writeSplit(t, "test.txt", test),
		CacheDir:   t.TempDir(),
		Quiet:      true,
		Logger:     quietLogger(),
	}
}

func sortedIDs(us []Utterance) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	slices.Sort(ids)
	return ids
}

func smallModel() model.Config { return model.NarrowConfig(16, 8) }
