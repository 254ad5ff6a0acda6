package main

import (
	"bufio"
	"clapp/cmd/internal/cli"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"clapp/actors"
	"clapp/model"
	mblas "clapp/model/blas"
	"clapp/stream/frame"
	"clapp/stream/synth"
)

const benchSynopsis = `[--json] [flags]

Measures, on this machine, the paper-size encoder's training throughput
(seconds of audio learned per wall second, with the paper's workload:
CLAPP-s, 8 interleaved streams, K = 12, contexts at 100 Hz, e-prop GRU; and
with day and night), its inference throughput, peak memory, the BLAS
backend, the GFLOP/s achieved as a fraction of the sgemm rate measured in
the same run, and that a long stream takes no more memory than a short one.`

// pytorch holds the reference figures of DEPENDENCIES.md: PyTorch 1.13 on
// this kind of machine, two threads, the same workload.
var pytorch = map[string]float64{"train_audio_s_per_s": 2.5, "infer_audio_s_per_s": 20}

type benchResult struct {
	BLAS                string             `json:"blas"`
	BLASThreads         int                `json:"blas_threads"`
	Config              model.Config       `json:"config"`
	Streams             int                `json:"streams"`
	SgemmGFLOPS         float64            `json:"sgemm_gflops"`
	TrainAudioPerSec    float64            `json:"train_audio_s_per_s"`
	TrainGFLOPS         float64            `json:"train_gflops"`
	TrainSgemmFraction  float64            `json:"train_sgemm_fraction"`
	DayNightAudioPerSec float64            `json:"train_daynight_audio_s_per_s"`
	Nights              []nightVariant     `json:"night_variants,omitempty"`
	InferAudioPerSec    float64            `json:"infer_audio_s_per_s"`
	InferGFLOPS         float64            `json:"infer_gflops"`
	InferSgemmFraction  float64            `json:"infer_sgemm_fraction"`
	PeakRSSMB           float64            `json:"peak_rss_mb"`
	StreamMemory        *streamMemory      `json:"stream_memory,omitempty"`
	PyTorch             map[string]float64 `json:"pytorch_reference"`
	TrainVsPyTorch      float64            `json:"train_vs_pytorch"`
	InferVsPyTorch      float64            `json:"infer_vs_pytorch"`
	FLOPPerAudioSecond  map[string]float64 `json:"gflop_per_audio_second"`
	Seconds             float64            `json:"seconds"`
}

// nightVariant measures one design of the asynchronous night.
type nightVariant struct {
	Design       string  `json:"design"`
	AudioPerSec  float64 `json:"train_audio_s_per_s"`
	LatencyP50MS float64 `json:"top_latency_p50_ms"`
	LatencyP99MS float64 `json:"top_latency_p99_ms"`
	Nights       int64   `json:"nights"`
}

type streamMemory struct {
	Config      string  `json:"config"`
	ShortSec    float64 `json:"short_stream_s"`
	LongSec     float64 `json:"long_stream_s"`
	ShortHeapMB float64 `json:"short_stream_heap_mb"`
	LongHeapMB  float64 `json:"long_stream_heap_mb"`
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", benchSynopsis, stderr)
	var cf cli.CommonFlags
	cf.Register(fs)
	var sf cli.SizeFlags
	sf.Register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	streams := fs.Int("streams", 8, "interleaved streams (the batch)")
	chunk := fs.Int("chunk", 20480, "samples per block")
	seconds := fs.Float64("seconds", 30, "seconds of audio per stream for each throughput measurement")
	longMin := fs.Float64("long-stream", 60, "minutes of the long stream of the memory check (0 skips it)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the training measurement to this file")
	only := fs.String("only", "", "measure only: train, daynight, infer, or nights (compares the designs of the night)")
	sizeDefault := "paper"
	sf.Size = sizeDefault
	if err := parse(fs, args); err != nil {
		return err
	}
	if sf.Size == "auto" {
		sf.Size = sizeDefault
	}
	log, backend, err := cf.Setup(stderr)
	if err != nil {
		return err
	}
	cfg, err := sf.Config(backend)
	if err != nil {
		return err
	}
	start := time.Now()
	res := benchResult{BLAS: backend.Name(), BLASThreads: backend.Threads(), Config: cfg, Streams: *streams, PyTorch: pytorch}
	// The machine's sgemm rate: every core on one call, however many
	// threads the layers use each.
	log.Info("bench: measuring sgemm")
	threads := backend.Threads()
	backend.SetThreads(runtime.NumCPU())
	res.SgemmGFLOPS = mblas.MeasureSgemm(backend, 512, 1024, 2048, 2*time.Second)
	backend.SetThreads(threads)
	flops := flopsPerSecond(cfg)
	res.FLOPPerAudioSecond = map[string]float64{"train": flops.train / 1e9, "infer": flops.infer / 1e9}

	audio, err := benchAudio(*streams, *seconds, *chunk)
	if err != nil {
		return err
	}
	var lastStats []actors.LayerStats
	runCfg := func(night actors.NightPolicy, freeze bool, tweak func(*actors.Config)) (float64, error) {
		e, err := model.NewEncoder(cfg, 1)
		if err != nil {
			return 0, err
		}
		pc := actors.Config{Encoder: e, Night: night, Batch: *streams, Seed: 1, Logger: log}
		if tweak != nil {
			tweak(&pc)
		}
		p, err := actors.New(pc)
		if err != nil {
			return 0, err
		}
		defer func() { lastStats = p.Stats() }()
		defer p.Close()
		if freeze {
			p.Freeze(0, true)
		}
		// Warm up on the first tenth, then time the rest.
		warm := len(audio) / 10
		for _, b := range audio[:warm] {
			if err := p.Feed(ctx, b, time.Now()); err != nil {
				return 0, err
			}
		}
		if err := p.Drain(ctx); err != nil {
			return 0, err
		}
		t0 := time.Now()
		secs := 0.0
		for _, b := range audio[warm:] {
			if err := p.Feed(ctx, b, time.Now()); err != nil {
				return 0, err
			}
			secs += float64(b.Rows) / frame.SampleRate
		}
		if err := p.Drain(ctx); err != nil {
			return 0, err
		}
		return secs / time.Since(t0).Seconds(), nil
	}
	run := func(night actors.NightPolicy, freeze bool) (float64, error) { return runCfg(night, freeze, nil) }
	want := func(s string) bool { return *only == "" || *only == s }
	if *cpuprofile != "" {
		if *only == "" {
			return fmt.Errorf("--cpuprofile needs --only: one measurement to profile")
		}
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if want("train") {
		log.Info("bench: training, CLAPP-s (night never)")
		if res.TrainAudioPerSec, err = run(actors.NightPolicy{Kind: actors.NightNever}, false); err != nil {
			return err
		}
	}
	if want("daynight") {
		log.Info("bench: training, day and night (every:8)")
		if res.DayNightAudioPerSec, err = run(actors.NightPolicy{Kind: actors.NightEvery, Every: 8}, false); err != nil {
			return err
		}
	}
	if *only == "nights" {
		// The designs of the night, measured on the same audio: slices
		// between day blocks (the default), a dreamer goroutine on a copy
		// of the weights, and the whole night at once (deterministic).
		for _, v := range []struct {
			name  string
			tweak func(*actors.Config)
		}{
			{"slices between day blocks, current weights", nil},
			{"dreamer goroutine on a copy of the weights", func(c *actors.Config) { c.Dreamer = true }},
			{"whole night at once (blocks wait)", func(c *actors.Config) { c.Deterministic = true }},
		} {
			log.Info("bench: night design", "design", v.name)
			r, err := runCfg(actors.NightPolicy{Kind: actors.NightEvery, Every: 16}, false, v.tweak)
			if err != nil {
				return err
			}
			top := lastStats[len(lastStats)-1]
			res.Nights = append(res.Nights, nightVariant{Design: v.name, AudioPerSec: r, Nights: top.Nights,
				LatencyP50MS: float64(top.LatencyP50) / 1e6, LatencyP99MS: float64(top.LatencyP99) / 1e6})
		}
	}
	if want("infer") {
		log.Info("bench: inference (learning frozen)")
		if res.InferAudioPerSec, err = run(actors.NightPolicy{Kind: actors.NightNever}, true); err != nil {
			return err
		}
	}
	res.TrainGFLOPS = res.TrainAudioPerSec * flops.train / 1e9
	res.InferGFLOPS = res.InferAudioPerSec * flops.infer / 1e9
	res.TrainSgemmFraction = res.TrainGFLOPS / res.SgemmGFLOPS
	res.InferSgemmFraction = res.InferGFLOPS / res.SgemmGFLOPS
	res.TrainVsPyTorch = res.TrainAudioPerSec / pytorch["train_audio_s_per_s"]
	res.InferVsPyTorch = res.InferAudioPerSec / pytorch["infer_audio_s_per_s"]
	if *longMin > 0 {
		log.Info("bench: memory of a short and a long stream")
		if res.StreamMemory, err = benchStreamMemory(ctx, *longMin, log); err != nil {
			return err
		}
	}
	res.PeakRSSMB = peakRSSMB()
	res.Seconds = time.Since(start).Seconds()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(stdout, "encoder: %d channels, GRU %d, K %d, %d streams, BLAS %s (%d threads per call)\n", cfg.Channels, cfg.Hidden, cfg.K, *streams, res.BLAS, res.BLASThreads)
	fmt.Fprintf(stdout, "sgemm alone: %.1f GFLOP/s\n", res.SgemmGFLOPS)
	fmt.Fprintf(stdout, "training (CLAPP-s):   %6.2f s of audio per second  (%.1f GFLOP/s, %.0f%% of sgemm; PyTorch 1.13: %.1f, x%.2f)\n",
		res.TrainAudioPerSec, res.TrainGFLOPS, 100*res.TrainSgemmFraction, pytorch["train_audio_s_per_s"], res.TrainVsPyTorch)
	fmt.Fprintf(stdout, "training (day/night): %6.2f s of audio per second\n", res.DayNightAudioPerSec)
	fmt.Fprintf(stdout, "inference:            %6.2f s of audio per second  (%.1f GFLOP/s, %.0f%% of sgemm; PyTorch 1.13: %.0f, x%.2f)\n",
		res.InferAudioPerSec, res.InferGFLOPS, 100*res.InferSgemmFraction, pytorch["infer_audio_s_per_s"], res.InferVsPyTorch)
	for _, v := range res.Nights {
		fmt.Fprintf(stdout, "night as %-45s %6.2f s/s, top-layer latency p50 %.0f ms p99 %.0f ms, %d nights\n", v.Design+":", v.AudioPerSec, v.LatencyP50MS, v.LatencyP99MS, v.Nights)
	}
	if m := res.StreamMemory; m != nil {
		fmt.Fprintf(stdout, "one stream of %.0f s: heap %.1f MB; of %.0f s: heap %.1f MB (%s)\n", m.ShortSec, m.ShortHeapMB, m.LongSec, m.LongHeapMB, m.Config)
	}
	fmt.Fprintf(stdout, "peak RSS: %.0f MB\n", res.PeakRSSMB)
	return nil
}

type flopCount struct{ train, infer float64 }

// flopsPerSecond counts the floating-point operations of one second of
// audio: the forward pass, and training as the clapp layers do it
// (forward, the convolution's weight gradient for the window and for the
// partner window of the negatives, the prediction heads on contexts at the
// configured rate, the GRU's e-prop traces).
func flopsPerSecond(c model.Config) flopCount {
	var f flopCount
	cin := 1
	for i, s := range c.Convs {
		rate := c.FrameRate(i + 1)
		fwd := 2 * rate * float64(c.Channels*cin*s.Kernel)
		ctx := rate / float64(c.ContextEvery(i+1))
		head := 3 * 2 * ctx * float64(c.K*c.Channels*c.Channels)
		f.infer += fwd
		f.train += 2*fwd + head // forward, one weight gradient per window
		cin = c.Channels
	}
	rate := c.FrameRate(len(c.Convs) + 1)
	gru := 2 * rate * float64(3*c.Hidden*(cin+c.Hidden))
	head := 3 * 2 * rate * float64(c.K*cin*c.Hidden)
	f.infer += gru
	f.train += 3*gru + head
	return f
}

// benchAudio renders synthetic speech for the streams into memory, so that
// generating it is not measured.
func benchAudio(streams int, seconds float64, chunk int) ([]frame.Block, error) {
	g, err := synth.New(synth.DefaultConfig())
	if err != nil {
		return nil, err
	}
	n := int(seconds/3) + 1
	src, err := g.NewSource(synth.SourceConfig{Speakers: g.TrainSpeakers(), Utterances: n * streams, Streams: streams, Chunk: chunk})
	if err != nil {
		return nil, err
	}
	var out []frame.Block
	for {
		b, err := src.Next(context.Background())
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
}

// benchStreamMemory learns from one short and one long stream (a narrow
// encoder, so that the long one takes minutes, not an hour) and compares
// the live heap after each: a stream's state must not grow with it.
func benchStreamMemory(ctx context.Context, longMinutes float64, log interface{ Info(string, ...any) }) (*streamMemory, error) {
	cfg := model.NarrowConfig(64, 32)
	heapAfter := func(seconds float64) (float64, error) {
		e, err := model.NewEncoder(cfg, 1)
		if err != nil {
			return 0, err
		}
		p, err := actors.New(actors.Config{Encoder: e, Night: actors.NightPolicy{Kind: actors.NightEvery, Every: 8}, Batch: 8, Seed: 1})
		if err != nil {
			return 0, err
		}
		defer p.Close()
		g, _ := synth.New(synth.DefaultConfig())
		src, _ := g.NewSource(synth.SourceConfig{Speakers: g.TrainSpeakers(), Chunk: 20480})
		var pos int64
		total := int64(seconds * frame.SampleRate)
		for pos < total {
			b, err := src.Next(ctx)
			if err != nil {
				return 0, err
			}
			if b.Layer != frame.AudioLayer {
				continue
			}
			// One endless stream made of many utterances.
			b.Stream, b.First, b.End = "long", pos, false
			pos += int64(b.Rows)
			if err := p.Feed(ctx, b, time.Now()); err != nil {
				return 0, err
			}
		}
		if err := p.Drain(ctx); err != nil {
			return 0, err
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse) / (1 << 20), nil
	}
	m := &streamMemory{Config: fmt.Sprintf("narrow encoder %d/%d, training with day and night", cfg.Channels, cfg.Hidden), ShortSec: 60, LongSec: longMinutes * 60}
	var err error
	if m.ShortHeapMB, err = heapAfter(m.ShortSec); err != nil {
		return nil, err
	}
	log.Info("bench: short stream", "heap_mb", m.ShortHeapMB)
	if m.LongHeapMB, err = heapAfter(m.LongSec); err != nil {
		return nil, err
	}
	return m, nil
}

// peakRSSMB reads the process's peak resident set size (VmHWM).
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

var _ = flag.ErrHelp
