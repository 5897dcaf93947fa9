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
// for training), per class as well when perClass (requested labels then start from q(x_T | y)),
// and as the class mixture of the per-class fits when mixture (diffusion.Prior.Mixture).
func DataPrior(ctx context.Context, t *Trained, dataDir string, perClass, mixture bool, log io.Writer) (*diffusion.Prior, error) {
	set, err := training.LoadTrainingSet(ctx, t.State.Recipe.Train, dataDir, log)
	if err != nil {
		return nil, fmt.Errorf("prior: %w", err)
	}
	var labels []int
	if perClass || mixture {
		labels = set.Labels
	}
	start := time.Now()
	p, err := diffusion.FitPrior(t.Model.Schedule, set.Images, set.Height*set.Width, labels, recipe.DatasetClasses)
	if err != nil {
		return nil, fmt.Errorf("prior from %s: %w", set.Name, err)
	}
	p.Mixture = mixture
	fmt.Fprintf(log, "prior: %s from %d images of %s (%.1fs)\n", p, set.N, set.Name, time.Since(start).Seconds())
	return p, nil
}

// SetPrior sets o.Prior for the named prior: "standard" is DDPM's N(0, I); "data" is the Gaussian
// fit of q(x_T) from the model's training images (diffusion.FitPrior), which matters when ᾱ_T is not
// ≈ 0 (seed 000's schedule: ᾱ_T = 0.048); "mixture" is the mixture over the classes of the per-class
// fits (diffusion.Prior.Mixture), for images sampled without a label; "" keeps o's.
func SetPrior(ctx context.Context, o *sampler.Options, name string, t *Trained, dataDir string, perClass bool, log io.Writer) error {
	if err := CheckPrior(name); err != nil {
		return err
	}
	switch name {
	case "standard":
		o.Prior = nil
	case "data", "mixture":
		p, err := DataPrior(ctx, t, dataDir, perClass, name == "mixture", log)
		if err != nil {
			return err
		}
		o.Prior = p
	}
	return nil
}

// CheckPrior refuses a prior name other than "", "standard", "data" and "mixture" (SetPrior).
func CheckPrior(name string) error {
	if name != "" && name != "standard" && name != "data" && name != "mixture" {
		return fmt.Errorf("prior %q: want standard (N(0, I)), data (a Gaussian fit of q(x_T) from the training images) "+
			"or mixture (the class mixture of the per-class fits of q(x_T ∣ y))", name)
	}
	return nil
}
