package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var layerColors = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255},
}

// plotLoss draws every layer's positive and negative loss against the
// audio learned, into loss.png of the run directory.
func (t *trainer) plotLoss() error {
	t.mu.Lock()
	curve := append([]lossPoint(nil), t.curve...)
	t.mu.Unlock()
	if len(curve) < 2 {
		return nil
	}
	p := plot.New()
	p.Title.Text = "CLAPP loss per layer (solid: positive terms, dashed: negative)"
	p.X.Label.Text = "audio learned (minutes)"
	p.Y.Label.Text = "mean hinge per pair"
	p.Legend.Top = true
	layers := len(curve[len(curve)-1].Pos)
	for l := 0; l < layers; l++ {
		for neg := 0; neg < 2; neg++ {
			pts := make(plotter.XYs, 0, len(curve))
			for _, c := range curve {
				if l >= len(c.Pos) {
					continue
				}
				y := c.Pos[l]
				if neg == 1 {
					y = c.Neg[l]
				}
				pts = append(pts, plotter.XY{X: c.AudioMinutes, Y: y})
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			line.Color = layerColors[l%len(layerColors)]
			line.Width = vg.Points(1.2)
			if neg == 1 {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			} else {
				p.Legend.Add(fmt.Sprintf("layer %d", l+1), line)
			}
			p.Add(line)
		}
	}
	p.Add(plotter.NewGrid())
	p.Legend.Left = false
	p.Legend.XOffs = 0
	_ = draw.PosRight
	return p.Save(9*vg.Inch, 5*vg.Inch, t.rd.File("loss.png"))
}
