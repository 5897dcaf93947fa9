package main

import (
	"context"
	"fmt"

	"github.com/ddpm-go/ddpm/ddpm/pipeline"
)

func init() {
	register("export", "write a slim copy of a trained model (network weights and training history only) for shipping", runExport)
}

func runExport(ctx context.Context, args []string) error {
	fs := newFlags("export", "--model RUN_DIR --out DIR [--ema=true]")
	modelDir := fs.String("model", "", "run directory of a trained model (required)")
	out := fs.String("out", "", "output directory, e.g. models/scorenet (required, must not hold a model)")
	ema := fs.Bool("ema", true, "export the EMA weights when the model has them")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelDir == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("--model and --out are required")
	}
	dir, err := pipeline.Export(*modelDir, *out, *ema)
	if err != nil {
		return err
	}
	fmt.Printf("exported %s -> %s\n", *modelDir, dir)
	return nil
}
