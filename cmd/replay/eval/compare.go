package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Group is a named set of probe results of one kind of features, typically
// the seeds of one training recipe: "CLAPP-s, 30 min" = three checkpoints'
// results.
type Group struct {
	Name    string
	Results []*Result
	// Sources are the files the results were read from, in order.
	Sources []string
}

// Comparison is the table of `replay compare`: per group and layer the mean
// and spread of test accuracy over the group's results.
type Comparison struct {
	Task   Task              `json:"task"`
	Layers []int             `json:"layers"`
	Groups []ComparisonGroup `json:"groups"`
}

// ComparisonGroup is one row of a Comparison.
type ComparisonGroup struct {
	Name string `json:"name"`
	// Runs is the number of results in the group.
	Runs int `json:"runs"`
	// Mean and SD (sample standard deviation, 0 for one run) of the test
	// accuracy per layer, in the order of Comparison.Layers; NaN where no
	// result of the group has the layer (JSON: null).
	Mean []JSONFloat `json:"mean_test_acc"`
	SD   []JSONFloat `json:"sd_test_acc"`
	// AudioHours and WallMinutes are the means over the group's
	// checkpoints of what their training run reports (results.json next
	// to the checkpoint); zero when none is found.
	AudioHours  float64  `json:"audio_hours,omitempty"`
	WallMinutes float64  `json:"wall_minutes,omitempty"`
	Sources     []string `json:"sources"`
}

// JSONFloat is a float64 that is written as null when it is NaN.
type JSONFloat float64

// MarshalJSON writes null for NaN.
func (f JSONFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// UnmarshalJSON reads null as NaN.
func (f *JSONFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = JSONFloat(math.NaN())
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = JSONFloat(v)
	return err
}

// ReadResults reads the results of task from each path: a results JSON
// file written by `replay probe` (results.json, results-<task>.json, or a
// cache entry), or a probe run directory holding one. A path may be a glob
// pattern. A result of another task, a directory without results of task,
// or a pattern matching nothing is an error naming it.
func ReadResults(task Task, paths ...string) ([]*Result, []string, error) {
	var (
		out   []*Result
		files []string
	)
	for _, p := range paths {
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: pattern %q: %w", ErrConfig, p, err)
		}
		if len(matches) == 0 {
			return nil, nil, fmt.Errorf("%w: %s: no such file or directory (give probe run directories or their results JSON)", ErrData, p)
		}
		slices.Sort(matches)
		for _, m := range matches {
			r, file, err := readResult(task, m)
			if err != nil {
				return nil, nil, err
			}
			out, files = append(out, r), append(files, file)
		}
	}
	return out, files, nil
}

func readResult(task Task, path string) (*Result, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrData, err)
	}
	if st.IsDir() {
		found := ""
		for _, name := range []string{"results-" + string(task) + ".json", "results.json"} {
			if _, err := os.Stat(filepath.Join(path, name)); err == nil {
				found = filepath.Join(path, name)
				break
			}
		}
		if found == "" {
			return nil, "", fmt.Errorf("%w: %s: no results.json or results-%s.json: is it a probe run directory?", ErrData, path, task)
		}
		path = found
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrData, err)
	}
	var r Result
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, "", fmt.Errorf("%w: %s: not a probe result: %w", ErrData, path, err)
	}
	if len(r.Layers) == 0 {
		return nil, "", fmt.Errorf("%w: %s: no layers: not a probe result", ErrData, path)
	}
	if r.Task != task {
		return nil, "", fmt.Errorf("%w: %s is a %s probe, not %s: pick the task with --task", ErrData, path, r.Task, task)
	}
	return &r, path, nil
}

// trainingOf reads what the training run of a checkpoint result reports:
// audio seconds and wall seconds from the results.json beside the
// checkpoint. ok is false for other features or when there is none.
func trainingOf(r *Result) (audio, wall float64, ok bool) {
	if r.Features != KindCheckpoint || r.Name == "" {
		return 0, 0, false
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(r.Name), "results.json"))
	if err != nil {
		return 0, 0, false
	}
	var t struct {
		Audio *float64 `json:"audio_seconds"`
		Wall  *float64 `json:"wall_seconds"`
	}
	if json.Unmarshal(raw, &t) != nil || t.Audio == nil || t.Wall == nil {
		return 0, 0, false
	}
	return *t.Audio, *t.Wall, true
}

// Compare summarises groups of results of one task: per layer the mean and
// sample standard deviation of the test accuracy.
func Compare(task Task, groups []Group) (*Comparison, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("%w: nothing to compare", ErrConfig)
	}
	c := &Comparison{Task: task}
	seen := map[int]bool{}
	for _, g := range groups {
		if len(g.Results) == 0 {
			return nil, fmt.Errorf("%w: group %q has no results", ErrConfig, g.Name)
		}
		for _, r := range g.Results {
			if r.Task != task {
				return nil, fmt.Errorf("%w: group %q holds a %s probe in a %s comparison", ErrData, g.Name, r.Task, task)
			}
			for _, l := range r.Layers {
				seen[l.Layer] = true
			}
		}
	}
	for l := range seen {
		c.Layers = append(c.Layers, l)
	}
	slices.Sort(c.Layers)
	for _, g := range groups {
		row := ComparisonGroup{Name: g.Name, Runs: len(g.Results), Sources: g.Sources}
		for _, l := range c.Layers {
			var xs []float64
			for _, r := range g.Results {
				if lr := r.Layer(l); lr != nil {
					xs = append(xs, lr.TestAcc)
				}
			}
			m, sd := meanSD(xs)
			row.Mean, row.SD = append(row.Mean, JSONFloat(m)), append(row.SD, JSONFloat(sd))
		}
		var audio, wall float64
		n := 0
		for _, r := range g.Results {
			if a, w, ok := trainingOf(r); ok {
				audio, wall, n = audio+a, wall+w, n+1
			}
		}
		if n > 0 {
			row.AudioHours, row.WallMinutes = audio/float64(n)/3600, wall/float64(n)/60
		}
		c.Groups = append(c.Groups, row)
	}
	return c, nil
}

// meanSD returns the mean and sample standard deviation of xs (NaN, NaN
// for none; sd 0 for one).
func meanSD(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) == 1 {
		return mean, 0
	}
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

// WriteMarkdown writes the comparison as a Markdown table: one row per
// group, "mean ± sd" test accuracy (%) per layer.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| features | runs | audio h | wall min |")
	for _, l := range c.Layers {
		fmt.Fprintf(&b, " %s |", layerName(l))
	}
	b.WriteString("\n| --- | --- | --- | --- |" + strings.Repeat(" --- |", len(c.Layers)) + "\n")
	for _, g := range c.Groups {
		fmt.Fprintf(&b, "| %s | %d |", g.Name, g.Runs)
		if g.AudioHours > 0 {
			fmt.Fprintf(&b, " %.2f | %.1f |", g.AudioHours, g.WallMinutes)
		} else {
			b.WriteString(" | |")
		}
		for i := range c.Layers {
			m, sd := float64(g.Mean[i]), float64(g.SD[i])
			switch {
			case math.IsNaN(m):
				b.WriteString(" |")
			case g.Runs > 1:
				fmt.Fprintf(&b, " %.1f ± %.1f |", 100*m, 100*sd)
			default:
				fmt.Fprintf(&b, " %.1f |", 100*m)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%s probe, test frame accuracy (%%): mean ± sample standard deviation over the runs.\n", c.Task)
	_, err := io.WriteString(w, b.String())
	return err
}

func layerName(l int) string {
	switch {
	case l == 0:
		return "MFCC (0)"
	case l == 6:
		return "GRU (6)"
	}
	return "layer " + strconv.Itoa(l)
}

// Plot draws mean test accuracy against depth per group, with error bars
// of one standard deviation; a group with layer 0 only (MFCC) is drawn as
// a level line.
func (c *Comparison) Plot(path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s probe: test accuracy per layer (mean ± sd over runs)", c.Task)
	p.X.Label.Text = "layer (0 = MFCC, 1-5 conv, 6 GRU)"
	p.Y.Label.Text = "test frame accuracy (%)"
	p.Legend.Top, p.Legend.Left = true, true
	var ticks []plot.Tick
	for _, l := range c.Layers {
		ticks = append(ticks, plot.Tick{Value: float64(l), Label: strconv.Itoa(l)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = float64(c.Layers[0])-0.3, float64(c.Layers[len(c.Layers)-1])+0.3
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, g := range c.Groups {
		var pts plotter.XYs
		var errs plotter.YErrors
		for j, l := range c.Layers {
			m, sd := 100*float64(g.Mean[j]), 100*float64(g.SD[j])
			if math.IsNaN(m) {
				continue
			}
			pts = append(pts, plotter.XY{X: float64(l), Y: m})
			errs = append(errs, struct{ Low, High float64 }{sd, sd})
			lo, hi = min(lo, m-sd), max(hi, m+sd)
		}
		col := seriesColor(i)
		if len(pts) == 1 {
			lvl := pts[0].Y
			f := plotter.NewFunction(func(float64) float64 { return lvl })
			f.Color, f.Width, f.Dashes = col, vg.Points(1), []vg.Length{vg.Points(6), vg.Points(3)}
			p.Add(f)
			p.Legend.Add(fmt.Sprintf("%s: %.1f %%", g.Name, lvl), f)
			continue
		}
		line, marks, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("eval: plot %s: %w", path, err)
		}
		line.Color, line.Width = col, vg.Points(2)
		marks.Color, marks.Shape = col, plotutil.Shape(i)
		p.Add(line, marks)
		if g.Runs > 1 {
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYer
				plotter.YErrorer
			}{pts, errs})
			if err != nil {
				return fmt.Errorf("eval: plot %s: %w", path, err)
			}
			eb.Color = col
			p.Add(eb)
		}
		p.Legend.Add(fmt.Sprintf("%s (%d)", g.Name, g.Runs), line, marks)
	}
	if !math.IsInf(lo, 0) {
		// Room above the curves for the legend, one line per group.
		room := (0.05 + 0.075*float64(len(c.Groups))) * (hi - lo + 4)
		p.Y.Min, p.Y.Max = math.Max(0, math.Floor(lo-2)), math.Ceil(hi+2+room)
		// No accuracy is above 100 %: what is above it is the legend's.
		p.Y.Tick.Marker = stepTicks(p.Y.Min, math.Min(p.Y.Max, 100))
	}
	p.Add(plotter.NewGrid())
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("eval: plot %s: %w", path, err)
	}
	return nil
}

// stepTicks labels every 2, 5 or 10 points, the finest step that gives at
// most 12 labels over [lo, hi]: accuracies are read off the grid, and
// gonum's default leaves two or three labels on a typical range.
func stepTicks(lo, hi float64) plot.ConstantTicks {
	step := 10.0
	for _, s := range []float64{2, 5} {
		if (hi-lo)/s <= 12 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}
