// Package nb is the notebook side of package figures: inline display through GoNB (gonbui) and a
// slider widget that degrades to a static image in headless runs. Every output is PNG (or
// markdown), so saved and exported notebooks keep their figures.
package nb

import (
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"io"
	"os"
	"time"

	"github.com/ddpm-go/ddpm/figures"
	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/dom"
	"github.com/janpfeifer/gonb/gonbui/widgets"
	"gonum.org/v1/plot"
)

// HeadlessEnv, when set to a non-empty value, makes widget cells show their static output only
// (scripts/run_notebooks.sh sets it: nbconvert has no browser to answer a widget).
const HeadlessEnv = "DDPM_NOTEBOOK_HEADLESS"

// WidgetTimeout is how long a widget cell waits for the front end to create its slider before it
// falls back to the static output.
var WidgetTimeout = 10 * time.Second

// IdleTimeout ends an interactive cell after this long without a slider move (the last view is
// then kept in the notebook).
var IdleTimeout = 10 * time.Minute

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
	log := e.Log
	e.Log = io.Discard
	defer func() { e.Log = log }()
	m := Must(e.Train(figures.Background(), name))
	src := "run directory"
	if m.Shipped {
		src = "shipped checkpoint"
	}
	fmt.Printf("%s: %d training steps (%d epochs), %s %s\n", m.Recipe.Name, m.State.Step, m.Epochs(), src, e.Rel(m.Dir))
	return m
}

// Headless reports whether widget cells must show their static output only.
func Headless() bool { return os.Getenv(HeadlessEnv) != "" || !gonbui.IsNotebook }

// Interact shows a slider over [lo, hi] above a live view render(value) (a caption and PNG bytes),
// and a Done button; moving the slider re-renders. When the cell ends (Done, or IdleTimeout without a move)
// the last view is displayed as an ordinary PNG output, so the saved notebook keeps it.
//
// Headless runs (HeadlessEnv set, or no front end answering within WidgetTimeout) display
// render(initial) only: the cell's static fallback output.
func Interact(lo, hi, initial int, render func(v int) (caption string, png []byte)) {
	static := func(v int) {
		caption, png := render(v)
		Markdown("%s", caption)
		ShowPNG(png)
	}
	if Headless() {
		static(initial)
		return
	}
	type built struct {
		slider *widgets.SliderBuilder
		done   *widgets.ButtonBuilder
	}
	ready := make(chan built, 1)
	div := dom.CreateTransientDiv()
	go func() {
		s := widgets.Slider(lo, hi, initial).AppendTo(div).Done()
		b := widgets.Button("Done").AppendTo(div).Done()
		ready <- built{s, b}
	}()
	var w built
	select {
	case w = <-ready:
	case <-time.After(WidgetTimeout):
		static(initial)
		return
	}
	values := w.slider.Listen().LatestOnly()
	clicks := w.done.Listen()
	defer values.Close()
	defer clicks.Close()
	id := "ddpm_interact_" + gonbui.UniqueId()
	view := func(v int) {
		caption, png := render(v)
		gonbui.UpdateHTML(id, fmt.Sprintf(`<p>%s</p><img src="data:image/png;base64,%s"/>`, html.EscapeString(caption),
			base64.StdEncoding.EncodeToString(png)))
	}
	current := initial
	view(current)
loop:
	for {
		select {
		case v := <-values.C:
			current = v
			view(v)
		case <-clicks.C:
			break loop
		case <-time.After(IdleTimeout):
			break loop
		}
	}
	gonbui.UpdateHTML(id, "")
	static(current)
}
