package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"clapp/cmd/internal/cli"
	"clapp/cmd/replay/eval"
)

const compareSynopsis = `[--task phone|speaker] [--json] NAME=RUN[,RUN...] ...

Puts probe results side by side: one row per NAME, the mean and sample
standard deviation of test accuracy per layer over its RUNs (probe run
directories or their results JSON; quoted glob patterns are expanded),
with the audio learned and the wall time of the checkpoints' training runs.
Prints a Markdown table (or --json) and writes it, with a plot of accuracy
against depth with error bars, into a run directory. For example:

  replay compare 'random init=runs/*-probe-random_s*' 'CLAPP-s 30 min=runs/*-probe-sync_s*' 'mfcc=runs/*-probe-mfcc'`

func cmdCompare(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", compareSynopsis, stderr)
	var cf cli.CommonFlags
	cf.Register(fs)
	task := fs.String("task", "phone", "which probe to compare: phone or speaker")
	asJSON := fs.Bool("json", false, "print the comparison as JSON")
	pos, err := parseInterleaved(fs, args) // flags may come before or after the groups
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "replay compare: give at least one NAME=RUN[,RUN...]")
		fs.Usage()
		return errUsage
	}
	var groups []eval.Group
	for _, a := range pos {
		name, runs, ok := strings.Cut(a, "=")
		if !ok || name == "" || runs == "" {
			return fmt.Errorf("%q: write NAME=RUN[,RUN...], e.g. 'CLAPP-s=runs/*-probe-sync_s*'", a)
		}
		res, files, err := eval.ReadResults(eval.Task(*task), strings.Split(runs, ",")...)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		groups = append(groups, eval.Group{Name: name, Results: res, Sources: files})
	}
	cmp, err := eval.Compare(eval.Task(*task), groups)
	if err != nil {
		return err
	}
	log, backend, err := cf.Setup(stderr)
	if err != nil {
		return err
	}
	rd, err := cli.NewRunDir(cf.RunsDir, "compare", cf.RunName)
	if err != nil {
		return err
	}
	if err := rd.WriteJSON("config.json", map[string]any{"run": cli.NewRunInfo("compare", args, backend.Name()), "flags": cli.FlagValues(fs)}); err != nil {
		return err
	}
	if err := rd.WriteJSON("comparison.json", cmp); err != nil {
		return err
	}
	var md strings.Builder
	if err := cmp.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := rd.WriteLines("comparison.md", []string{strings.TrimRight(md.String(), "\n")}); err != nil {
		return err
	}
	if err := cmp.Plot(rd.File("compare.png")); err != nil {
		log.Warn("plot", "err", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cmp)
	}
	fmt.Fprint(stdout, md.String())
	fmt.Fprintf(stdout, "run directory: %s (comparison.md, comparison.json, compare.png)\n", rd.Path)
	return nil
}
