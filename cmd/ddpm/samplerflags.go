// The sampler flags of `ddpm sample` and `ddpm fid --model`, defined once.

package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
)

// samplerFlags are the flags that choose how a trained model samples. A flag not given keeps the
// model recipe's sampling setting (recipe.Sample), so every command samples a model the same way
// unless told otherwise.
type samplerFlags struct {
	fs        *flag.FlagSet
	method    *string
	steps     *int
	eta       *float64
	variance  *string
	clip      *bool
	seed      *int64
	guidance  *string
	ema       *bool
	batch     *int
	corrector *int
	snr       *float64
	at        *string
	prior     *string
	tuned     *bool
	guide     *string
	guideDir  string // --guide, or the tuned sampler's guide (setTuned)
}

// addSamplerFlags registers the sampler flags on fs.
func addSamplerFlags(fs *flag.FlagSet) *samplerFlags {
	return &samplerFlags{
		fs:       fs,
		method:   fs.String("sampler", "", "ddpm (ancestral, all T steps) or ddim (default: the model recipe's)"),
		steps:    fs.Int("steps", 0, "DDIM steps S (1..T), spaced τ_i = round(i·T/S) (default: the recipe's)"),
		eta:      fs.Float64("eta", 0, "DDIM η in [0, 1], 0 = deterministic (default: the recipe's)"),
		variance: fs.String("variance", "", "DDPM σ_t²: beta (β_t) or posterior (β̃_t) (default: the recipe's)"),
		clip:     fs.Bool("clip", true, "clip the predicted x_0 to [-1, 1] at each step (when not given: the recipe's)"),
		seed:     fs.Int64("seed", 0, "seed of the sampler's noise (default: the recipe's sampling seed)"),
		guidance: fs.String("guidance", "", "none, cfg:W (classifier-free, conditional models; W >= -1), gamma:G (the same as the assignment writes it: G = 1 + W), "+
			"classifier:S (with --classifier) or auto:W (autoguidance by the weaker model of --guide; W >= 0) (default: the model recipe's, none unless the recipe says cfg:W)"),
		guide: fs.String("guide", "", "weaker model of the same data for --guidance auto:W (autoguidance, Karras et al. 2024): a run or "+
			"model directory with the model's noise schedule, e.g. models/scorenet-epoch5 (5 epochs) for models/scorenet-180"),
		ema:   fs.Bool("ema", true, "use the EMA weights when the model has them (false: the raw weights)"),
		batch: fs.Int("batch", 0, "images denoised together (0: 64 on the Go backend, 500 on accelerators)"),
		corrector: fs.Int("corrector", 0, "Langevin corrector steps before each sampler step (predictor–corrector "+
			"sampling, Song et al. 2021; each costs one more network call; 0: none; default: the recipe's, none unless it sets one)"),
		snr: fs.Float64("snr", 0.16, "signal-to-noise ratio r in (0, 1] of the Langevin corrector's steps (when not given: the recipe's, if it sets one)"),
		at: fs.String("corrector-at", "", "LO:HI: take the corrector steps only at the steps t in [LO, HI] (inclusive; "+
			"elsewhere the sampler step alone), or all (default: the recipe's, every step)"),
		prior: fs.String("prior", "", "distribution of x_T: standard (N(0, I), as DDPM), data (the Gaussian with the mean and "+
			"covariance of q(x_T), per class for requested classes, fitted from the training images: for schedules whose ᾱ_T is not ≈ 0, "+
			"such as seed 000's T=300, where N(0, I) starts the chain from the wrong marginal) or mixture (as data, but an image without "+
			"a class starts from the per-class fit of a class drawn with its share of the training set: q(x_T) is a mixture over the digits, "+
			"and one Gaussian's draws blend them) (default: standard, or the tuned sampler's with --tuned)"),
		tuned: fs.Bool("tuned", false, "start from the model's tuned sampler (MODEL/"+app.SamplerFile+", shipped beside some models/: "+
			"the settings measured best for it, and the evaluation that chose them) instead of its recipe's; other flags still override"),
	}
}

// given reports which flags of the set were given on the command line (after fs.Parse).
func (f *samplerFlags) given() map[string]bool {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set
}

// options returns the model recipe's sampling settings with the given flags applied; seedOffset
// is added to the recipe's seed when --seed is not given (commands that must not reuse the
// samples of another use of the same model).
func (f *samplerFlags) options(s recipe.Sample, seedOffset int64) (sampler.Options, error) {
	o, err := app.SampleOptions(s)
	if err != nil {
		return o, err
	}
	o.Seed += seedOffset
	set := f.given()
	if set["sampler"] {
		o.Method = *f.method
	}
	if set["steps"] {
		o.Steps = *f.steps
	}
	if set["eta"] {
		o.Eta = *f.eta
	}
	if set["variance"] {
		o.Variance = diffusion.ReverseVariance(*f.variance)
	}
	if set["clip"] {
		o.ClipX0 = *f.clip
	}
	if set["seed"] {
		o.Seed = *f.seed
	}
	if set["guidance"] {
		if o.Guidance, err = sampler.ParseGuidance(*f.guidance); err != nil {
			return o, err
		}
	}
	o.BatchSize = *f.batch
	if set["corrector"] {
		o.Corrector = *f.corrector
	}
	if set["corrector-at"] {
		if o.CorrectorAt, err = diffusion.ParseStepRange(*f.at); err != nil {
			return o, fmt.Errorf("--corrector-at: %w", err)
		}
	}
	if set["snr"] || o.SNR == 0 { // the flag's default r for a corrector the recipe does not set
		o.SNR = *f.snr
	}
	return o, nil
}

// settings returns the sampling settings that the flags start from: the model recipe's, or with
// --tuned its sampler.json (app.SamplerDefaults, nil without --tuned). dir is the --model directory.
func (f *samplerFlags) settings(dir string, t *app.Trained) (recipe.Sample, *app.SamplerDefaults, error) {
	if !*f.tuned {
		return t.State.Recipe.Sample, nil, nil
	}
	d, err := app.LoadSamplerDefaults(dir, t)
	if err != nil {
		return recipe.Sample{}, nil, err
	}
	if d == nil {
		return recipe.Sample{}, nil, fmt.Errorf("--tuned: %s has no %s (shipped models with one: ls models/*/%s)",
			dir, app.SamplerFile, app.SamplerFile)
	}
	fmt.Fprintf(os.Stderr, "tuned sampler: %s\n", d.Source())
	return d.Sample, d, nil
}

// setPrior applies --prior, or else the tuned sampler's prior, to o (fitting the data prior from
// dataDir's training set; per class when classes are requested).
func (f *samplerFlags) setPrior(ctx context.Context, o *sampler.Options, t *app.Trained, d *app.SamplerDefaults,
	dataDir string, perClass bool) error {
	name := *f.prior
	if name == "" && d != nil {
		name = d.Prior
	}
	return app.SetPrior(ctx, o, name, t, dataDir, perClass, os.Stderr)
}

// setTuned applies the tuned sampler's autoguidance (d nil: none) to o where no flag says
// otherwise: the guidance unless --guidance is given, the guide unless --guide is.
func (f *samplerFlags) setTuned(o *sampler.Options, d *app.SamplerDefaults) {
	f.guideDir = *f.guide
	if d == nil {
		return
	}
	set := f.given()
	if g, ok := d.Guidance(); ok && !set["guidance"] {
		o.Guidance = g
	}
	if f.guideDir == "" && o.Guidance.Kind == "auto" {
		f.guideDir = d.GuideDir()
	}
}

// attachGuide loads the guide model (--guide, or the tuned sampler's: setTuned) into s, for
// --guidance auto:W, with the same choice of EMA or raw weights as the model's.
func (f *samplerFlags) attachGuide(s *sampler.Sampler, g sampler.Guidance) error {
	dir := f.guideDir
	if dir == "" {
		return nil
	}
	guide, err := app.LoadTrained(dir, *f.ema)
	if err != nil {
		return fmt.Errorf("--guide: %w", err)
	}
	if err := s.WithGuide(guide.Model, guide.Store); err != nil {
		return fmt.Errorf("--guide %s: %w", dir, err)
	}
	fmt.Fprintf(os.Stderr, "guide model %s (%s), %s weights\n", guide.Checkpoint, guide.State.Recipe.Name,
		map[bool]string{true: "EMA", false: "raw"}[guide.EMA])
	if g.Kind != "auto" {
		fmt.Fprintf(os.Stderr, "warning: --guide is used only with --guidance auto:W (got %s)\n", g)
	}
	return nil
}
