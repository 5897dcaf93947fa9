package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
)

func init() {
	register("run", "the main job: train (or resume) a recipe, sample, evaluate, write figures and a report", runMain)
}

func runMain(ctx context.Context, args []string) error {
	fs := newFlags("run", "[--recipe auto|NAME] [--out DIR] [recipe overrides...]")
	recipeFlags(fs, "auto")
	out := fs.String("out", "", "run directory (default runs/<recipe>); an existing run is resumed, a finished one reused")
	compare := fs.String("compare", "auto", "a trained model whose samples are drawn beside this run's (compare.png); "+
		"auto: the shipped models/scorenet when the run is the quick recipe; none: no comparison")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	b, info, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	if fs.Lookup("recipe").Value.String() == "auto" {
		// The small preset on the CPU, the full recipe where an accelerator runs.
		name := "quick"
		if info.Name != "go" {
			name = "scorenet"
		}
		if err := fs.Set("recipe", name); err != nil {
			return err
		}
		fmt.Printf("recipe auto -> %s (backend %s)\n", name, info.Name)
	}
	r, err := resolveRecipe(fs)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", r.Name)
	}
	cmp := *compare
	switch cmp {
	case "none":
		cmp = ""
	case "auto":
		cmp = ""
		if r.Name == "quick" {
			if wd, err := os.Getwd(); err == nil {
				if root, ok := mnist.RepoRoot(wd); ok {
					cmp = filepath.Join(root, "models", "scorenet")
				}
			}
		}
	}
	rep, err := app.Main(ctx, app.MainOptions{Recipe: r, Dir: dir, Resume: true, Backend: b, BackendInfo: info,
		DataDir: *data, Evaluate: app.FIDEvaluator(*data, b), Compare: cmp})
	if err != nil {
		return err
	}
	fmt.Printf("\nwrote %v and report.{json,md} in %s\n", rep.Files, dir)
	return nil
}
