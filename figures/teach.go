package figures

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/ddpm/viz"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// Helpers of the teaching notebooks: schedule plots, the time embedding, sampler comparisons.

// NamedSchedule is a schedule with a legend name.
type NamedSchedule struct {
	Name     string
	Schedule *schedule.Schedule
}

// CoefficientsPlot plots, against t, the coefficients of the forward process of one schedule:
// the signal scale √ᾱ_t, the noise scale √(1−ᾱ_t) and β_t.
func CoefficientsPlot(title string, s *schedule.Schedule) (*plot.Plot, error) {
	signal, noise, beta := viz.Series{Name: "√ᾱ_t (signal)"}, viz.Series{Name: "√(1−ᾱ_t) (noise)"}, viz.Series{Name: "β_t"}
	for t := 1; t <= s.T; t++ {
		x := float64(t)
		signal.X, signal.Y = append(signal.X, x), append(signal.Y, s.SqrtAlphaBar[t])
		noise.X, noise.Y = append(noise.X, x), append(noise.Y, s.SqrtOneMinusAlphaBar[t])
		beta.X, beta.Y = append(beta.X, x), append(beta.Y, s.Beta[t])
	}
	p, err := viz.LinePlot(title, "diffusion step t", "coefficient (dimensionless)", false, signal, noise, beta)
	if err != nil {
		return nil, err
	}
	legendAbove(p, append(append(slices.Clone(signal.Y), noise.Y...), beta.Y...))
	p.X.Min, p.X.Max = 0, float64(s.T)*1.02
	return p, nil
}

// AlphaBarPlot plots ᾱ_t against t/T for several schedules.
func AlphaBarPlot(title string, scheds ...NamedSchedule) (*plot.Plot, error) {
	var series []viz.Series
	for _, ns := range scheds {
		s := viz.Series{Name: ns.Name}
		for t := 0; t <= ns.Schedule.T; t++ {
			s.X = append(s.X, float64(t)/float64(ns.Schedule.T))
			s.Y = append(s.Y, ns.Schedule.AlphaBar[t])
		}
		series = append(series, s)
	}
	p, err := viz.LinePlot(title, "t / T (fraction of the chain)", "ᾱ_t (share of x_0's variance kept)", false, series...)
	if err != nil {
		return nil, err
	}
	var ys []float64
	for _, s := range series {
		ys = append(ys, s.Y...)
	}
	legendAbove(p, ys)
	p.X.Min, p.X.Max = -0.02, 1.02
	return p, nil
}

// PlotPNG renders a plot at the size of the figures.
func PlotPNG(p *plot.Plot) ([]byte, error) { return viz.PlotPNG(p, plotW, plotH) }

// PNG encodes an image.
func PNG(img image.Image) ([]byte, error) { return viz.EncodePNG(img) }

// FourierEmbedding evaluates the model's Gaussian Fourier time embedding γ(t) = [sin 2πWt, cos
// 2πWt] (with the model's fixed W) at the normalised times ts (t/T): len(ts) rows of EmbedDim
// values in [−1, 1].
func FourierEmbedding(e *Env, m *Model, ts []float32) ([]float32, error) {
	if m.Model.Net.Arch != network.ScoreNet {
		return nil, fmt.Errorf("figures: the %s network has no Fourier time embedding", m.Model.Net.Arch)
	}
	cfg := m.Model.Net.ScoreNet
	exec, err := model.NewExec(e.Backend, m.Store, func(scope *model.Scope, t *graph.Node) *graph.Node {
		return layers.GaussianFourierProjection(scope.In(training.ModelScopeName).In("embed").In("fourier"), t,
			cfg.EmbedDim, cfg.FourierScale)
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	out, err := exec.Call(tensors.FromFlatDataAndDimensions(ts, len(ts)))
	if err != nil {
		return nil, fmt.Errorf("figures: Fourier embedding: %w", err)
	}
	return tensors.MustCopyFlatData[float32](out[0]), nil
}

// SortColumnsByFrequency reorders the columns of a rows×cols matrix by how often each changes sign
// down the rows (slowest first; ties keep their order), e.g. to show Fourier features from low to
// high frequency.
func SortColumnsByFrequency(values []float32, rows, cols int) []float32 {
	crossings := make([]int, cols)
	for c := range cols {
		for r := 1; r < rows; r++ {
			if (values[(r-1)*cols+c] < 0) != (values[r*cols+c] < 0) {
				crossings[c]++
			}
		}
	}
	order := make([]int, cols)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return crossings[a] - crossings[b] })
	out := make([]float32, len(values))
	for r := range rows {
		for j, c := range order {
			out[r*cols+j] = values[r*cols+c]
		}
	}
	return out
}

// Normalize rescales values linearly so that their largest magnitude is 1 (for showing noise
// and predictions, which are not in [−1, 1]); all-zero input is returned as is.
func Normalize(values []float32) []float32 {
	var m float64
	for _, v := range values {
		m = math.Max(m, math.Abs(float64(v)))
	}
	out := make([]float32, len(values))
	if m == 0 {
		return out
	}
	for i, v := range values {
		out[i] = float32(float64(v) / m)
	}
	return out
}

// SamplerRun is one sampler of a comparison: its options, its samples and their evaluation.
type SamplerRun struct {
	Options sampler.Options
	// Evaluations is the number of network evaluations per image (the steps).
	Evaluations int
	Samples     *sampler.Result
	Eval        Eval // zero when the evaluation network is unavailable
	Seconds     float64
}

// CompareSamplers draws n samples of m with each of the options (the same seed) and measures them.
// Without the FID network it still returns the samples and times, with the error wrapping
// ErrNoEvaluation.
func (e *Env) CompareSamplers(ctx context.Context, m *Model, n int, opts []sampler.Options) ([]SamplerRun, error) {
	var runs []SamplerRun
	var evalErr error
	for _, o := range opts {
		fmt.Fprintf(e.Log, "%s: %d samples\n", o.String(), n)
		res, err := m.Sampler.Sample(ctx, n, sampler.BalancedLabels(m.Model, n), o, e.Log)
		if err != nil {
			return nil, err
		}
		steps := m.Model.Schedule.T
		if o.Method == "ddim" {
			steps = o.Steps
		}
		run := SamplerRun{Options: o, Evaluations: steps, Samples: res, Seconds: res.Seconds}
		if evalErr == nil {
			run.Eval, evalErr = e.Measure(ctx, m, res, o)
		}
		runs = append(runs, run)
	}
	return runs, evalErr
}

// SamplerComparisonPlot plots FID against the number of network evaluations per image.
func SamplerComparisonPlot(title string, runs []SamplerRun) (*plot.Plot, error) {
	ddim := viz.Series{Name: "DDIM (η=0)"}
	ddpm := viz.Series{Name: "DDPM ancestral (all T steps)"}
	for _, r := range runs {
		s := &ddim
		if r.Options.Method != "ddim" {
			s = &ddpm
		}
		s.X = append(s.X, float64(r.Evaluations))
		s.Y = append(s.Y, r.Eval.FID)
	}
	var series []viz.Series
	for _, s := range []viz.Series{ddim, ddpm} {
		if len(s.X) > 0 {
			series = append(series, s)
		}
	}
	p, err := viz.LinePlot(title, "network evaluations per image (log scale)", "FID vs MNIST test (lower is better)", false, series...)
	if err != nil {
		return nil, err
	}
	var xs, ys []float64
	for _, s := range series {
		xs, ys = append(xs, s.X...), append(ys, s.Y...)
	}
	if len(runs) > 0 && runs[0].Eval.N > 0 {
		floor := runs[0].Eval.FIDFloor
		if _, _, err := addFloorLine(p, floor, fmt.Sprintf("real data, N=%d (floor)", runs[0].Eval.N), 1, xs); err != nil {
			return nil, err
		}
		ys = append(ys, floor)
	}
	legendAbove(p, ys) // pads the y range: no point on the frame
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Min, p.X.Max = slices.Min(xs)/1.3, slices.Max(xs)*1.3
	return p, nil
}

// EmbeddingPlot draws a rows×cols matrix of values in [−1, 1] (e.g. a time embedding: row i is
// t = i+1, one column per feature) as a grey heat map with titled axes: black −1, white +1.
func EmbeddingPlot(title, xLabel, yLabel string, values []float32, rows, cols int) (*plot.Plot, error) {
	if len(values) != rows*cols || rows < 1 || cols < 1 {
		return nil, fmt.Errorf("figures: %d values for a %d×%d matrix", len(values), rows, cols)
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	h := plotter.NewHeatMap(matrix{values, rows, cols}, greys(64))
	h.Min, h.Max = -1, 1
	p.Add(h)
	p.X.Min, p.X.Max = 0.5, float64(cols)+0.5
	p.Y.Min, p.Y.Max = 0.5, float64(rows)+0.5
	return p, nil
}

// matrix is a row-major rows×cols matrix as a plotter.GridXYZ: column c at x = c+1, row r at y = r+1.
type matrix struct {
	v          []float32
	rows, cols int
}

func (m matrix) Dims() (c, r int)   { return m.cols, m.rows }
func (m matrix) Z(c, r int) float64 { return float64(m.v[r*m.cols+c]) }
func (m matrix) X(c int) float64    { return float64(c + 1) }
func (m matrix) Y(r int) float64    { return float64(r + 1) }

// greys is a palette of n greys from black to white.
type greys int

func (g greys) Colors() []color.Color {
	out := make([]color.Color, int(g))
	for i := range out {
		out[i] = color.Gray{Y: uint8(255 * i / (int(g) - 1))}
	}
	return out
}
