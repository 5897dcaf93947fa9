package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/app"
)

func init() {
	register("export", "write a slim copy of a trained model (network weights and training history only) for shipping, with its check", runExport)
}

func runExport(ctx context.Context, args []string) error {
	fs := newFlags("export", "--model RUN_DIR --out DIR [--ema=true] [--epochs 1,5,10] | --check DIR")
	modelDir := fs.String("model", "", "run directory of a trained model")
	out := fs.String("out", "", "output directory, e.g. models/scorenet (must not hold a model)")
	ema := fs.Bool("ema", true, "export the EMA weights when the model has them")
	epochs := fs.String("epochs", "", "also export the weights at the end of these epochs (comma-separated) into DIR/epochs/epoch-NN, for per-epoch sample grids; the run must have kept those checkpoints (train --keep)")
	check := fs.String("check", "", "only (re)record the check of an exported model directory")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	dir := *check
	switch {
	case *check != "" && (*modelDir != "" || *out != "" || *epochs != ""):
		return fmt.Errorf("--check goes alone (without --model, --out and --epochs)")
	case *check == "" && (*modelDir == "" || *out == ""):
		fs.Usage()
		return fmt.Errorf("--model and --out are required")
	case *check == "":
		epochList, err := parseEpochs(*epochs)
		if err != nil {
			return err
		}
		snaps, err := app.ExportEpochs(*modelDir, *out, epochList, *ema)
		if err != nil {
			return err
		}
		for _, s := range snaps {
			fmt.Printf("exported epoch %d -> %s\n", s.Epoch, s.Dir)
		}
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

// parseEpochs reads "1,5,10" as ascending distinct epochs ≥ 1; "" is none.
func parseEpochs(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		e, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || e < 1 || (len(out) > 0 && e <= out[len(out)-1]) {
			return nil, fmt.Errorf("--epochs %q: want ascending epoch numbers ≥ 1 separated by commas, e.g. 1,5,10,15,20", s)
		}
		out = append(out, e)
	}
	return out, nil
}
