package figures

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/viz"
)

// The assignment's per-epoch deliverables: the epoch-loss curve and sample grids after epochs
// 1, 5, 10, 15 and 20.

// EpochLossFigure plots the mean loss of every epoch against the epoch (the assignment's "epoch
// loss" curve; LossFigure is its "batch loss" curve).
func (e *Env) EpochLossFigure(m *Model, name string) (Figure, error) {
	if len(m.State.EpochLosses) == 0 {
		return Figure{}, fmt.Errorf("%s has no completed epoch", m.Recipe.Name)
	}
	s := viz.Series{Name: fmt.Sprintf("%s: mean of the epoch's %d batch losses", m.Recipe.Name, m.State.StepsPerEpoch)}
	for i, l := range m.State.EpochLosses {
		s.X, s.Y = append(s.X, float64(i+1)), append(s.Y, l)
	}
	p, err := viz.LinePlot(fmt.Sprintf("Epoch loss: %s (%d epochs)", m.Recipe.Name, m.Epochs()), "epoch",
		"mean ε-MSE loss of the epoch", false, s)
	if err != nil {
		return Figure{}, err
	}
	legendAbove(p, s.Y)
	p.X.Min, p.X.Max = 0.5, float64(len(s.X))+0.5
	p.X.Tick.Marker = integerTicks{}
	return plotFigure(name, p)
}

// EpochGrid is a sample grid of a model as it was at the end of an epoch.
type EpochGrid struct {
	Epoch   int
	Step    int64
	Samples *sampler.Result
	Figure  Figure
}

// EpochGrids draws n samples (labels: nil, or n classes) with options o from the model as it was
// at the end of each of epochs, from the weights its directory kept. The grids are those
// found, in order; missing says, for every other epoch, why there is none (not trained that far,
// or its weights were not kept or not shipped). An epoch gets its grid when the directory keeps its
// weights (Model.EpochCheckpoint): a shipped model's epochs/epoch-NN (ddpm export --epochs) or a
// run's checkpoints/step-<epoch × steps per epoch> (ddpm train --keep).
func (e *Env) EpochGrids(ctx context.Context, m *Model, epochs []int, n int, labels []int, o sampler.Options) (
	grids []EpochGrid, missing []string, err error) {
	for _, epoch := range epochs {
		if epoch > m.Epochs() {
			missing = append(missing, fmt.Sprintf("epoch %d: %s was trained for %d epochs", epoch, m.Recipe.Name, m.Epochs()))
			continue
		}
		at, err := e.AtEpoch(m, epoch)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, fmt.Sprintf("epoch %d: %s keeps no weights of epoch %d (ddpm export --epochs, or train --keep)",
				epoch, filepath.ToSlash(e.Rel(m.Dir)), epoch))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		res, err := e.Sample(ctx, at, n, labels, o)
		if err != nil {
			return nil, nil, err
		}
		title := fmt.Sprintf("Samples after %s: %s, step %d (%s, seed %d)", epochsText(epoch), m.Recipe.Name, at.State.Step,
			SamplerLabel(m, o), o.Seed)
		img, err := LabeledGrid(res.Images, n, SquareCols(n), DigitLabels(res.Labels), title)
		if err != nil {
			return nil, nil, err
		}
		f, err := imageFigure(fmt.Sprintf("samples_epoch_%02d.png", epoch), title, img)
		if err != nil {
			return nil, nil, err
		}
		grids = append(grids, EpochGrid{Epoch: epoch, Step: at.State.Step, Samples: res, Figure: f})
	}
	return grids, missing, nil
}

// epochsText is "1 epoch" or "N epochs".
func epochsText(n int) string {
	if n == 1 {
		return "1 epoch"
	}
	return fmt.Sprintf("%d epochs", n)
}
