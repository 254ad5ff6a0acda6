package audio

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// heapWatch samples the Go heap while a Source is read: the bytes in heap
// objects (live and not yet collected) at every sample, and the live heap
// after a forced collection at a few checkpoints.
type heapWatch struct {
	m        []metrics.Sample
	peak     uint64
	live     []uint64 // after runtime.GC, in checkpoint order
	every    int      // blocks between samples
	blocks   int
	lastLive time.Time
}

func newHeapWatch() *heapWatch {
	runtime.GC()
	return &heapWatch{m: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}, every: 64}
}

func (h *heapWatch) heap() uint64 {
	metrics.Read(h.m)
	return h.m[0].Value.Uint64()
}

// block records one block read; every few blocks it samples the heap, and
// every second of reading it takes the live heap after a collection.
func (h *heapWatch) block() {
	h.blocks++
	if h.blocks%h.every != 0 {
		return
	}
	h.peak = max(h.peak, h.heap())
	if time.Since(h.lastLive) > time.Second {
		runtime.GC()
		h.live = append(h.live, h.heap())
		h.lastLive = time.Now()
	}
}

// growth returns the largest live heap of the last third of the
// checkpoints minus the largest of the first third.
func (h *heapWatch) growth() int64 {
	n := len(h.live) / 3
	if n == 0 {
		return 0
	}
	return int64(slicesMax(h.live[len(h.live)-n:])) - int64(slicesMax(h.live[:n]))
}

func slicesMax(s []uint64) uint64 {
	m := uint64(0)
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

const mb = 1 << 20

// readWatched reads src to the end, checking blocks and sampling the heap;
// it returns the number of samples and streams.
func readWatched(t testing.TB, src *Source, h *heapWatch, lens map[string]int64) (samples int64, streams int) {
	ctx := context.Background()
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			return samples, streams
		}
		if err != nil {
			t.Fatal(err)
		}
		checkBlock(t, b, DefaultChunk)
		samples += int64(b.Rows)
		if lens != nil {
			lens[b.Stream] += int64(b.Rows)
		}
		if b.End {
			streams++
		}
		h.block()
	}
}

// buildTree makes a LibriSpeech tree of symbolic links to the shared FLAC
// files, copies times over, each copy under new reader ids so that every
// link is a distinct utterance; it returns the tree's audio in samples.
func buildTree(t testing.TB, copies int) (string, int64) {
	dir := t.TempDir()
	var total int64
	for _, p := range sharedFLACs(t) {
		id := strings.TrimSuffix(filepath.Base(p), ".flac")
		f := strings.SplitN(id, "-", 3)
		var reader int
		fmt.Sscan(f[0], &reader)
		for k := range copies {
			nid := fmt.Sprintf("%d-%s-%s", (k+1)*100000+reader, f[1], f[2])
			link(t, p, dir, libriRel(nid))
		}
		total += int64(copies) * framesOf(t, p)
	}
	return dir, total
}

func framesOf(t testing.TB, path string) int64 {
	d, err := openDecoderFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return d.Format().Frames
}

// BenchmarkTree reads a LibriSpeech tree of symbolic links to the shared
// files (6 copies: 10.2 hours, 3030 utterances) with 8 streams open, and
// reports the throughput and the heap: peak-heap-MB is the largest sample
// of the bytes in heap objects (garbage included), live-heap-MB the largest
// live heap after a forced collection, growth-MB how much the live heap of
// the last third of the run exceeds that of the first.
func BenchmarkTree(b *testing.B) {
	for _, copies := range []int{6} {
		b.Run(fmt.Sprintf("hours=%.1f_streams=8", float64(copies)*102.4/60), func(b *testing.B) {
			dir, total := buildTree(b, copies)
			var h *heapWatch
			for b.Loop() {
				src, err := OpenLibriSpeech(dir, Config{Streams: 8})
				if err != nil {
					b.Fatal(err)
				}
				h = newHeapWatch()
				n, streams := readWatched(b, src, h, nil)
				src.Close()
				if n != total || streams != copies*505 {
					b.Fatalf("%d samples in %d streams, want %d in %d", n, streams, total, copies*505)
				}
			}
			b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(total)/16000/3600, "hours")
			b.ReportMetric(float64(h.peak)/mb, "peak-heap-MB")
			b.ReportMetric(float64(slicesMax(h.live))/mb, "live-heap-MB")
			b.ReportMetric(float64(h.growth())/mb, "growth-MB")
		})
	}
}
