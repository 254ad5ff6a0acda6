// Command replay replays dataset streams through clapp's actor network:
// it trains an encoder layer by layer with CLAPP, evaluates it with linear
// probes, writes per-layer features for other tools, and benchmarks.
//
//	replay train   [flags]   learn from a dataset (synthetic speech by default)
//	replay probe   [flags]   linear phone or speaker probes on every layer
//	replay encode  [flags]   per-layer features of every utterance
//	replay bench   [flags]   training and inference throughput
//	replay compare [flags] NAME=RUN...   probe results side by side, mean ± sd
//
// Run "replay <command> --help" for the flags of each.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `replay: train, evaluate and benchmark CLAPP encoders on replayed audio streams

Usage:
  replay train   [flags]   learn from a dataset (built-in synthetic speech by default)
  replay probe   [flags]   fit linear phone or speaker probes on every layer
  replay encode  [flags]   write per-layer features of every utterance
  replay bench   [flags]   measure training and inference throughput
  replay compare [flags] NAME=RUN...
                           put probe runs side by side (mean ± sd per layer)

Run "replay <command> --help" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks errors already explained by printed usage.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "train":
		err = cmdTrain(ctx, args[1:], stdout, stderr)
	case "probe":
		err = cmdProbe(ctx, args[1:], stdout, stderr)
	case "encode":
		err = cmdEncode(ctx, args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(ctx, args[1:], stdout, stderr)
	case "compare":
		err = cmdCompare(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "replay: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "replay %s: %v\n", args[0], err)
	return 1
}

// newFlags returns a flag set that reports errors (unknown flags, bad
// values) with the command's usage instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("replay "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: replay %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, mapping a parse error to errUsage (flag has printed
// it with the usage) and rejecting stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q (flags start with --)\n", fs.Name(), pos[0])
		fs.Usage()
		return errUsage
	}
	return nil
}

// parseInterleaved parses args in which flags may come before, between and
// after positional arguments, and returns the positional ones in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}
