package app

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/ddpm-go/ddpm/fid"

	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/ddpm/viz"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// SaveSampleGrid writes up to n images of r as a square-ish grid (2× scale) to path.
func SaveSampleGrid(path string, r *sampler.Result, n int) error {
	n = min(n, r.N)
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	img, err := viz.Grid(r.Images, n, cols, 2, 2)
	if err != nil {
		return err
	}
	return viz.SavePNG(path, img)
}

// TrajectoryImage lays out the recorded frames of r: one row per image (up to rows), one column
// per recorded step from noise (left) to the sample (right), each tile labelled with its t; with
// predictedX0 a second row per image shows x̂₀ as predicted at that step (at t = 0, the sample
// again). title, if not empty, goes above (say which sampler and model).
func TrajectoryImage(r *sampler.Result, rows int, predictedX0 bool, title string) (image.Image, error) {
	if len(r.Frames) == 0 {
		return nil, fmt.Errorf("no trajectory was recorded")
	}
	rows = min(rows, r.N)
	cols := len(r.Frames)
	per := 1
	if predictedX0 {
		per = 2
	}
	cells := make([]float32, 0, rows*per*cols*sampler.Pixels)
	labels := make([]string, 0, rows*per*cols)
	for i := range rows {
		for k := range per {
			for _, f := range r.Frames {
				src, label := f.X, fmt.Sprintf("x_t, t=%d", f.Step)
				if f.Step == 0 {
					label = "x_0 (sample)"
				}
				if k == 1 && f.X0 != nil {
					src, label = f.X0, fmt.Sprintf("x̂₀ at t=%d", f.Step)
				}
				cells = append(cells, src[i*sampler.Pixels:(i+1)*sampler.Pixels]...)
				labels = append(labels, label)
			}
		}
	}
	return viz.LabeledGrid(cells, rows*per*cols, cols, 3, labels, title)
}

// SaveTrajectory writes TrajectoryImage(r, rows, predictedX0, title) to path.
func SaveTrajectory(path string, r *sampler.Result, rows int, predictedX0 bool, title string) error {
	img, err := TrajectoryImage(r, rows, predictedX0, title)
	if err != nil {
		return err
	}
	return viz.SavePNG(path, img)
}

// LossPlot plots the per-step loss (moving average over about a tenth of an epoch) and the epoch
// means of a training history, on a log scale.
func LossPlot(title string, state training.State) (*plot.Plot, error) {
	if len(state.Losses) == 0 {
		return nil, fmt.Errorf("no loss history to plot")
	}
	window := max(1, state.StepsPerEpoch/10)
	series := []viz.Series{viz.LossSeries(fmt.Sprintf("batch loss (moving average of %d)", window), state.Losses, window)}
	if len(state.EpochLosses) > 0 {
		e := viz.Series{Name: "epoch mean"}
		for i, l := range state.EpochLosses {
			e.X = append(e.X, float64((i+1)*state.StepsPerEpoch))
			e.Y = append(e.Y, l)
		}
		series = append(series, e)
	}
	p, err := viz.LinePlot(title, "iteration (optimiser step)", "ε-MSE loss (log scale)", true, series...)
	if err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = 0, float64(len(state.Losses))*1.03 // the last epoch's point inside the frame
	return p, nil
}

// SaveLossCurve writes LossPlot(title, state) to path.
func SaveLossCurve(path, title string, state training.State) error {
	p, err := LossPlot(title, state)
	if err != nil {
		return err
	}
	return viz.SavePlot(path, p, 5*vg.Inch, 3.5*vg.Inch)
}

// WriteSamplesNpy writes the samples as an N×28×28 float32 .npy in [−1, 1] (NumPy-readable; the
// format `ddpm fid --samples` reads).
// The requested classes, if any, go to the sidecar fid.LabelsPath(path) (N labels, float32), which
// `ddpm fid --samples` reads to report the classifier's accuracy.
func WriteSamplesNpy(path string, r *sampler.Result) error {
	if err := fid.WriteNpyImages(path, r.Images, r.N); err != nil {
		return err
	}
	if r.Labels == nil {
		return nil
	}
	return fid.WriteNpyLabels(fid.LabelsPath(path), r.Labels)
}

// ClassGrid samples `cols` images of each class 0..9 with the same options and seed, so that column
// j of every row starts from the same noise x_T (and sees the same step noise): rows differ only by
// the class. The result is row-major: 10 rows × cols.
func ClassGrid(ctx context.Context, s *sampler.Sampler, o sampler.Options, cols int, log io.Writer) (*sampler.Result, error) {
	all := &sampler.Result{}
	for class := range 10 {
		labels := make([]int, cols)
		for i := range labels {
			labels[i] = class
		}
		r, err := s.Sample(ctx, cols, labels, o, log)
		if err != nil {
			return nil, err
		}
		all.N += r.N
		all.Images = append(all.Images, r.Images...)
		all.Labels = append(all.Labels, r.Labels...)
		all.Seconds += r.Seconds
	}
	return all, nil
}
