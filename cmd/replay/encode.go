package main

import (
	"context"
	"fmt"
	"io"

	"clapp/cmd/internal/cli"
	"clapp/cmd/replay/eval"
)

const encodeSynopsis = `--checkpoint FILE --data DIR --out DIR

Writes every layer's frames of every utterance, on each layer's own frame
rate, for other tools: OUT/<utterance>/layer<n>.npy (float32, frames x
channels) and OUT/index.json (configuration, frame rates, receptive-field
centres, utterances).`

func cmdEncode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("encode", encodeSynopsis, stderr)
	var cf cli.CommonFlags
	cf.Register(fs)
	ckpt := fs.String("checkpoint", "", "encoder checkpoint")
	data := fs.String("data", "", "LibriSpeech or WAV directory (every utterance in it)")
	out := fs.String("out", "", "output directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *ckpt == "" || *data == "" || *out == "" {
		return fmt.Errorf("--checkpoint, --data and --out are required")
	}
	log, _, err := cf.Setup(stderr)
	if err != nil {
		return err
	}
	f, err := eval.CheckpointFeatures(*ckpt)
	if err != nil {
		return err
	}
	idx, err := eval.Encode(ctx, f, *out, eval.Config{Data: *data, Logger: log, Progress: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d utterances, %d layers, in %s (index.json) in %.0f s\n", len(idx.Utterances), len(idx.Layers), *out, idx.Seconds)
	return nil
}
