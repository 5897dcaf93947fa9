package app

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"path/filepath"

	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/viz"
)

// Comparison is what the main job reports about the shipped model it draws beside its own.
type Comparison struct {
	Model   string `json:"model"`   // directory of the shipped model
	Recipe  string `json:"recipe"`  // its recipe name
	Epochs  int    `json:"epochs"`  // epochs it was trained
	Sampler string `json:"sampler"` // how its samples were drawn
	File    string `json:"file"`    // the side-by-side figure, in the run directory
}

// compareWithShipped draws n samples of the shipped model in dir with DDIM (η = 0, at most 50 steps,
// the recipe's clipping: a few seconds on a CPU; the same seed and balanced labels as the run's grid)
// and writes compare.png: the run's samples on
// the left, the shipped model's on the right, each titled, so a newcomer sees what full training
// gives.
func compareWithShipped(ctx context.Context, o MainOptions, runName string, own *sampler.Result, n int, log io.Writer) (*Comparison, error) {
	t, err := LoadTrained(o.Compare, true)
	if err != nil {
		return nil, fmt.Errorf("comparison model: %w", err)
	}
	opts, err := SampleOptions(t.State.Recipe.Sample)
	if err != nil {
		return nil, fmt.Errorf("comparison model %s: %w", o.Compare, err)
	}
	opts.Method, opts.Steps, opts.Eta, opts.Seed = "ddim", min(50, t.Model.Schedule.T), 0, o.Recipe.Sample.Seed
	fmt.Fprintf(log, "== sample %d images of the shipped %s (%s) for comparison\n", n, o.Compare, opts)
	theirs, err := sampler.New(o.Backend, t.Store, t.Model).Sample(ctx, n, sampler.BalancedLabels(t.Model, n), opts, log)
	if err != nil {
		return nil, fmt.Errorf("comparison model %s: %w", o.Compare, err)
	}
	c := &Comparison{Model: o.Compare, Recipe: t.State.Recipe.Name, Epochs: t.State.Epoch(), Sampler: opts.String(),
		File: "compare.png"}
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	left, err := viz.LabeledGrid(own.Images, n, cols, 2, nil, fmt.Sprintf("this run: %s", runName))
	if err != nil {
		return nil, err
	}
	right, err := viz.LabeledGrid(theirs.Images, n, cols, 2, nil,
		fmt.Sprintf("shipped %s: %s, %d epochs", filepath.Base(o.Compare), c.Recipe, c.Epochs))
	if err != nil {
		return nil, err
	}
	return c, viz.SavePNG(filepath.Join(o.Dir, c.File), sideBySide(left, right))
}

// sideBySide places images left to right on a white background, 16 pixels apart.
func sideBySide(imgs ...image.Image) image.Image {
	const gap = 16
	w, h := 0, 0
	for _, img := range imgs {
		w += img.Bounds().Dx() + gap
		h = max(h, img.Bounds().Dy())
	}
	out := image.NewGray(image.Rect(0, 0, w-gap, h))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	x := 0
	for _, img := range imgs {
		draw.Draw(out, image.Rect(x, 0, x+img.Bounds().Dx(), img.Bounds().Dy()), img, img.Bounds().Min, draw.Src)
		x += img.Bounds().Dx() + gap
	}
	return out
}
