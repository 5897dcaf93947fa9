package figures

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/viz"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Figure is one PNG figure: what the figures command writes as Name and a notebook displays.
type Figure struct {
	Name  string // file name, e.g. "noising.png"
	Title string // one line for captions
	PNG   []byte
}

// Plot size of the line plots, in points (gonum/plot renders PNG at 96 dpi).
var plotW, plotH = 5 * vg.Inch, 3.5 * vg.Inch

// imageFigure encodes an image.
func imageFigure(name, title string, img image.Image) (Figure, error) {
	data, err := viz.EncodePNG(img)
	return Figure{Name: name, Title: title, PNG: data}, err
}

// plotFigure renders a plot.
func plotFigure(name string, p *plot.Plot) (Figure, error) {
	data, err := viz.PlotPNG(p, plotW, plotH)
	return Figure{Name: name, Title: p.Title.Text, PNG: data}, err
}

// GridImage lays out n images (flat n×28×28 in [−1, 1]) in rows of cols, 2× scale, 2 px apart.
func GridImage(images []float32, n, cols int) (*image.Gray, error) {
	return viz.Grid(images, n, cols, 2, 2)
}

// LabeledGrid lays out n images in rows of cols at the scale of GridImage, with labels[k] under
// image k and the title above (viz.LabeledGrid: wrapped, never clipped).
func LabeledGrid(images []float32, n, cols int, labels []string, title string) (image.Image, error) {
	return viz.LabeledGrid(images, n, cols, 2, labels, title)
}

// DigitLabels labels class-conditional samples with their requested digit ("digit 3"); nil for
// unconditional samples.
func DigitLabels(labels []int) []string {
	if labels == nil {
		return nil
	}
	out := make([]string, len(labels))
	for i, c := range labels {
		out[i] = fmt.Sprintf("digit %d", c)
	}
	return out
}

// SamplerLabel describes how samples of m were drawn with o, for titles: o.String(), plus "no
// guidance (γ=1)" for a conditional model sampled without guidance.
func SamplerLabel(m *Model, o sampler.Options) string {
	if m.Model.Conditional() && o.Guidance.Kind == "" {
		return o.String() + ", no guidance (γ=1)"
	}
	return o.String()
}

// SquareCols is the number of columns of a square-ish grid of n images.
func SquareCols(n int) int { return int(math.Ceil(math.Sqrt(float64(n)))) }

// SquareGrid lays out up to n images of r in a square-ish grid.
func SquareGrid(r *sampler.Result, n int) (*image.Gray, error) {
	n = min(n, r.N)
	return GridImage(r.Images, n, int(math.Ceil(math.Sqrt(float64(n)))))
}

// TrajectoryImage and LossPlot are pipeline's, re-exported for the notebooks.
var (
	TrajectoryImage = app.TrajectoryImage
	LossPlot        = app.LossPlot
)

// MetricPlot plots one metric of evaluations against the epoch, one line per model, with each
// model's real-data floor as a dashed line.
func MetricPlot(title, yLabel string, metric func(Eval) float64, floor func(Eval) float64, evals ...[]Eval) (*plot.Plot, error) {
	var series []viz.Series
	mixed := mixedSettings(evals...)
	for _, ev := range evals {
		if len(ev) == 0 {
			continue
		}
		s := viz.Series{Name: ev[0].Model}
		if mixed { // the title cannot say N and sampler: each legend entry does
			s.Name = fmt.Sprintf("%s (N=%d, %s)", ev[0].Model, ev[0].N, ev[0].Sampler)
		}
		for _, v := range ev {
			s.X = append(s.X, float64(v.Epoch))
			s.Y = append(s.Y, metric(v))
		}
		series = append(series, s)
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("figures: no evaluations to plot")
	}
	p, err := viz.LinePlot(title, "epoch", yLabel, false, series...)
	if err != nil {
		return nil, err
	}
	var ys []float64
	xs := make([][]float64, len(series))
	for i, s := range series {
		xs[i] = s.X
		ys = append(ys, s.Y...)
	}
	// One floor per sample count: the floor depends on N.
	seen := map[int]bool{}
	for _, ev := range evals {
		if len(ev) == 0 || seen[ev[0].N] {
			continue
		}
		seen[ev[0].N] = true
		f := floor(ev[0])
		ys = append(ys, f)
		if _, _, err := addFloorLine(p, f, fmt.Sprintf("real data, N=%d (floor)", ev[0].N), 0.5, xs...); err != nil {
			return nil, err
		}
	}
	legendAbove(p, ys)
	p.X.Tick.Marker = integerTicks{}
	return p, nil
}

// addFloorLine adds to p a real-data floor: a dashed grey horizontal line at y across the range of
// the values xs (widened by pad on each side when it is a single value), with a legend entry. It
// returns that range.
func addFloorLine(p *plot.Plot, y float64, legend string, pad float64, xs ...[]float64) (lo, hi float64, err error) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range xs {
		for _, x := range s {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	if lo == hi {
		lo, hi = lo-pad, hi+pad
	}
	line, err := plotter.NewLine(plotter.XYs{{X: lo, Y: y}, {X: hi, Y: y}})
	if err != nil {
		return 0, 0, err
	}
	line.Color = color.Gray{Y: 0x60}
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(line)
	p.Legend.Add(legend, line)
	return lo, hi, nil
}

// GuidancePlots plots a guidance sweep against the assignment's scale γ = 1 + w: the class
// accuracy of the samples (left) and their FID, with the real-data floor (right).
func GuidancePlots(evals []Eval) (accuracy, fidPlot *plot.Plot, err error) {
	if len(evals) == 0 {
		return nil, nil, fmt.Errorf("figures: no guidance evaluations to plot")
	}
	name := fmt.Sprintf("%s, N=%d", evals[0].Model, evals[0].N)
	acc, fd := viz.Series{Name: name}, viz.Series{Name: name}
	for _, v := range evals {
		if !v.HasAccuracy() {
			return nil, nil, fmt.Errorf("figures: the guidance evaluation of %s has no class accuracy", v.Model)
		}
		g := 1 + v.Guidance
		acc.X, acc.Y = append(acc.X, g), append(acc.Y, 100*v.Accuracy)
		fd.X, fd.Y = append(fd.X, g), append(fd.Y, v.FID)
	}
	if accuracy, err = viz.LinePlot("Class accuracy against γ", "guidance scale γ (w = γ − 1)",
		"samples classified as requested (%)", false, acc); err != nil {
		return nil, nil, err
	}
	if _, _, err := addFloorLine(accuracy, 10, "chance (one class in 10)", 1, acc.X); err != nil {
		return nil, nil, err
	}
	accuracy.Y.Min, accuracy.Y.Max = 0, 135 // room for the legend above 100%
	accuracy.Legend.Top, accuracy.Legend.Left = true, false
	if fidPlot, err = viz.LinePlot("FID against γ", "guidance scale γ (w = γ − 1)", "FID vs MNIST test (lower is better)",
		false, fd); err != nil {
		return nil, nil, err
	}
	if _, _, err := addFloorLine(fidPlot, evals[0].FIDFloor, fmt.Sprintf("real data, N=%d (floor)", evals[0].N), 1, fd.X); err != nil {
		return nil, nil, err
	}
	legendAbove(fidPlot, append([]float64{evals[0].FIDFloor}, fd.Y...))
	for _, p := range []*plot.Plot{accuracy, fidPlot} {
		lo, hi := fd.X[0], fd.X[len(fd.X)-1]
		pad := math.Max(0.5, 0.04*(hi-lo))
		p.X.Min, p.X.Max = lo-pad, hi+pad
		p.X.Tick.Marker = valueTicks(fd.X)
	}
	return accuracy, fidPlot, nil
}

// valueTicks labels exactly the given values (the γ of a sweep).
type valueTicks []float64

// Ticks implements plot.Ticker.
func (v valueTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, x := range v {
		if x >= lo && x <= hi {
			ticks = append(ticks, plot.Tick{Value: x, Label: fmt.Sprintf("%g", x)})
		}
	}
	return ticks
}

// sideBySide renders plots in one row, each plotW × plotH, as PNG bytes.
func sideBySide(plots ...*plot.Plot) ([]byte, error) {
	c := vgimg.PngCanvas{Canvas: vgimg.New(vg.Length(len(plots))*plotW, plotH)}
	tiles := vgdraw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Points(12)}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, vgdraw.New(c))
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// legendAbove keeps the legend in the top right corner and extends the y range upwards so that it
// sits above every curve (values ys); the range starts at 0 when all values are non-negative.
func legendAbove(p *plot.Plot, ys []float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range ys {
		lo, hi = min(lo, y), max(hi, y)
	}
	r := hi - lo
	if r == 0 {
		r = math.Max(math.Abs(hi), 1)
	}
	p.Y.Min, p.Y.Max = lo-0.08*r, hi+0.4*r
	if lo >= 0 {
		p.Y.Min = math.Max(0, p.Y.Min)
	}
	p.Legend.Top, p.Legend.Left = true, false
}

// integerTicks labels whole numbers only (epochs).
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	step := math.Max(1, math.Ceil((hi-lo)/10))
	var ticks []plot.Tick
	for v := math.Ceil(lo); v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
	}
	return ticks
}

// mixedSettings reports whether the evaluation series differ in sample count or sampler.
func mixedSettings(evals ...[]Eval) bool {
	var first *Eval
	for _, ev := range evals {
		if len(ev) == 0 {
			continue
		}
		if first == nil {
			first = &ev[0]
		} else if ev[0].N != first.N || ev[0].Sampler != first.Sampler {
			return true
		}
	}
	return false
}
