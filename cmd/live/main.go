// Command live learns from the microphone (or a file played in real time,
// or audio over NATS) while you speak to it: every layer an actor learning
// online by day and replaying negatives by night, every layer's frames on
// NATS, and a web page on 127.0.0.1 that draws them.
//
//	live                                   the microphone (build with -tags portaudio)
//	live --input speech.flac               a file, in real time
//	live --input synthetic                 built-in speech, with labels for live probes
//	live --input nats://clapp.mic1.audio   audio published by another process
//	live --layers 4-6 --input nats://clapp.run1.layer.3   the top half of a model split across processes
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"clapp/actors"
	"clapp/cmd/internal/cli"
	"clapp/cmd/live/dashboard"
	"clapp/model"
	"clapp/stream"
	"clapp/stream/frame"
	"clapp/stream/mic"
	"clapp/stream/natsbus"
	"clapp/stream/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "live: %v\n", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

type options struct {
	common   cli.CommonFlags
	nats     cli.NATSFlags
	size     cli.SizeFlags
	input    string
	http     string
	run      string
	record   bool
	resume   string
	save     string
	every    time.Duration
	layers   string
	night    string
	chunk    int
	segment  time.Duration
	silence  time.Duration
	skip     int64
	labels   bool
	duration time.Duration
	lr       float64
	seed     uint64
	wpred    string
	gru      string
	memory   cli.ByteSize
}

const synopsis = `[--input mic|FILE|synthetic|nats://...] [--http 127.0.0.1:8080] [--checkpoint FILE] [--layers 1-6] [flags]

Learns online, in real time, from the microphone or another live input,
publishes every layer's frames on NATS (clapp.RUN.layer.N) and serves a
dashboard on 127.0.0.1. Ctrl-C writes a checkpoint and exits.`

func (o *options) register(fs *flag.FlagSet) {
	o.common.Register(fs)
	o.nats.Register(fs)
	o.size.Register(fs)
	fs.StringVar(&o.input, "input", "mic", "mic, a WAV or FLAC file (played in real time), synthetic, nats://clapp.RUN.audio or nats://clapp.RUN.layer.N")
	fs.StringVar(&o.http, "http", "127.0.0.1:8080", "dashboard address (a bare port means 127.0.0.1; empty turns it off)")
	fs.StringVar(&o.run, "run", "live", "run name in NATS subjects clapp.RUN.*")
	fs.BoolVar(&o.record, "record", false, "keep the session's audio in a JetStream stream clapp_RUN_audio (the embedded server stores it under the run directory unless --nats-store says where)")
	fs.StringVar(&o.resume, "checkpoint", "", "start from this checkpoint (one written by replay train or live)")
	fs.StringVar(&o.save, "save", "", "checkpoint file to write (default: checkpoint.safetensors in the run directory)")
	fs.DurationVar(&o.every, "checkpoint-every", 10*time.Minute, "write a checkpoint this often, and on exit")
	fs.StringVar(&o.layers, "layers", "", "run only these layers, e.g. 4-6 (input: the frames of the layer below, from nats://clapp.RUN.layer.3)")
	fs.StringVar(&o.night, "night", "every:16", "when negatives are replayed: every:N blocks, idle[:DURATION], never, alternate or control")
	fs.IntVar(&o.chunk, "chunk", 1600, "samples per block (1600 = 100 ms)")
	fs.DurationVar(&o.segment, "segment", 30*time.Second, "cut an endless input into streams of this length (0: never by length)")
	fs.DurationVar(&o.silence, "segment-silence", 0, "also cut at a silence this long (e.g. 500ms; 0: no silence cuts)")
	fs.Int64Var(&o.skip, "skip-backlog", 2, "a layer with this many blocks waiting skips learning (inference goes on) to keep up with real time")
	fs.BoolVar(&o.labels, "probe", true, "learn live linear probes when the input carries labels (synthetic)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until the input ends or Ctrl-C)")
	fs.Float64Var(&o.lr, "lr", 2e-4, "learning rate (Adam)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of a new encoder's weights and of every random choice")
	fs.StringVar(&o.wpred, "wpred", "symmetric", "prediction weights: symmetric or split (weight-transport-free)")
	fs.StringVar(&o.gru, "gru", "eprop", "how the GRU learns: eprop or bptt")
	o.memory = 128 << 20
	fs.Var(&o.memory, "night-memory", "bytes of stored negatives per layer (default 128MiB)")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: live %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	o.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "live: unexpected argument %q (flags start with --)\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	switch o.wpred {
	case "symmetric":
	case "split":
		o.size.Split = true
	default:
		return fmt.Errorf("--wpred %q: want symmetric or split", o.wpred)
	}
	if o.gru != "eprop" && o.gru != "bptt" {
		return fmt.Errorf("--gru %q: want eprop or bptt", o.gru)
	}
	night, err := actors.ParseNight(o.night)
	if err != nil {
		return fmt.Errorf("--night: %w", err)
	}
	if err := frame.ValidateRun(o.run); err != nil {
		return fmt.Errorf("--run: %w", err)
	}
	log, backend, err := o.common.Setup(stderr)
	if err != nil {
		return err
	}
	rd, err := cli.NewRunDir(o.common.RunsDir, "live", o.common.RunName)
	if err != nil {
		return err
	}
	if o.save == "" {
		o.save = rd.File("checkpoint.safetensors")
	}
	log.Info("run directory", "path", rd.Path)

	// The encoder: resumed, or new.
	var enc *model.Encoder
	var optim []*model.OptimState
	if o.resume != "" {
		ck, err := model.LoadCheckpoint(o.resume)
		if err != nil {
			return fmt.Errorf("--checkpoint: %w", err)
		}
		enc, optim = ck.Encoder, ck.Optim
		log.Info("resumed", "checkpoint", o.resume, "channels", enc.Config.Channels, "hidden", enc.Config.Hidden)
	} else {
		cfg, err := o.size.Config(backend)
		if err != nil {
			return err
		}
		if enc, err = model.NewEncoder(cfg, o.seed); err != nil {
			return err
		}
	}
	enc.Top.BPTT = o.gru == "bptt"
	first, last, err := parseLayers(o.layers, enc.Layers())
	if err != nil {
		return err
	}
	if err := rd.WriteJSON("config.json", map[string]any{"run": cli.NewRunInfo("live", args, backend.Name()), "flags": cli.FlagValues(fs), "encoder": enc.Config}); err != nil {
		return err
	}

	// NATS: embedded by default; JetStream for --record.
	if o.record && o.nats.URL == "" && o.nats.Store == "" {
		o.nats.Store = rd.File("jetstream")
	}
	o.nats.Name = "clapp-live-" + o.run
	bus, err := o.nats.Open(log)
	if err != nil {
		return err
	}
	defer bus.Close()
	if o.record {
		if _, err := natsbus.RecordAudio(ctx, bus.Conn, o.run, natsbus.RecordConfig{}); err != nil {
			return fmt.Errorf("--record: %w", err)
		}
		name, _ := natsbus.AudioStreamName(o.run)
		log.Info("recording the session's audio", "stream", name, "store", o.nats.Store,
			"replay", "replay train --data nats://"+name+nonEmpty(" --nats-store ", o.nats.Store)+nonEmpty(" --nats ", o.nats.URL))
	}

	// The input.
	src, err := openInput(ctx, &o, first, bus, log)
	if err != nil {
		return err
	}
	pumping := false // from then on pump owns src
	defer func() {
		if !pumping {
			src.Close()
		}
	}()

	p, err := actors.New(actors.Config{Encoder: enc, First: first, Last: last, Night: night, Batch: 4, MemoryBytes: int64(o.memory),
		LR: o.lr, Optim: optim, SkipBacklog: o.skip, Credits: 4, Seed: o.seed, Version: "clapp/" + o.run, Logger: log})
	if err != nil {
		return err
	}
	defer p.Close()
	pub := natsbus.NewPublisher(bus.Conn, natsbus.PublisherConfig{Logger: log})
	defer pub.Close()
	stopPub, err := actors.PublishLayers(p, pub, o.run)
	if err != nil {
		return err
	}
	defer stopPub()
	pctx, cancelStats := context.WithCancel(ctx)
	defer cancelStats()
	if err := actors.PublishStats(pctx, p, bus.Conn, o.run, time.Second); err != nil {
		return err
	}
	save := func(ctx context.Context) (string, error) {
		ck, _, err := p.Snapshot(ctx)
		if err != nil {
			return "", err
		}
		return o.save, ck.Save(o.save)
	}
	ctl := &actors.Controller{P: p, Save: save}
	sub, err := ctl.Serve(bus.Conn, o.run)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()

	var probes *actors.Probes
	if o.labels && isSynthetic(o.input) {
		if probes, err = actors.NewProbes(p, actors.ProbeConfig{Classes: synth.NumClasses, Logger: log}); err != nil {
			return err
		}
		defer probes.Close()
	}
	if o.http != "" {
		dcfg := dashboard.Config{Pipeline: p, Save: save, Run: o.run, Logger: log}
		if probes != nil {
			dcfg.ProbeAccuracy = probes.Accuracy
		}
		d, err := dashboard.New(dcfg)
		if err != nil {
			return err
		}
		defer d.Close()
		srv, err := dashboard.Listen(o.http, d, log)
		if err != nil {
			return fmt.Errorf("--http %s: %w", o.http, err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		fmt.Fprintf(stdout, "dashboard: %s\n", srv.URL())
	}
	log.Info("live", "input", o.input, "layers", fmt.Sprintf("%d-%d", first, last), "night", night.String(),
		"subjects", "clapp."+o.run+".layer.*", "control", "clapp."+o.run+".control")

	var reopen func(context.Context) (stream.Source, error)
	if o.input == "mic" {
		back := 0
		reopen = func(ctx context.Context) (stream.Source, error) {
			back++
			return waitForMic(ctx, &o, back, log)
		}
	}
	pumping = true
	err = pump(ctx, &o, src, reopen, p, bus, log)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	// Finish what was fed, then the final checkpoint: also on Ctrl-C.
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if derr := p.Drain(fctx); derr != nil {
		log.Warn("drain", "err", derr)
	}
	path, serr := save(fctx)
	if serr != nil {
		return errors.Join(err, fmt.Errorf("final checkpoint: %w", serr))
	}
	if err := rd.WriteJSON("results.json", map[string]any{"checkpoint": path, "layers": p.Stats(), "publisher": pub.Stats()}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checkpoint: %s\nrun directory: %s\n", path, rd.Path)
	return err
}

func nonEmpty(prefix, v string) string {
	if v == "" {
		return ""
	}
	return prefix + v
}

func isSynthetic(name string) bool {
	return name == "synthetic" || strings.HasPrefix(name, "synthetic:")
}

// parseLayers reads "4-6" (or "" for all).
func parseLayers(s string, n int) (int, int, error) {
	if s == "" {
		return 1, n, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		b = a
	}
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || lo < 1 || hi > n || lo > hi {
		return 0, 0, fmt.Errorf("--layers %q: want FIRST-LAST within 1-%d, e.g. 4-6", s, n)
	}
	return lo, hi, nil
}

// openInput opens the live input: the microphone, a file or synthetic
// speech in real time, or NATS; endless audio is cut into segments.
func openInput(ctx context.Context, o *options, first int, bus *natsbus.Bus, log *slog.Logger) (stream.Source, error) {
	if first > 1 && !strings.HasPrefix(o.input, "nats://") {
		return nil, fmt.Errorf("--layers %s needs the frames of layer %d as input: --input nats://clapp.RUN.layer.%d", o.layers, first-1, first-1)
	}
	opts := stream.Options{Chunk: o.chunk, Streams: 1, NATS: bus.Conn, Logger: log, Labels: o.labels,
		Realtime: !strings.HasPrefix(o.input, "nats://") && o.input != "mic", Loop: isSynthetic(o.input),
		Mic: mic.Config{Chunk: o.chunk, Logger: log}}
	src, err := stream.Open(ctx, o.input, opts)
	if err != nil {
		if o.input == "mic" {
			return nil, fmt.Errorf("%w\n\nno microphone here; other inputs: --input FILE.wav|FILE.flac (played in real time), --input synthetic, or --input nats://clapp.RUN.audio (audio published by another process)", err)
		}
		return nil, err
	}
	if o.input == "mic" || (strings.HasPrefix(o.input, "nats://") && first == 1) {
		src = stream.Segment(src, stream.SegmentConfig{Every: o.segment, Silence: o.silence, MinLength: time.Second})
	}
	return src, nil
}

// pump feeds the input to the pipeline, records it when asked, and writes
// periodic checkpoints. An input that fails with reopen set (a microphone
// unplugged) is closed and waited for with reopen, the pipeline and all it
// learned untouched. pump closes whichever source it ends with.
func pump(ctx context.Context, o *options, src stream.Source, reopen func(context.Context) (stream.Source, error),
	p *actors.Pipeline, bus *natsbus.Bus, log *slog.Logger) error {
	defer func() {
		if src != nil {
			src.Close()
		}
	}()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	var audioSubject string
	if o.record {
		audioSubject, _ = frame.AudioSubject(o.run)
	}
	var recPub *natsbus.Publisher
	if audioSubject != "" {
		recPub = natsbus.NewPublisher(bus.Conn, natsbus.PublisherConfig{QueueLen: 4096, Logger: log})
		defer recPub.Close()
	}
	nextCkpt := time.Now().Add(o.every)
	// The streams begun and not ended, by their next block: an input that
	// goes away mid-stream gets them ended, so no layer pairs frames across
	// the gap or keeps their state.
	open := map[string]frame.Block{}
	for {
		b, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			log.Info("input ended")
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if reopen != nil {
				log.Error("the input went away; learning is kept, waiting for it to come back (Ctrl-C saves and exits)", "input", o.input, "err", err)
				src.Close()
				src = nil
				for id, next := range open {
					if err := p.Feed(ctx, next, time.Now()); err != nil {
						log.Warn("ending a stream cut short", "stream", id, "err", err)
					}
					delete(open, id)
				}
				if src, err = reopen(ctx); err != nil {
					return err
				}
				log.Info("the input is back", "input", o.input)
				continue
			}
			return err
		}
		if b.End {
			delete(open, b.Stream)
		} else if b.Layer != frame.LabelLayer {
			open[b.Stream] = frame.Block{Stream: b.Stream, Layer: b.Layer, First: b.Last(), Cols: b.Cols, Rate: b.Rate, End: true, Model: b.Model}
		}
		if recPub != nil && b.Layer == frame.AudioLayer {
			_ = recPub.Publish(audioSubject, b)
		}
		if err := p.Feed(ctx, b, time.Now()); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Warn("block rejected", "stream", b.Stream, "err", err)
		}
		if time.Now().After(nextCkpt) {
			nextCkpt = time.Now().Add(o.every)
			ck, _, err := p.Snapshot(ctx)
			if err == nil {
				err = ck.Save(o.save)
			}
			if err != nil {
				log.Error("checkpoint", "err", err)
			} else {
				log.Info("checkpoint", "path", o.save)
			}
		}
	}
}

func waitForMic(ctx context.Context, o *options, back int, log *slog.Logger) (stream.Source, error) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		// A new stream id, so nothing of the streams before is resumed.
		id := fmt.Sprintf("%s-%d", mic.DefaultStream, back)
		src, err := stream.Open(ctx, "mic", stream.Options{Mic: mic.Config{Chunk: o.chunk, Stream: id, Logger: log}})
		if err == nil {
			return stream.Segment(src, stream.SegmentConfig{Every: o.segment, Silence: o.silence, MinLength: time.Second}), nil
		}
	}
}
