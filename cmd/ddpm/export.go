package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ddpm-go/ddpm/app"
)

func init() {
	register("export", "write a slim copy of a trained model (network weights and training history only) for shipping, with its check", runExport)
}

func runExport(ctx context.Context, args []string) error {
	fs := newFlags("export", "--model RUN_DIR --out DIR [--ema=true] | --check DIR")
	modelDir := fs.String("model", "", "run directory of a trained model")
	out := fs.String("out", "", "output directory, e.g. models/scorenet (must not hold a model)")
	ema := fs.Bool("ema", true, "export the EMA weights when the model has them")
	check := fs.String("check", "", "only (re)record the check of an exported model directory")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	dir := *check
	switch {
	case *check != "" && (*modelDir != "" || *out != ""):
		return fmt.Errorf("--check goes alone (without --model and --out)")
	case *check == "" && (*modelDir == "" || *out == ""):
		fs.Usage()
		return fmt.Errorf("--model and --out are required")
	case *check == "":
		step, err := app.Export(*modelDir, *out, *ema)
		if err != nil {
			return err
		}
		fmt.Printf("exported %s -> %s\n", *modelDir, step)
		dir = *out
	}
	// The check: a small fixed evaluation that CI re-runs on the CPU (app.Check).
	b, _, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	t, err := app.LoadTrained(dir, true)
	if err != nil {
		return err
	}
	c, err := app.RunCheck(ctx, b, t, app.FIDEvaluator(*data, b))
	if err != nil {
		return err
	}
	if err := app.WriteCheck(dir, c); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "check (%s, N=%d, %s): FID %.4g, KID %.4g\n", c.Backend, c.N, c.Sampler, c.Metrics["fid"], c.Metrics["kid"])
	fmt.Printf("check -> %s/%s\n", dir, app.CheckFile)
	return nil
}
