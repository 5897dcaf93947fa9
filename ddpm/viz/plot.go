package viz

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one named curve.
type Series struct {
	Name string
	X, Y []float64
}

// palette is a fixed list of distinguishable colours (deterministic output).
var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// LinePlot draws the series as lines (with points when a series has fewer than 30 values).
func LinePlot(title, xLabel, yLabel string, logY bool, series ...Series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	p.Add(plotter.NewGrid())
	for i, s := range series {
		if len(s.X) != len(s.Y) || len(s.X) == 0 {
			return nil, fmt.Errorf("viz: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			y := s.Y[j]
			if logY && y <= 0 {
				return nil, fmt.Errorf("viz: series %q value %g cannot be shown on a log scale", s.Name, y)
			}
			xys[j] = plotter.XY{X: s.X[j], Y: y}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("viz: %w", err)
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.2)
		p.Add(line)
		if s.Name != "" {
			p.Legend.Add(s.Name, line)
		}
		if len(xys) < 30 {
			pts, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("viz: %w", err)
			}
			pts.Color = line.Color
			p.Add(pts)
		}
	}
	pad(p, logY, series)
	p.Legend.Top = true
	return p, nil
}

// pad widens the axes 4% beyond the data (×1.1 on a log scale), so that no point sits on the frame
// where it would be cut in half.
func pad(p *plot.Plot, logY bool, series []Series) {
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s.X {
			xlo, xhi = math.Min(xlo, s.X[i]), math.Max(xhi, s.X[i])
			ylo, yhi = math.Min(ylo, s.Y[i]), math.Max(yhi, s.Y[i])
		}
	}
	if math.IsInf(xlo, 0) {
		return
	}
	widen := func(lo, hi float64) (float64, float64) {
		r := hi - lo
		if r == 0 {
			r = math.Max(math.Abs(hi), 1)
		}
		return lo - 0.04*r, hi + 0.04*r
	}
	p.X.Min, p.X.Max = widen(xlo, xhi)
	if logY {
		p.Y.Min, p.Y.Max = ylo/1.1, yhi*1.1
	} else {
		p.Y.Min, p.Y.Max = widen(ylo, yhi)
	}
}

// PlotPNG renders a plot to PNG bytes, w×h points (gonum/plot renders PNG at 96 dpi).
func PlotPNG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return nil, fmt.Errorf("viz: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("viz: rendering plot: %w", err)
	}
	return buf.Bytes(), nil
}

// SavePlot renders a plot to a PNG file atomically.
func SavePlot(path string, p *plot.Plot, w, h vg.Length) error {
	data, err := PlotPNG(p, w, h)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

// LossSeries turns a per-step loss history into a series smoothed by a centred moving average of
// `window` steps (1 = raw), plotted against the step number.
func LossSeries(name string, losses []float32, window int) Series {
	window = max(1, window)
	s := Series{Name: name}
	var sum float64
	for i, l := range losses {
		sum += float64(l)
		if i >= window {
			sum -= float64(losses[i-window])
		}
		if i >= window-1 {
			s.X = append(s.X, float64(i+1))
			s.Y = append(s.Y, sum/float64(window))
		}
	}
	return s
}

// logTicks labels 1, 2 and 5 times each power of ten in range (gonum's LogTicks labels only the
// powers of ten, which leaves a loss curve spanning less than a decade with one label).
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 3, 5} {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 4, 64)})
		}
	}
	return ticks
}
