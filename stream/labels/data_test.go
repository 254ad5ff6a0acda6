package labels

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"clapp/stream/streamtest"
)

func alignmentRoot(t testing.TB) string {
	return streamtest.DataDir(t, "librispeech-alignments", "train-clean-100")
}

// sharedTextGrids returns the paths of the shared alignment files, sorted.
func sharedTextGrids(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(alignmentRoot(t), "*", "*", "*.TextGrid"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 496 {
		t.Fatalf("%d shared TextGrids, want 496", len(paths))
	}
	sort.Strings(paths)
	return paths
}

// flacSamples reads the total sample count of a FLAC file from its
// STREAMINFO block, and checks the file is 16 kHz.
func flacSamples(t testing.TB, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [4 + 4 + 34]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if string(h[:4]) != "fLaC" || h[4]&0x7f != 0 || int(h[5])<<16|int(h[6])<<8|int(h[7]) != 34 {
		t.Fatalf("%s: no STREAMINFO block at the start", path)
	}
	v := binary.BigEndian.Uint64(h[8+10 : 8+18])
	if rate := v >> 44; rate != 16000 {
		t.Fatalf("%s: sample rate %d", path, rate)
	}
	return int(v & (1<<36 - 1))
}

// flacFor returns the LibriSpeech audio of a shared alignment file.
func flacFor(t testing.TB, textGrid string) string {
	t.Helper()
	rel, err := filepath.Rel(alignmentRoot(t), textGrid)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(streamtest.LibriSpeech(t), strings.TrimSuffix(rel, ".TextGrid")+".flac")
}

// formatTextGrid writes tg in Praat's long or short text format, times in
// full precision, as a reference writer for round trips.
func formatTextGrid(tg *TextGrid, long bool) string {
	var b strings.Builder
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	str := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	line := func(indent int, key, value string) {
		if long {
			b.WriteString(strings.Repeat("    ", indent) + key + value + "\n")
		} else if value != "" {
			b.WriteString(value + "\n")
		}
	}
	b.WriteString("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n")
	line(0, "xmin = ", num(tg.XMin))
	line(0, "xmax = ", num(tg.XMax))
	if len(tg.Tiers) == 0 {
		line(0, "tiers? ", "<absent>")
		return b.String()
	}
	line(0, "tiers? ", "<exists>")
	line(0, "size = ", strconv.Itoa(len(tg.Tiers)))
	line(0, "item []:", "")
	for i, t := range tg.Tiers {
		line(1, "item ["+strconv.Itoa(i+1)+"]:", "")
		line(2, "class = ", str(t.Class))
		line(2, "name = ", str(t.Name))
		line(2, "xmin = ", num(t.XMin))
		line(2, "xmax = ", num(t.XMax))
		if t.Class == "TextTier" {
			line(2, "points: size = ", strconv.Itoa(len(t.Points)))
			for k, p := range t.Points {
				line(2, "points ["+strconv.Itoa(k+1)+"]:", "")
				line(3, "number = ", num(p.Time))
				line(3, "mark = ", str(p.Mark))
			}
			continue
		}
		line(2, "intervals: size = ", strconv.Itoa(len(t.Intervals)))
		for k, iv := range t.Intervals {
			line(2, "intervals ["+strconv.Itoa(k+1)+"]:", "")
			line(3, "xmin = ", num(iv.XMin))
			line(3, "xmax = ", num(iv.XMax))
			line(3, "text = ", str(iv.Text))
		}
	}
	return b.String()
}
