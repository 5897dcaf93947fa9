package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ddpm-go/ddpm/figures"
)

func init() {
	register("figures", "regenerate every report figure (noising grid, losses, samples, trajectory, FID/KID, guidance)", runFigures)
}

func runFigures(ctx context.Context, args []string) error {
	fs := newFlags("figures", "[--mode quick|full] [--out DIR] [--runs DIR]")
	mode := fs.String("mode", "quick", "quick: small CPU trainings (minutes); full: the seed recipes (for a GPU)")
	out := fs.String("out", "", "output directory (default figures/<mode> under the repository root)")
	runs := fs.String("runs", "", "run directories of the trained models (default runs/report-<mode>; reused when present, "+
		"shared with the notebooks)")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := figures.ParseMode(*mode)
	if err != nil {
		return err
	}
	start := time.Now()
	e, err := figures.NewEnvWith(m, *backendCfg, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, e.Info)
	e.DataDir = *data
	if *runs != "" {
		e.RunsDir = *runs
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(e.Root, "figures", string(m))
	}
	written, err := figures.Generate(ctx, e, dir)
	fmt.Printf("wrote %d files in %s in %s\n", len(written), dir, time.Since(start).Round(time.Second))
	if err != nil {
		return err
	}
	for _, name := range figures.ExpectedFiles() { // the check CI relies on
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			return fmt.Errorf("expected figure %s is missing or empty", filepath.Join(dir, name))
		}
	}
	return nil
}
