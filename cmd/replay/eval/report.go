package eval

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// SplitSummary counts what a split held and what was used.
type SplitSummary struct {
	Name      string  `json:"name"`
	File      string  `json:"file,omitempty"`
	Requested int     `json:"requested"`
	Missing   int     `json:"missing"`
	Skipped   int     `json:"skipped"`
	Used      int     `json:"utterances"`
	Frames    int     `json:"frames"`
	Minutes   float64 `json:"minutes"`
}

func summarize(s *Split) SplitSummary {
	return SplitSummary{Name: s.Name, File: s.File, Requested: s.Requested, Missing: len(s.Missing), Skipped: len(s.Skipped),
		Used: len(s.Utterances), Frames: s.Frames(), Minutes: s.Seconds() / 60}
}

// Report is what `replay probe` prints: the evaluated features and the
// baselines next to them. Its JSON is the Result's fields (features, task,
// classes, chance, layers: [{layer, test_acc, train_acc, ...}], ...) with
// the baselines' Results in "baselines" and the data in "data" and
// "splits".
type Report struct {
	*Result
	Baselines []*Result      `json:"baselines,omitempty"`
	Data      string         `json:"data"`
	Splits    []SplitSummary `json:"splits"`
}

// NewReport puts a result and its baselines together with what ds says
// about the data.
func NewReport(ds *Dataset, r *Result, baselines ...*Result) *Report {
	return &Report{Result: r, Baselines: baselines, Data: ds.Data,
		Splits: []SplitSummary{summarize(&ds.Train), summarize(&ds.Test)}}
}

// All returns the main result followed by the baselines.
func (r *Report) All() []*Result { return append([]*Result{r.Result}, r.Baselines...) }

// WriteTable writes the report as a plain-text table for a terminal: one
// row per layer, test and train accuracy (%) of every result side by side.
func WriteTable(w io.Writer, r *Report) error {
	all := r.All()
	var b strings.Builder
	fmt.Fprintf(&b, "%s probe, labels %s, %d classes, chance %.1f %%\n", r.Task, r.Labels, r.Classes, 100*r.Chance)
	for _, s := range r.Splits {
		fmt.Fprintf(&b, "%s: %d utterances (%.1f min, %d frames)", s.Name, s.Used, s.Minutes, s.Frames)
		if s.File != "" {
			fmt.Fprintf(&b, ", %d of %d ids of %s present", s.Requested-s.Missing, s.Requested, s.File)
		}
		if s.Skipped > 0 {
			fmt.Fprintf(&b, ", %d skipped (no usable labels)", s.Skipped)
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "layer\tfeatures"
	sub := "\t"
	for _, res := range all {
		name := res.Features
		if res.Cached {
			name += " (cached)"
		}
		head += "\t" + name + "\t"
		sub += "\ttest %\ttrain %"
	}
	fmt.Fprintln(tw, head)
	fmt.Fprintln(tw, sub)
	var layers []int
	for _, res := range all {
		for _, l := range res.Layers {
			if !slices.Contains(layers, l.Layer) {
				layers = append(layers, l.Layer)
			}
		}
	}
	slices.Sort(layers)
	for _, n := range layers {
		desc := ""
		row := ""
		for _, res := range all {
			l := res.Layer(n)
			if l == nil {
				row += "\t\t"
				continue
			}
			if desc == "" {
				desc = l.Features
			}
			row += fmt.Sprintf("\t%.1f\t%.1f", 100*l.TestAcc, 100*l.TrainAcc)
		}
		fmt.Fprintf(tw, "%d\t%s%s\n", n, desc, row)
	}
	return tw.Flush()
}
