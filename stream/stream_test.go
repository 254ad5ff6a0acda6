package stream

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"clapp/stream/frame"
	"clapp/stream/streamtest"
)

func drain(t *testing.T, src Source, limit int) []frame.Block {
	t.Helper()
	var out []frame.Block
	for len(out) < limit {
		b, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestOpenNames(t *testing.T) {
	ls := streamtest.LibriSpeech(t)
	one := filepath.Join(ls, "4088", "158077", "4088-158077-0001.flac")
	cases := []struct {
		name    string
		opts    Options
		streams int
	}{
		{"synthetic", Options{Utterances: 3, Streams: 2}, 3},
		{"synthetic:test", Options{Utterances: 2}, 2},
		{ls, Options{IDs: []string{"4088-158077-0001", "8226-274371-0000"}, Streams: 2}, 2},
		{one, Options{}, 1},
	}
	for _, tc := range cases {
		src, err := Open(context.Background(), tc.name, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ended := map[string]bool{}
		for _, b := range drain(t, src, 1<<20) {
			if b.Layer != frame.AudioLayer || b.Cols != 1 || b.Rate != 16000 {
				t.Fatalf("%s: block %+v is not 16 kHz audio", tc.name, b.Stream)
			}
			if b.End {
				ended[b.Stream] = true
			}
		}
		if len(ended) != tc.streams {
			t.Errorf("%s: %d streams ended, want %d", tc.name, len(ended), tc.streams)
		}
		src.Close()
	}
}

func TestOpenErrorsSayWhatToDo(t *testing.T) {
	for name, want := range map[string]string{
		"/no/such/dir":          "not a file, a directory",
		"synthetic:what":        "synthetic:test",
		"nats://clapp.r1.audio": "no NATS connection",
	} {
		_, err := Open(context.Background(), name, Options{})
		if !errors.Is(err, ErrSource) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want ErrSource saying %q", name, err, want)
		}
	}
}

type sliceSource struct{ bs []frame.Block }

func (s *sliceSource) Next(context.Context) (frame.Block, error) {
	if len(s.bs) == 0 {
		return frame.Block{}, io.EOF
	}
	b := s.bs[0]
	s.bs = s.bs[1:]
	return b, nil
}
func (s *sliceSource) Close() error { return nil }

func audioBlocks(stream string, n, rows int, level float32) []frame.Block {
	var out []frame.Block
	for i := 0; i < n; i++ {
		d := make([]float32, rows)
		for j := range d {
			d[j] = level
		}
		out = append(out, frame.Block{Stream: stream, First: int64(i * rows), Rows: rows, Cols: 1, Data: d, Rate: 16000, End: i == n-1})
	}
	return out
}

func TestPacedRealtime(t *testing.T) {
	src := Paced(&sliceSource{bs: audioBlocks("a", 5, 1600, 0.1)}) // 0.5 s
	start := time.Now()
	drain(t, src, 100)
	if d := time.Since(start); d < 450*time.Millisecond || d > 5*time.Second {
		t.Errorf("0.5 s of audio released in %v", d)
	}
}

func TestSegmentCuts(t *testing.T) {
	loud := audioBlocks("mic", 30, 1600, 0.1) // 3 s, endless in spirit
	loud[len(loud)-1].End = false
	src := Segment(&sliceSource{bs: loud}, SegmentConfig{Every: time.Second})
	var ids []string
	for _, b := range drain(t, src, 100) {
		if b.End {
			ids = append(ids, b.Stream)
			if b.First+int64(b.Rows) != 16000 {
				t.Errorf("segment %s ends at sample %d, want 16000", b.Stream, b.First+int64(b.Rows))
			}
		}
	}
	if strings.Join(ids, ",") != "mic/0,mic/1,mic/2" {
		t.Errorf("segments %v", ids)
	}
	// Silence cuts.
	bs := append(audioBlocks("s", 10, 1600, 0.1), audioBlocks("s", 4, 1600, 0)...)
	for i := range bs {
		bs[i].First = int64(i * 1600)
		bs[i].End = false
	}
	src = Segment(&sliceSource{bs: bs}, SegmentConfig{Silence: 300 * time.Millisecond, MinLength: 500 * time.Millisecond})
	cuts := 0
	for _, b := range drain(t, src, 100) {
		if b.End {
			cuts++
		}
	}
	if cuts != 1 {
		t.Errorf("%d silence cuts, want 1", cuts)
	}
}
