package labels

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkPhones(b *testing.B) {
	path := sharedTextGrids(b)[0]
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("bytes=%d", len(data)), func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			tg, err := ParseTextGrid(data, path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tg.Phones(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpcCorpus writes a file shaped like the full CPC label file: 28539 lines
// (train + test split) made of the sample's lines under new ids.
func cpcCorpus(b *testing.B, lines int) string {
	sample, err := os.ReadFile(cpcSample(b))
	if err != nil {
		b.Fatal(err)
	}
	var rows [][]byte
	for line := range bytes.Lines(sample) {
		_, rest := cpcField(line)
		rows = append(rows, rest)
	}
	var buf bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&buf, "%d-%d-%04d", 1000+i%251, i/100, i%100)
		buf.Write(rows[i%len(rows)])
	}
	path := filepath.Join(b.TempDir(), "converted_aligned_phones.txt")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

func BenchmarkCPC(b *testing.B) {
	const lines = 28539
	path := cpcCorpus(b, lines)
	st, _ := os.Stat(path)
	b.Run(fmt.Sprintf("OpenCPC/lines=%d", lines), func(b *testing.B) {
		b.SetBytes(st.Size())
		for b.Loop() {
			c, err := OpenCPC(path)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run(fmt.Sprintf("ReadCPC/lines=%d/keep=all", lines), func(b *testing.B) {
		b.SetBytes(st.Size())
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ReadCPC(f, path, nil); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	c, err := OpenCPC(path)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ids := c.Utterances()
	b.Run("Labels", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := c.Labels(ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
