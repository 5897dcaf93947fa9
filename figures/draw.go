package figures

import (
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
	for _, ev := range evals {
		if len(ev) == 0 {
			continue
		}
		s := viz.Series{Name: ev[0].Model}
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
	first := evals[0]
	for _, ev := range evals {
		if len(ev) > 0 {
			first = ev
			break
		}
	}
	f := floor(first[0])
	ys := []float64{f}
	xs := make([][]float64, len(series))
	for i, s := range series {
		xs[i] = s.X
		ys = append(ys, s.Y...)
	}
	if _, _, err := addFloorLine(p, f, fmt.Sprintf("real data, N=%d (floor)", first[0].N), 0.5, xs...); err != nil {
		return nil, err
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

// GuidancePlot plots FID against class accuracy, one point per guidance weight (labelled w=…),
// with the real-data FID floor.
func GuidancePlot(title string, evals []Eval) (*plot.Plot, error) {
	if len(evals) == 0 {
		return nil, fmt.Errorf("figures: no guidance evaluations to plot")
	}
	s := viz.Series{Name: fmt.Sprintf("%s, N=%d", evals[0].Model, evals[0].N)}
	var labels []string
	for _, v := range evals {
		if !v.HasAccuracy() {
			return nil, fmt.Errorf("figures: the guidance evaluation of %s has no class accuracy", v.Model)
		}
		s.X = append(s.X, 100*v.Accuracy)
		s.Y = append(s.Y, v.FID)
		labels = append(labels, fmt.Sprintf("w=%g", v.Guidance))
	}
	p, err := viz.LinePlot(title, "class accuracy of the samples (%)", "FID (lower is better)", false, s)
	if err != nil {
		return nil, err
	}
	xys := make(plotter.XYs, len(s.X))
	for i := range xys {
		xys[i] = plotter.XY{X: s.X[i], Y: s.Y[i]}
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = -0.5
		l.TextStyle[i].YAlign = 0.4
		l.TextStyle[i].Font.Size = vg.Points(9)
	}
	l.Offset = vg.Point{X: vg.Points(4)}
	p.Add(l)
	f := evals[0].FIDFloor
	xmin, xmax, err := addFloorLine(p, f, fmt.Sprintf("real data FID, N=%d (floor)", evals[0].N), 1, s.X)
	if err != nil {
		return nil, err
	}
	legendAbove(p, append([]float64{f}, s.Y...))
	p.X.Max += (xmax - xmin) * 0.15 // room for the labels
	return p, nil
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
