package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/training"
)

func init() {
	register("train", "train a model from a named recipe (every recipe value can be overridden by a flag)", runTrain)
}

func runTrain(ctx context.Context, args []string) error {
	fs := newFlags("train", "[--recipe NAME] [--out DIR] [--resume] [recipe overrides...]")
	recipeFlags(fs, "quick")
	out := fs.String("out", "", "run directory for checkpoints and results (default runs/<recipe>)")
	resume := fs.Bool("resume", false, "continue from the newest intact checkpoint in --out")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	r, err := resolveRecipe(fs)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", r.Name)
	}
	b, _, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	o := training.Options{Recipe: r, Dir: dir, Resume: *resume, Backend: b, DataDir: *data, Log: os.Stderr}
	if r.Train.EvalSamples > 0 {
		o.EpochEval = app.EpochEvaluator(b, r.Sample, r.Train.EvalSamples, app.FIDEvaluator(*data, b))
	}
	res, err := training.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Printf("trained %s: %d steps, last checkpoint %s\n", r.Name, res.State.Step, res.CheckpointDir)
	return nil
}
