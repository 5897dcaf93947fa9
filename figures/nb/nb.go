// Package nb is the notebook side of package figures: inline display through GoNB (gonbui) and
// interactive figures (Player) that leave the kernel free and degrade to a static image in headless
// runs. Static outputs are PNG (or markdown), so saved and exported notebooks keep their figures.
package nb

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"

	"github.com/ddpm-go/ddpm/figures"
	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot"
)

// HeadlessEnv, when set to a non-empty value, makes interactive cells (Player) show their static
// figure only (scripts/run_notebooks.sh sets it: nbconvert has no browser to run their script).
const HeadlessEnv = "DDPM_NOTEBOOK_HEADLESS"

// Must panics on error (a panicking cell is reported as an error by GoNB and Jupyter).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Check panics on error.
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

// Show displays a figure inline as PNG.
func Show(f figures.Figure, err error) {
	Check(err)
	ShowPNG(f.PNG)
}

// ShowPNG displays PNG bytes inline.
func ShowPNG(data []byte) {
	gonbui.DisplayPng(data)
	gonbui.Sync()
}

// ShowImage displays an image inline as PNG.
func ShowImage(img image.Image, err error) {
	Check(err)
	ShowPNG(Must(figures.PNG(img)))
}

// ShowPlot displays a gonum plot inline as PNG.
func ShowPlot(p *plot.Plot, err error) {
	Check(err)
	ShowPNG(Must(figures.PlotPNG(p)))
}

// Markdown displays markdown (formatted with fmt.Sprintf).
func Markdown(format string, args ...any) {
	gonbui.DisplayMarkdown(fmt.Sprintf(format, args...))
	gonbui.Sync()
}

// Load returns a model trained (or loaded) by an earlier cell without repeating its training log,
// and prints one line about it. (GoNB runs every cell as a new program: models are reloaded from
// their run directories, which takes a second.)
func Load(e *figures.Env, name string) *figures.Model {
	return load(e, name, e.Train)
}

// LoadAsRecipe is Load with Env.TrainAsRecipe: the model of this mode's recipe, never a shipped
// substitute (for comparisons at the same training budget).
func LoadAsRecipe(e *figures.Env, name string) *figures.Model {
	return load(e, name, e.TrainAsRecipe)
}

func load(e *figures.Env, name string, train func(context.Context, string) (*figures.Model, error)) *figures.Model {
	log := e.Log
	e.Log = io.Discard
	defer func() { e.Log = log }()
	m := Must(train(figures.Background(), name))
	src := "run directory"
	if m.Shipped {
		src = "shipped checkpoint"
	}
	fmt.Printf("%s: %d training steps (%d epochs), %s %s\n", m.Recipe.Name, m.State.Step, m.Epochs(), src, e.Rel(m.Dir))
	return m
}

// Headless reports whether interactive cells must show their static figure only: HeadlessEnv is
// set, or the program does not run under GoNB.
func Headless() bool { return os.Getenv(HeadlessEnv) != "" || !gonbui.IsNotebook }
