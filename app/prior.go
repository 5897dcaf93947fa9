package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/training"
)

// DataPrior fits the "data" prior of a trained model from its recipe's training set (dataDir as
// for training), per class as well when perClass (requested labels then start from q(x_T | y)).
func DataPrior(ctx context.Context, t *Trained, dataDir string, perClass bool, log io.Writer) (*diffusion.Prior, error) {
	set, err := training.LoadTrainingSet(ctx, t.State.Recipe.Train, dataDir, log)
	if err != nil {
		return nil, fmt.Errorf("prior: %w", err)
	}
	var labels []int
	if perClass {
		labels = set.Labels
	}
	start := time.Now()
	p, err := diffusion.FitPrior(t.Model.Schedule, set.Images, set.Height*set.Width, labels, recipe.DatasetClasses)
	if err != nil {
		return nil, fmt.Errorf("prior from %s: %w", set.Name, err)
	}
	fmt.Fprintf(log, "prior: %s from %d images of %s (%.1fs)\n", p, set.N, set.Name, time.Since(start).Seconds())
	return p, nil
}

// SetPrior sets o.Prior for the named prior: "standard" is DDPM's N(0, I); "data" is the Gaussian
// fit of q(x_T) from the model's training images (diffusion.FitPrior), which matters when ᾱ_T is not
// ≈ 0 (seed 000's schedule: ᾱ_T = 0.048); "" keeps o's.
func SetPrior(ctx context.Context, o *sampler.Options, name string, t *Trained, dataDir string, perClass bool, log io.Writer) error {
	if err := CheckPrior(name); err != nil {
		return err
	}
	switch name {
	case "standard":
		o.Prior = nil
	case "data":
		p, err := DataPrior(ctx, t, dataDir, perClass, log)
		if err != nil {
			return err
		}
		o.Prior = p
	}
	return nil
}

// CheckPrior refuses a prior name other than "", "standard" and "data" (SetPrior).
func CheckPrior(name string) error {
	if name != "" && name != "standard" && name != "data" {
		return fmt.Errorf("prior %q: want standard (N(0, I)) or data (a Gaussian fit of q(x_T) from the training images)", name)
	}
	return nil
}
