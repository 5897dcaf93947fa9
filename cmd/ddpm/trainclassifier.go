package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
)

func init() {
	register("train-classifier", "train the noisy classifier p(y | x_t, t) of classifier guidance, on the noise "+
		"schedule of a trained model (--model) or of a recipe (--recipe)", runTrainClassifier)
}

func runTrainClassifier(ctx context.Context, args []string) error {
	fs := newFlags("train-classifier", "--model RUN_DIR | --recipe NAME [--out DIR] [flags]")
	modelDir := fs.String("model", "", "run directory of the diffusion model to guide: its schedule and dataset are used")
	recipeName := fs.String("recipe", "", "or a recipe whose schedule and dataset to use: "+strings.Join(recipe.Names(), ", "))
	out := fs.String("out", "", "run directory of the classifier (default <model>/classifier, or runs/<recipe>-classifier)")
	resume := fs.Bool("resume", false, "continue from the newest intact checkpoint in --out")
	def, defNet := classifier.DefaultTrain(), classifier.Default()
	epochs := fs.Int("epochs", def.Epochs, "number of epochs")
	batch := fs.Int("batch", def.BatchSize, "batch size")
	lr := fs.Float64("lr", def.LR, "Adam learning rate (constant)")
	seed := fs.Int64("seed", def.Seed, "seed of the initial weights, data order, t and ε")
	examples := fs.Int("train-examples", def.TrainExamples, "train on the first N images only (0 = all)")
	every := fs.Int("checkpoint-every", def.CheckpointEvery, "save a checkpoint every N steps (0 = at the end of each epoch)")
	keep := fs.Int("keep", def.KeepCheckpoints, "number of checkpoints to keep")
	channels := fs.String("channels", fmt.Sprint(defNet.Channels[0], ",", defNet.Channels[1], ",", defNet.Channels[2]),
		"channels of the three convolutions")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	var spec classifier.Spec
	dir := *out
	switch {
	case (*modelDir == "") == (*recipeName == ""):
		fs.Usage()
		return fmt.Errorf("give exactly one of --model RUN_DIR (the model to guide) or --recipe NAME")
	case *modelDir != "":
		trained, err := app.LoadTrained(*modelDir, false)
		if err != nil {
			return err
		}
		spec = classifier.SpecFromRecipe(trained.State.Recipe, "model "+trained.Checkpoint)
		if dir == "" {
			dir = filepath.Join(*modelDir, "classifier")
		}
	default:
		r, err := recipe.Get(*recipeName)
		if err != nil {
			return err
		}
		spec = classifier.SpecFromRecipe(r, "recipe "+r.Name)
		if dir == "" {
			dir = filepath.Join("runs", r.Name+"-classifier")
		}
	}
	t := &spec.Train
	t.Epochs, t.BatchSize, t.LR, t.Seed, t.TrainExamples, t.CheckpointEvery, t.KeepCheckpoints =
		*epochs, *batch, *lr, *seed, *examples, *every, *keep
	if err := parseChannels(*channels, spec.Net.Channels[:]); err != nil {
		return err
	}
	b, _, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "noisy classifier for %s (%s), %s\n", spec.Schedule, spec.Source, spec.Train.Dataset)
	res, err := classifier.Train(ctx, classifier.TrainOptions{Spec: spec, Dir: dir, Resume: *resume, Backend: b,
		DataDir: *data, Log: os.Stderr})
	if err != nil {
		return err
	}
	fmt.Printf("trained the noisy classifier: %d steps, %d parameters, checkpoint %s\ntest accuracy on x_t:\n%s",
		res.State.Step, res.State.Parameters, res.CheckpointDir, classifier.FormatAccuracy(res.State.TestAccuracy))
	fmt.Printf("guide a model with this schedule: ddpm sample --model RUN_DIR --class 3 --guidance classifier:1 --classifier %s\n", dir)
	return nil
}

// parseChannels parses a comma list of len(dst) positive integers into dst.
func parseChannels(s string, dst []int) error {
	parts := strings.Split(s, ",")
	if len(parts) != len(dst) {
		return fmt.Errorf("--channels %q: want %d comma-separated integers", s, len(dst))
	}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("--channels %q: %q is not a positive integer", s, p)
		}
		dst[i] = n
	}
	return nil
}
