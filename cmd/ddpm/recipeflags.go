// The recipe flags of `ddpm train` and `ddpm run`: the base recipe and one flag per overridable
// recipe field.

package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
)

// override is one command-line flag that sets one recipe field.
type override struct {
	name, help string
	set        func(r *recipe.Recipe, v string) error
}

func intField(f func(r *recipe.Recipe) *int) func(*recipe.Recipe, string) error {
	return func(r *recipe.Recipe, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*f(r) = n
		return nil
	}
}

func int64Field(f func(r *recipe.Recipe) *int64) func(*recipe.Recipe, string) error {
	return func(r *recipe.Recipe, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*f(r) = n
		return nil
	}
}

func floatField(f func(r *recipe.Recipe) *float64) func(*recipe.Recipe, string) error {
	return func(r *recipe.Recipe, v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", v)
		}
		*f(r) = x
		return nil
	}
}

func intList(f func(r *recipe.Recipe) []int) func(*recipe.Recipe, string) error {
	return func(r *recipe.Recipe, v string) error {
		dst := f(r)
		parts := strings.Split(v, ",")
		if len(parts) != len(dst) {
			return fmt.Errorf("want %d comma-separated integers, got %q", len(dst), v)
		}
		for i, p := range parts {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return fmt.Errorf("not an integer: %q", p)
			}
			dst[i] = n
		}
		return nil
	}
}

// forArch restricts an override to recipes whose network is arch.
func forArch(arch string, set func(*recipe.Recipe, string) error) func(*recipe.Recipe, string) error {
	return func(r *recipe.Recipe, v string) error {
		if r.Net.Arch != arch {
			return fmt.Errorf("applies to the %s network; recipe %q uses %s", arch, r.Name, r.Net.Arch)
		}
		return set(r, v)
	}
}

var overrides = []override{
	{"dataset", "training images: mnist or fashion-mnist", func(r *recipe.Recipe, v string) error { r.Train.Dataset = v; return nil }},
	{"train-examples", "train on the first N images only (0 = all)", intField(func(r *recipe.Recipe) *int { return &r.Train.TrainExamples })},
	{"epochs", "number of epochs", intField(func(r *recipe.Recipe) *int { return &r.Train.Epochs })},
	{"batch", "batch size", intField(func(r *recipe.Recipe) *int { return &r.Train.BatchSize })},
	{"lr", "Adam learning rate at epoch 0", floatField(func(r *recipe.Recipe) *float64 { return &r.Train.LR })},
	{"lr-decay", "learning rate factor per epoch (lr·max(floor, decay^epoch)); 1 = constant", floatField(func(r *recipe.Recipe) *float64 { return &r.Train.LRDecay })},
	{"lr-floor", "lowest learning rate factor", floatField(func(r *recipe.Recipe) *float64 { return &r.Train.LRFloor })},
	{"lr-schedule", "learning rate schedule: \"\" (per epoch, --lr-decay) or cosine (to lr·floor over the run's steps)", func(r *recipe.Recipe, v string) error { r.Train.LRSchedule = v; return nil }},
	{"lr-warmup", "steps of linear learning-rate warm-up (0 = none)", intField(func(r *recipe.Recipe) *int { return &r.Train.LRWarmup })},
	{"seed", "seed of initial weights, data order and training noise", int64Field(func(r *recipe.Recipe) *int64 { return &r.Train.Seed })},
	{"ema", "EMA decay of the weights (0 = no EMA)", floatField(func(r *recipe.Recipe) *float64 { return &r.Train.EMADecay })},
	{"p-uncond", "label dropout probability of conditional training", floatField(func(r *recipe.Recipe) *float64 { return &r.Train.PUncond })},
	{"checkpoint-every", "save a checkpoint every N steps (0 = at the end of each epoch)", intField(func(r *recipe.Recipe) *int { return &r.Train.CheckpointEvery })},
	{"keep", "number of checkpoints to keep", intField(func(r *recipe.Recipe) *int { return &r.Train.KeepCheckpoints })},
	{"eval-samples", "evaluate FID/KID of N samples at the end of every epoch (0 = off)", intField(func(r *recipe.Recipe) *int { return &r.Train.EvalSamples })},
	{"init", "start from the weights of this trained model (run, export or checkpoint; its EMA weights when it has them) with a fresh optimiser and schedule", func(r *recipe.Recipe, v string) error { r.Train.Init = v; return nil }},
	{"T", "number of diffusion steps", intField(func(r *recipe.Recipe) *int { return &r.Schedule.Steps })},
	{"schedule", "noise schedule: linear or cosine", func(r *recipe.Recipe, v string) error { r.Schedule.Kind = schedule.Kind(v); return nil }},
	{"beta1", "β₁ of the linear schedule", floatField(func(r *recipe.Recipe) *float64 { return &r.Schedule.Beta1 })},
	{"betaT", "β_T of the linear schedule", floatField(func(r *recipe.Recipe) *float64 { return &r.Schedule.BetaT })},
	{"channels", "ScoreNet channels of the 4 levels, e.g. 32,64,128,256", forArch(network.ScoreNet, intList(func(r *recipe.Recipe) []int { return r.Net.ScoreNet.Channels[:] }))},
	{"embed-dim", "ScoreNet time embedding size", forArch(network.ScoreNet, intField(func(r *recipe.Recipe) *int { return &r.Net.ScoreNet.EmbedDim }))},
	{"fourier-scale", "ScoreNet: standard deviation of the random Fourier frequencies of t/T", forArch(network.ScoreNet, floatField(func(r *recipe.Recipe) *float64 { return &r.Net.ScoreNet.FourierScale }))},
	{"hidden", "U-Net (assignment1) width D of the first level", forArch(network.UNet, intField(func(r *recipe.Recipe) *int { return &r.Net.UNet.Hidden }))},
	{"classes", "number of classes of a conditional network (0 = unconditional)", intField(func(r *recipe.Recipe) *int { return r.Net.NumClassesField() })},
	{"sampler", "sampler of the samples drawn after training and of evaluations: ddpm or ddim", func(r *recipe.Recipe, v string) error { r.Sample.Sampler = v; return nil }},
	{"sampler-steps", "DDIM steps of those samples", intField(func(r *recipe.Recipe) *int { return &r.Sample.Steps })},
	{"sample-n", "number of samples drawn after training", intField(func(r *recipe.Recipe) *int { return &r.Sample.N })},
	{"sample-seed", "seed of the sampler's noise", int64Field(func(r *recipe.Recipe) *int64 { return &r.Sample.Seed })},
	{"guidance", "guidance of those samples: none or cfg:W (classifier-free, conditional networks)", func(r *recipe.Recipe, v string) error { r.Sample.Guidance = v; return nil }},
	{"fid-samples", "samples for the FID/KID evaluation (0 = skip)", intField(func(r *recipe.Recipe) *int { return &r.Sample.FIDSamples })},
}

// recipeFlags registers on fs the flag "recipe" (the base recipe, defaultRecipe if not given) and one
// flag per overridable recipe field. Call resolveRecipe after fs.Parse: only the flags given on the
// command line change the recipe.
func recipeFlags(fs *flag.FlagSet, defaultRecipe string) {
	fs.String("recipe", defaultRecipe, "base recipe: "+strings.Join(recipe.Names(), ", "))
	for _, o := range overrides {
		fs.String(o.name, "", o.help+" (default: the recipe's)")
	}
	fs.String("conditional", "", "true: class-conditional network (10 classes, label dropout 0.1)")
}

// resolveRecipe returns the recipe named by fs's "recipe" flag with the other flags given on the command
// line applied, validated.
func resolveRecipe(fs *flag.FlagSet) (recipe.Recipe, error) {
	r, err := recipe.Get(fs.Lookup("recipe").Value.String())
	if err != nil {
		return recipe.Recipe{}, err
	}
	var errs []string
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		given[f.Name] = true
		if f.Name == "conditional" {
			switch f.Value.String() {
			case "true", "1":
				if !r.Net.Conditional() {
					r = recipe.Conditional(r)
				}
			case "false", "0":
				*r.Net.NumClassesField(), r.Train.PUncond = 0, 0
				// Classifier-free guidance needs the classes (a --guidance flag, applied after this
				// one in fs.Visit's lexical order, still sets it).
				r.Sample.Guidance = ""
			default:
				errs = append(errs, fmt.Sprintf("--conditional %q: want true or false", f.Value))
			}
			return
		}
		for _, o := range overrides {
			if o.name == f.Name {
				if err := o.set(&r, f.Value.String()); err != nil {
					errs = append(errs, fmt.Sprintf("--%s: %v", f.Name, err))
				}
			}
		}
	})
	if len(errs) > 0 {
		return recipe.Recipe{}, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	if given["hidden"] { // the recipe.json of a run says the width it trained at
		r = recipe.Relabel(r)
	}
	// A shorter chain (--T) caps the recipe's DDIM steps unless they were given too: --T 20 on a
	// recipe that samples with 50 DDIM steps samples with 20 (every step).
	if given["T"] && !given["sampler-steps"] && r.Sample.Steps > r.Schedule.Steps {
		r.Sample.Steps = r.Schedule.Steps
	}
	return r, r.Validate()
}
