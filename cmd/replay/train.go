package main

import (
	"clapp/cmd/internal/cli"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"clapp/actors"
	"clapp/model"
	"clapp/stream"
	"clapp/stream/audio"
	"clapp/stream/frame"
	"clapp/stream/natsbus"
)

type trainFlags struct {
	common   cli.CommonFlags
	nats     cli.NATSFlags
	size     cli.SizeFlags
	data     string
	split    string
	minutes  float64
	hours    float64
	ckpt     string
	resume   bool
	seed     uint64
	rule     string
	wpred    string
	gru      string
	modules  int
	night    string
	streams  int
	speed    string
	chunk    int
	lr       float64
	batch    int
	memory   cli.ByteSize
	publish  bool
	run      string
	every    time.Duration
	report   time.Duration
	progress string
	det      bool
	shuffle  bool
	optim    string
}

const trainSynopsis = `[--data synthetic|DIR|nats://STREAM] [--split FILE] [--minutes M | --hours-of-audio H]
             [--checkpoint FILE] [--resume] [--seed S] [--rule clapp-s|clapp|hinge-cpc|infonce]
             [--wpred symmetric|split] [--gru eprop|bptt] [--modules N] [--night every:N|idle|never|alternate] [flags]

Learns an encoder from replayed audio streams, every layer an actor with its
own CLAPP loss, and writes a run directory (configuration, seed, commit, the
ids of the data read, results, loss curves, checkpoints).`

func (f *trainFlags) register(fs *flag.FlagSet) {
	f.common.Register(fs)
	f.nats.Register(fs)
	f.size.Register(fs)
	fs.StringVar(&f.data, "data", "synthetic", "what to learn from: synthetic, a LibriSpeech or WAV directory, a file, or nats://clapp_RUN_audio (a recorded stream)")
	fs.StringVar(&f.split, "split", "", "file of utterance ids to learn from, e.g. ../shared/data/cpc/train_split.txt")
	fs.Float64Var(&f.minutes, "minutes", 0, "train for this many minutes of wall time (default: one pass over a dataset, 10 minutes of synthetic speech)")
	fs.Float64Var(&f.hours, "hours-of-audio", 0, "train until this many hours of audio are learned")
	fs.StringVar(&f.ckpt, "checkpoint", "", "checkpoint file to write (default: checkpoint.safetensors in the run directory); with --resume it is read first")
	fs.BoolVar(&f.resume, "resume", false, "continue from --checkpoint: weights, optimiser state, counters and the position in the data")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the initial weights, the data order and every random choice")
	fs.StringVar(&f.rule, "rule", "clapp-s", "learning rule: clapp-s (both terms), clapp (a coin per context: positive or negative), hinge-cpc or infonce (Greedy InfoMax; with --modules 1, CPC)")
	fs.StringVar(&f.wpred, "wpred", "symmetric", "prediction weights: symmetric (Eqs. 3-4) or split (weight-transport-free, Appendix C)")
	fs.StringVar(&f.gru, "gru", "eprop", "how the GRU learns: eprop (forward in time) or bptt (through time over each window)")
	fs.IntVar(&f.modules, "modules", 0, "gradient-isolated modules, 1-6 (6: layer-wise, each layer an actor; 1: end-to-end); default 6, 1 for hinge-cpc")
	fs.StringVar(&f.night, "night", "every:2", "when negatives are replayed: every:N blocks of day (every:2, a night per optimiser step, by default), idle[:DURATION], never (synchronous CLAPP-s), alternate (the paper's CLAPP) or control (only on request)")
	fs.IntVar(&f.streams, "streams", 8, "streams read at once and interleaved (the batch)")
	fs.StringVar(&f.speed, "speed", "max", "max (as fast as the layers learn) or realtime")
	fs.IntVar(&f.chunk, "chunk", 20480, "samples per block of audio (20480 = 1.28 s, the paper's window)")
	fs.Float64Var(&f.lr, "lr", 2e-4, "learning rate (Adam)")
	fs.StringVar(&f.optim, "optimizer", "adam", "adam or sgd")
	fs.IntVar(&f.batch, "batch", 2, "blocks per optimiser step (2: more, smaller steps learn more in a given time than the paper's batch of 8; see README)")
	f.memory = 1 << 30
	fs.Var(&f.memory, "night-memory", "bytes of stored negatives per layer (default 1GiB; a 1.28 s block of the paper encoder costs about 17 MB at layer 2)")
	fs.BoolVar(&f.publish, "publish", false, "publish every layer's frames on NATS (clapp.RUN.layer.N)")
	fs.StringVar(&f.run, "run", "", "run name in NATS subjects clapp.RUN.* (default: derived from the run directory)")
	fs.DurationVar(&f.every, "checkpoint-every", 10*time.Minute, "write a checkpoint this often (and at the end, and on Ctrl-C)")
	fs.DurationVar(&f.report, "report-every", 30*time.Second, "log every layer's statistics this often")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar: auto (on a terminal), on or off")
	fs.BoolVar(&f.det, "deterministic", false, "fixed schedule of day and night (reproducible bit for bit)")
	fs.BoolVar(&f.shuffle, "shuffle", true, "read a dataset's files in a seeded random order")
	fs.BoolVar(&f.size.Split, "split-wpred", false, "same as --wpred split")
}

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f trainFlags
	fs := newFlags("train", trainSynopsis, stderr)
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.minutes > 0 && f.hours > 0 {
		return fmt.Errorf("--minutes and --hours-of-audio exclude each other: give one budget")
	}
	switch f.wpred {
	case "symmetric":
	case "split":
		f.size.Split = true
	default:
		return fmt.Errorf("--wpred %q: want symmetric or split", f.wpred)
	}
	if f.gru != "eprop" && f.gru != "bptt" {
		return fmt.Errorf("--gru %q: want eprop or bptt", f.gru)
	}
	if f.speed != "max" && f.speed != "realtime" {
		return fmt.Errorf("--speed %q: want max or realtime", f.speed)
	}
	if f.streams < 1 || f.chunk < 160 {
		return fmt.Errorf("--streams %d and --chunk %d: want at least 1 stream and 160 samples", f.streams, f.chunk)
	}
	night, err := actors.ParseNight(f.night)
	if err != nil {
		return fmt.Errorf("--night: %w", err)
	}
	switch f.rule {
	case "clapp-s":
	case "clapp":
		night = actors.NightPolicy{Kind: actors.NightAlternate}
	case "hinge-cpc", "infonce":
		if f.modules == 0 && f.rule == "hinge-cpc" {
			f.modules = 1
		}
	default:
		return fmt.Errorf("--rule %q: want clapp-s, clapp, hinge-cpc or infonce", f.rule)
	}
	if f.modules == 0 {
		f.modules = 6
	}
	log, backend, err := f.common.Setup(stderr)
	if err != nil {
		return err
	}
	rd, err := cli.NewRunDir(f.common.RunsDir, "train", f.common.RunName)
	if err != nil {
		return err
	}
	log.Info("run directory", "path", rd.Path)
	if f.run == "" {
		f.run = strings.NewReplacer(".", "_", "/", "_").Replace(filepath.Base(rd.Path))
	}
	if f.ckpt == "" {
		f.ckpt = rd.File("checkpoint.safetensors")
	}
	cfg, err := f.size.Config(backend)
	if err != nil {
		return err
	}
	var enc *model.Encoder
	var optim []*model.OptimState
	var prior trainMeta
	if f.resume {
		ck, err := model.LoadCheckpoint(f.ckpt)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		enc, optim = ck.Encoder, ck.Optim
		if len(ck.Meta) > 0 {
			if err := json.Unmarshal(ck.Meta, &prior); err != nil {
				return fmt.Errorf("--resume: %s: metadata: %w", f.ckpt, err)
			}
		}
		log.Info("resuming", "checkpoint", f.ckpt, "audio_hours", prior.AudioSeconds/3600, "utterances", prior.Utterances)
	} else if enc, err = model.NewEncoder(cfg, f.seed); err != nil {
		return err
	}
	enc.Top.BPTT = f.gru == "bptt"
	if f.batch == 0 {
		f.batch = f.streams
	}
	info := cli.NewRunInfo("train", args, backend.Name())
	if err := rd.WriteJSON("config.json", map[string]any{"run": info, "flags": cli.FlagValues(fs), "encoder": enc.Config, "seed": f.seed}); err != nil {
		return err
	}

	bus, err := f.nats.Open(log)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer bus.Close()

	// The data.
	var ids []string
	if f.split != "" {
		if ids, err = audio.ReadSplit(f.split); err != nil {
			return fmt.Errorf("--split: %w", err)
		}
	}
	var skipped []string
	var skipMu sync.Mutex
	budgetAudio := f.hours * 3600
	budgetWall := time.Duration(f.minutes * float64(time.Minute))
	isSynth := f.data == "synthetic" || strings.HasPrefix(f.data, "synthetic:")
	if budgetAudio == 0 && budgetWall == 0 && isSynth {
		budgetWall = 10 * time.Minute
	}
	loop := budgetAudio > 0 || budgetWall > 0
	opts := stream.Options{Chunk: f.chunk, Streams: f.streams, Shuffle: f.shuffle, Seed: f.seed, Loop: loop,
		IDs: ids, Realtime: f.speed == "realtime", NATS: bus.Conn, Durable: "replay-" + f.run, Logger: log,
		OnSkip: func(path string, err error) {
			skipMu.Lock()
			skipped = append(skipped, fmt.Sprintf("%s: %v", path, err))
			skipMu.Unlock()
		}}
	src, err := stream.Open(ctx, f.data, opts)
	if err != nil {
		return err
	}
	defer src.Close()

	skippedList := func() []string {
		skipMu.Lock()
		defer skipMu.Unlock()
		return append([]string(nil), skipped...)
	}
	if f.modules != 6 || f.rule == "hinge-cpc" || f.rule == "infonce" {
		mp, err := newModuleLearner(&f, enc, optim, log)
		if err != nil {
			return err
		}
		defer mp.Close()
		t := &trainer{f: &f, rd: rd, log: log, p: mp, enc: enc, prior: prior, started: time.Now(), seen: map[string]bool{}}
		return t.run(ctx, src, budgetAudio, budgetWall, stdout, stderr, skippedList)
	}

	p, err := actors.New(actors.Config{Encoder: enc, Night: night, Batch: f.batch, MemoryBytes: int64(f.memory),
		LR: f.lr, Optimizer: f.optim, Optim: optim, Deterministic: f.det, Seed: f.seed, Version: "clapp/" + f.run, Logger: log})
	if err != nil {
		return err
	}
	defer p.Close()
	if f.publish {
		pub := natsbus.NewPublisher(bus.Conn, natsbus.PublisherConfig{Logger: log})
		defer pub.Close()
		stop, err := actors.PublishLayers(p, pub, f.run)
		if err != nil {
			return err
		}
		defer stop()
		log.Info("publishing every layer", "subjects", "clapp."+f.run+".layer.*")
	}
	t := &trainer{f: &f, rd: rd, log: log, p: p, enc: enc, prior: prior, started: time.Now(), seen: map[string]bool{}}
	save := func(ctx context.Context) (string, error) { return t.checkpoint(ctx) }
	ctl := &actors.Controller{P: p, Save: save}
	sub, err := ctl.Serve(bus.Conn, f.run)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	log.Info("control", "subject", "clapp."+f.run+".control", "night", night.String(), "rule", f.rule, "gru", f.gru, "wpred", f.wpred)

	return t.run(ctx, src, budgetAudio, budgetWall, stdout, stderr, skippedList)
}

// run trains until the budget is spent, then drains, checkpoints and
// writes the results.
func (t *trainer) run(ctx context.Context, src stream.Source, budgetAudio float64, budgetWall time.Duration, stdout, stderr io.Writer, skipped func() []string) error {
	log, p := t.log, t.p
	err := t.loop(ctx, src, budgetAudio, budgetWall, stderr)
	interrupted := errors.Is(err, context.Canceled)
	if err != nil && !interrupted {
		return err
	}
	// Finish what was fed (unless interrupted twice), then checkpoint. A
	// run that ends by its budget also replays the negatives stored since
	// the last night (every:N, idle and control leave some), so that none
	// is lost; an interrupted one only drains, to stop quickly.
	dctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	finish := p.Drain
	if r, ok := p.(interface{ EndRound(context.Context) error }); ok && !interrupted {
		finish = r.EndRound
	}
	if derr := finish(dctx); derr != nil {
		log.Warn("drain", "err", derr)
	}
	path, cerr := t.checkpoint(dctx)
	if cerr != nil {
		return fmt.Errorf("final checkpoint: %w", cerr)
	}
	t.skipped = skipped()
	if err := t.finish(path, interrupted); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", t.summary(path))
	if interrupted {
		return fmt.Errorf("interrupted; checkpoint written to %s (continue with --resume --checkpoint %s)", path, path)
	}
	return nil
}

// trainMeta is what a checkpoint records about the training so far.
type trainMeta struct {
	Run          string  `json:"run"`
	Seed         uint64  `json:"seed"`
	AudioSeconds float64 `json:"audio_seconds"`
	WallSeconds  float64 `json:"wall_seconds"`
	Utterances   int     `json:"utterances"`
	Passes       int     `json:"passes"`
	// Done lists the streams learned to their end in the current pass over
	// the data: a resumed run skips them (a stream cut by the checkpoint
	// starts over).
	Done   []string               `json:"done,omitempty"`
	Blocks int64                  `json:"blocks"`
	Layers []actors.LayerCounters `json:"layers"`
	Data   string                 `json:"data"`
}

type lossPoint struct {
	AudioMinutes float64   `json:"audio_minutes"`
	Wall         float64   `json:"wall_seconds"`
	Pos          []float64 `json:"loss_pos"`
	Neg          []float64 `json:"loss_neg"`
	ActPos       []float64 `json:"active_pos"`
	ActNeg       []float64 `json:"active_neg"`
}

// learner is what training needs of the layer-wise pipeline and of the
// module baselines alike.
type learner interface {
	Feed(ctx context.Context, b frame.Block, born time.Time) error
	Drain(ctx context.Context) error
	Stats() []actors.LayerStats
	Snapshot(ctx context.Context) (*model.Checkpoint, []actors.LayerCounters, error)
	Close()
}

type trainer struct {
	f       *trainFlags
	rd      *cli.RunDir
	log     *slog.Logger
	p       learner
	enc     *model.Encoder
	prior   trainMeta
	started time.Time

	mu      sync.Mutex
	audio   float64 // seconds fed this session
	blocks  int64
	seen    map[string]bool
	order   []string
	done    []string // ended in the current pass
	doneSet map[string]bool
	passes  int
	curve   []lossPoint
	skipped []string
	ckptMu  sync.Mutex
}

func (t *trainer) audioTotal() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.prior.AudioSeconds + t.audio
}

// loop feeds the source until the budget is spent, the data ends or ctx
// is cancelled, with progress, reports and periodic checkpoints.
func (t *trainer) loop(ctx context.Context, src stream.Source, budgetAudio float64, budgetWall time.Duration, stderr io.Writer) error {
	prog := newProgress(t.f.progress, t.f.common.LogFormat, stderr, budgetAudio, budgetWall, t.prior.AudioSeconds)
	defer prog.close()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	nextReport := time.Now().Add(t.f.report)
	nextCkpt := time.Now().Add(t.f.every)
	blocks := make(chan frame.Block, 4)
	errc := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(blocks)
		for {
			b, err := src.Next(rctx)
			if err != nil {
				errc <- err
				return
			}
			select {
			case blocks <- b:
			case <-rctx.Done():
				errc <- rctx.Err()
				return
			}
		}
	}()
	// Streams already learned to their end in this pass are skipped, once.
	skip := map[string]bool{}
	for _, id := range t.prior.Done {
		skip[id] = true
	}
	t.done = append([]string(nil), t.prior.Done...)
	var readErr error
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b, ok := <-blocks:
			if !ok {
				readErr = <-errc
				if errors.Is(readErr, io.EOF) {
					return nil
				}
				return readErr
			}
			if skip[b.Stream] {
				if b.End {
					delete(skip, b.Stream)
				}
				continue
			}
			if err := t.p.Feed(ctx, b, time.Now()); err != nil {
				if errors.Is(err, context.Canceled) {
					return err
				}
				t.log.Warn("block rejected", "stream", b.Stream, "err", err)
				continue
			}
			if b.Layer == frame.AudioLayer {
				t.mu.Lock()
				t.audio += float64(b.Rows) / frame.SampleRate
				t.blocks++
				if !t.seen[b.Stream] {
					t.seen[b.Stream] = true
					t.order = append(t.order, b.Stream)
				}
				if b.End {
					t.markDone(b.Stream)
				}
				t.mu.Unlock()
			}
			if (budgetAudio > 0 && t.audioTotal() >= budgetAudio) || (budgetWall > 0 && time.Since(t.started) >= budgetWall) {
				return nil
			}
		case <-tick.C:
			st := t.p.Stats()
			prog.update(t.audioTotal(), time.Since(t.started), t.audio, st)
			if time.Now().After(nextReport) {
				nextReport = time.Now().Add(t.f.report)
				t.record(st)
				t.report(st)
			}
			if time.Now().After(nextCkpt) {
				nextCkpt = time.Now().Add(t.f.every)
				if path, err := t.checkpoint(ctx); err != nil {
					t.log.Error("checkpoint", "err", err)
				} else {
					t.log.Info("checkpoint", "path", path)
				}
			}
			if budgetWall > 0 && time.Since(t.started) >= budgetWall {
				return nil
			}
		}
	}
}

// markDone records a stream learned to its end; a stream seen ending
// twice starts a new pass over the data. Call with t.mu held.
func (t *trainer) markDone(id string) {
	if t.doneSet == nil {
		t.doneSet = map[string]bool{}
		for _, d := range t.done {
			t.doneSet[d] = true
		}
	}
	if t.doneSet[id] {
		t.passes++
		t.done, t.doneSet = nil, map[string]bool{}
	}
	t.doneSet[id] = true
	t.done = append(t.done, id)
}

func (t *trainer) record(st []actors.LayerStats) {
	pt := lossPoint{AudioMinutes: t.audioTotal() / 60, Wall: time.Since(t.started).Seconds()}
	for _, s := range st {
		pt.Pos = append(pt.Pos, s.LossPos)
		pt.Neg = append(pt.Neg, s.LossNeg)
		pt.ActPos = append(pt.ActPos, s.ActivePos)
		pt.ActNeg = append(pt.ActNeg, s.ActiveNeg)
	}
	t.mu.Lock()
	t.curve = append(t.curve, pt)
	t.mu.Unlock()
}

func (t *trainer) report(st []actors.LayerStats) {
	el := time.Since(t.started).Seconds()
	t.mu.Lock()
	speed := t.audio / el
	t.mu.Unlock()
	t.log.Info("progress", "audio_hours", t.audioTotal()/3600, "audio_s_per_s", speed)
	for _, s := range st {
		t.log.Info("layer", "n", s.Layer, "frames_per_s", int(s.FramesPerSec), "loss_pos", round3(s.LossPos), "loss_neg", round3(s.LossNeg),
			"active_pos", round3(s.ActivePos), "active_neg", round3(s.ActiveNeg), "night", s.Night, "nights", s.Nights,
			"skipped", s.Skipped, "memory_mb", s.MemoryBytes>>20, "dropped", s.MemoryDropped, "bad_input", s.BadInput, "refused", s.Refused, "backlog", s.Backlog)
	}
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// checkpoint takes a consistent snapshot without stopping the stream and
// writes it atomically, with the loss curves.
func (t *trainer) checkpoint(ctx context.Context) (string, error) {
	t.ckptMu.Lock()
	defer t.ckptMu.Unlock()
	ck, counters, err := t.p.Snapshot(ctx)
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	meta := trainMeta{Run: t.f.run, Seed: t.f.seed, AudioSeconds: t.prior.AudioSeconds + t.audio,
		WallSeconds: t.prior.WallSeconds + time.Since(t.started).Seconds(), Utterances: t.prior.Utterances + len(t.order),
		Blocks: t.prior.Blocks + t.blocks, Layers: counters, Data: t.f.data,
		Passes: t.prior.Passes + t.passes, Done: append([]string(nil), t.done...)}
	t.mu.Unlock()
	raw, _ := json.Marshal(meta)
	ck.Meta = raw
	if err := ck.Save(t.f.ckpt); err != nil {
		return "", err
	}
	if err := t.plotLoss(); err != nil {
		t.log.Warn("loss plot", "err", err)
	}
	return t.f.ckpt, nil
}

func (t *trainer) finish(ckpt string, interrupted bool) error {
	st := t.p.Stats()
	t.record(st)
	if err := t.plotLoss(); err != nil {
		t.log.Warn("loss plot", "err", err)
	}
	t.mu.Lock()
	ids := append([]string(nil), t.order...)
	curve := t.curve
	wall := time.Since(t.started).Seconds()
	res := map[string]any{
		"checkpoint": ckpt, "interrupted": interrupted,
		"audio_seconds": t.prior.AudioSeconds + t.audio, "audio_seconds_this_session": t.audio,
		"wall_seconds": wall, "train_audio_s_per_s": t.audio / wall,
		"utterances": len(ids), "blocks": t.blocks, "layers": st, "skipped_files": t.skipped,
	}
	t.mu.Unlock()
	sort.Strings(ids)
	if err := t.rd.WriteLines("data_ids.txt", ids); err != nil {
		return err
	}
	if err := t.rd.WriteJSON("loss_curve.json", curve); err != nil {
		return err
	}
	if len(t.skipped) > 0 {
		t.log.Warn("files skipped", "count", len(t.skipped), "list", t.rd.File("results.json"))
	}
	return t.rd.WriteJSON("results.json", res)
}

func (t *trainer) summary(ckpt string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	wall := time.Since(t.started)
	var b strings.Builder
	fmt.Fprintf(&b, "learned %.2f h of audio (%.2f h this run) in %s: %.2f s of audio per second\n",
		(t.prior.AudioSeconds+t.audio)/3600, t.audio/3600, cli.FormatDuration(wall), t.audio/wall.Seconds())
	fmt.Fprintf(&b, "%-6s %10s %9s %9s %8s %8s %7s %8s\n", "layer", "frames", "loss+", "loss-", "active+", "active-", "nights", "skipped")
	for _, s := range t.p.Stats() {
		fmt.Fprintf(&b, "%-6d %10d %9.3f %9.3f %8.2f %8.2f %7d %8d\n", s.Layer, s.Frames, s.LossPos, s.LossNeg, s.ActivePos, s.ActiveNeg, s.Nights, s.Skipped)
	}
	if len(t.skipped) > 0 {
		fmt.Fprintf(&b, "%d files skipped (named in results.json)\n", len(t.skipped))
	}
	fmt.Fprintf(&b, "checkpoint: %s\nrun directory: %s", ckpt, t.rd.Path)
	return b.String()
}

// newModuleLearner builds the back-propagating baselines: modules of
// several layers (hinge-CPC, InfoNCE / Greedy InfoMax, CPC end to end).
func newModuleLearner(f *trainFlags, enc *model.Encoder, optim []*model.OptimState, log *slog.Logger) (*actors.ModulePipeline, error) {
	sizes, err := model.ModuleSizes(enc.Layers(), f.modules)
	if err != nil {
		return nil, fmt.Errorf("--modules: %w", err)
	}
	loss := model.Hinge
	if f.rule == "infonce" {
		loss = model.InfoNCE
	}
	terms := model.ModuleTerms{Positive: true, Negative: true, Coin: f.rule == "clapp"}
	log.Info("module training (synchronous, back-propagation inside each module)", "modules", sizes, "rule", f.rule)
	if f.night != "every:2" {
		log.Warn("--night does not apply to module training, which is synchronous")
	}
	return actors.NewModules(actors.ModuleConfig{Encoder: enc, Sizes: sizes, Loss: loss, Terms: terms, Optimizer: f.optim,
		LR: f.lr, Optim: optim, Seed: f.seed, Window: f.chunk, Batch: f.batch, Logger: log})
}
