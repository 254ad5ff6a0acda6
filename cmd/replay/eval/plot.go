package eval

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot draws test accuracy against depth (layer 0..6) as a PNG (or any
// format gonum/plot knows by the extension of path): every encoder result
// of the report as a line with points, an MFCC result as a point at layer 0
// and a dashed horizontal line across all layers, and chance as a dotted
// line.
func Plot(path string, r *Report) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s probe (%s, %d classes): test accuracy per layer", r.Task, labelKind(r.Labels), r.Classes)
	p.X.Label.Text = "layer (0 = MFCC, 1-5 conv, 6 GRU)"
	p.Y.Label.Text = "test frame accuracy (%)"
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), -vg.Points(4)
	p.Title.Padding = vg.Points(6)
	maxLayer := 1
	for _, res := range r.All() {
		for _, l := range res.Layers {
			maxLayer = max(maxLayer, l.Layer)
		}
	}
	var ticks []plot.Tick
	for n := 0; n <= maxLayer; n++ {
		ticks = append(ticks, plot.Tick{Value: float64(n), Label: strconv.Itoa(n)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.3, float64(maxLayer)+0.3
	p.Y.Min = 0
	top := 100 * r.Chance

	for i, res := range r.All() {
		name := res.Features
		if res.Name != "" && res.Features == KindCheckpoint {
			name += " " + filepath.Base(res.Name)
		} else if res.Name != "" && res.Features != KindMFCC {
			name += " (" + res.Name + ")"
		}
		xys := make(plotter.XYs, 0, len(res.Layers))
		for _, l := range res.Layers {
			xys = append(xys, plotter.XY{X: float64(l.Layer), Y: 100 * l.TestAcc})
			top = max(top, 100*l.TestAcc)
		}
		c := seriesColor(i)
		if len(xys) == 1 {
			// A single layer (MFCC): a point where it is and a level
			// line the encoders can be compared with.
			lvl := xys[0].Y
			h := plotter.NewFunction(func(float64) float64 { return lvl })
			h.Color, h.Width, h.Dashes = c, vg.Points(1), []vg.Length{vg.Points(6), vg.Points(3)}
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return fmt.Errorf("eval: plot %s: %w", path, err)
			}
			sc.Color, sc.Shape, sc.Radius = c, draw.BoxGlyph{}, vg.Points(4)
			p.Add(h, sc)
			p.Legend.Add(fmt.Sprintf("%s: %.1f %%", name, lvl), h, sc)
			continue
		}
		line, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("eval: plot %s: %w", path, err)
		}
		line.Color, line.Width = c, vg.Points(2)
		pts.Color, pts.Shape, pts.Radius = c, plotutil.Shape(i), vg.Points(3)
		p.Add(line, pts)
		p.Legend.Add(name, line, pts)
	}
	if r.Chance > 0 {
		ch := 100 * r.Chance
		f := plotter.NewFunction(func(float64) float64 { return ch })
		f.Color, f.Width, f.Dashes = color.Gray{Y: 110}, vg.Points(1), []vg.Length{vg.Points(1), vg.Points(3)}
		p.Add(f)
		p.Legend.Add(fmt.Sprintf("chance: %.1f %%", ch), f)
	}
	// Headroom above the highest point for the legend in the top corner.
	p.Y.Max = math.Min(105, math.Ceil(1.45*top/10)*10)
	p.Y.Tick.Marker = stepTicks(p.Y.Min, p.Y.Max)
	p.Add(plotter.NewGrid())
	ext := strings.TrimPrefix(filepath.Ext(path), ".")
	if ext == "" {
		return fmt.Errorf("%w: plot %s: no extension to tell the format by (use .png)", ErrConfig, path)
	}
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("eval: plot %s: %w", path, err)
	}
	return nil
}

// seriesColors extends plotutil's seven default colours by three, so that
// a comparison of up to ten groups (random init, MFCC and every recipe)
// draws no two lines in one colour.
var seriesColors = append(append([]color.Color(nil), plotutil.DefaultColors...),
	color.RGBA{R: 23, G: 190, B: 207, A: 255},  // teal
	color.RGBA{R: 188, G: 189, B: 34, A: 255},  // olive
	color.RGBA{R: 100, G: 100, B: 100, A: 255}, // grey
)

// seriesColor is the colour of the i-th line of a plot.
func seriesColor(i int) color.Color { return seriesColors[i%len(seriesColors)] }
