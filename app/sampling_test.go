package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/training"
)

// trainedRecipe is a Trained without weights: enough for LoadSamplerDefaults.
func trainedRecipe(t *testing.T, name string) *app.Trained {
	t.Helper()
	r, err := recipe.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := schedule.New(r.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	return &app.Trained{Model: &diffusion.Model{Net: r.Net, Schedule: sched}, State: training.State{Recipe: r}}
}

// TestLoadSamplerDefaults: a sampler.json overlays only the fields it names on the recipe's
// sampling settings; a missing file is no defaults; every kind of bad file is refused naming the
// file and the problem.
func TestLoadSamplerDefaults(t *testing.T) {
	cond := trainedRecipe(t, "assignment1-d16-cond")
	uncond := trainedRecipe(t, "assignment1-d16")
	dir := t.TempDir()
	if d, err := app.LoadSamplerDefaults(dir, cond); d != nil || err != nil {
		t.Errorf("no sampler.json: %+v, %v; want nil, nil", d, err)
	}
	path := filepath.Join(dir, app.SamplerFile)
	write := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	write(`{"measured": "results/x.json", "prior": "data", "sample": {"sampler": "ddim", "steps": 50, "clip_x0": true, "guidance": "cfg:1"}}`)
	d, err := app.LoadSamplerDefaults(dir, cond)
	if err != nil {
		t.Fatal(err)
	}
	want := cond.State.Recipe.Sample
	want.Sampler, want.Steps, want.ClipX0, want.Guidance = "ddim", 50, true, "cfg:1"
	if d.Sample != want || d.Prior != "data" || !strings.Contains(d.Source(), "results/x.json") {
		t.Errorf("defaults %+v (source %s); want sample %+v, prior data", d, d.Source(), want)
	}
	if cond.State.Recipe.Sample == want {
		t.Fatal("the test's overlay changes nothing")
	}

	for _, c := range []struct {
		name, text string
		t          *app.Trained
		want       string
	}{
		{"unknown field", `{"measured": "m", "sample": {"stepz": 5}}`, cond, "stepz"},
		{"not JSON", `{"measured": `, cond, "unexpected EOF"},
		{"no measurement", `{"sample": {"steps": 5}}`, cond, `"measured"`},
		{"bad prior", `{"measured": "m", "prior": "gauss"}`, cond, `prior "gauss"`},
		{"steps beyond T", `{"measured": "m", "sample": {"sampler": "ddim", "steps": 301}}`, cond, "ddim steps 301"},
		{"bad corrector", `{"measured": "m", "sample": {"corrector": 1, "snr": 2}}`, cond, "2"},
		{"guidance, unconditional", `{"measured": "m", "sample": {"guidance": "cfg:1"}}`, uncond, "unconditional"},
		{"autoguidance without a guide", `{"measured": "m", "autoguidance": {"w": 1}}`, uncond, `field "guide" is empty`},
		{"negative autoguidance", `{"measured": "m", "autoguidance": {"guide": "g", "w": -1}}`, uncond, "w = -1"},
		{"missing guide", `{"measured": "m", "autoguidance": {"guide": "none", "w": 1}}`, uncond, `guide "none"`},
		{"autoguidance and cfg", `{"measured": "m", "sample": {"guidance": "cfg:1"}, "autoguidance": {"guide": "g", "w": 1}}`, cond, "choose one"},
	} {
		write(c.text)
		_, err := app.LoadSamplerDefaults(dir, c.t)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one naming %s and %q", c.name, err, path, c.want)
		}
	}
}

// TestSamplerDefaultsAutoguidance: a sampler.json's autoguidance names its guide relative to its
// own directory and gives the guidance auto:W.
func TestSamplerDefaultsAutoguidance(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	for _, d := range []string{model, filepath.Join(dir, "guide")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	text := `{"measured": "m", "sample": {"corrector": 2, "snr": 0.16}, "autoguidance": {"guide": "../guide", "w": 0.5}}`
	if err := os.WriteFile(filepath.Join(model, app.SamplerFile), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := app.LoadSamplerDefaults(model, trainedRecipe(t, "scorenet"))
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := d.Guidance(); !ok || g != (sampler.Guidance{Kind: "auto", Scale: 0.5}) || d.GuideDir() != filepath.Join(dir, "guide") {
		t.Errorf("guidance %v (%v), guide %s; want auto:0.5 guided by %s", g, ok, d.GuideDir(), filepath.Join(dir, "guide"))
	}
	if d.Sample.Corrector != 2 {
		t.Errorf("corrector %d, want the file's 2", d.Sample.Corrector)
	}
}

// guidePart is the guide's part of a results file's source: "(guide DIR)" after the sampler.
var guidePart = regexp.MustCompile(` \(guide ([^)]+)\)`)

// priorPart is the x_T prior's part of a sampler description (sampler.Options.String): the
// Gaussian fit ("data") or the class mixture of the per-class fits ("mixture").
var priorPart = regexp.MustCompile(`, x_T ~ (Gaussian fit|class mixture of Gaussian fits) of q\(x_T[^)]*\) \(ᾱ_T = [0-9.e+-]+\)`)

// priorName is the --prior name of the prior a sampler description names ("" for none).
func priorName(source string) string {
	switch m := priorPart.FindStringSubmatch(source); {
	case m == nil:
		return ""
	case m[1] == "Gaussian fit":
		return "data"
	default:
		return "mixture"
	}
}

// TestShippedSamplerDefaults: every models/*/sampler.json loads, and the evaluation it names was
// made with exactly its settings on that model: the results file's source names the model and
// the sampler that the defaults give (the prior's fitted ᾱ_T aside), so no tuned sampler claims a
// measurement it did not get.
func TestShippedSamplerDefaults(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(shippedDir, "*", app.SamplerFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tr, err := app.LoadTrained(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			d, err := app.LoadSamplerDefaults(dir, tr)
			if err != nil {
				t.Fatal(err)
			}
			o, err := app.SampleOptions(d.Sample)
			if err != nil {
				t.Fatal(err)
			}
			if g, ok := d.Guidance(); ok {
				o.Guidance = g
			}
			data, err := os.ReadFile(filepath.Join("..", d.Measured))
			if err != nil {
				t.Fatalf("%s: measured: %v", f, err)
			}
			var res struct {
				Source string `json:"source"`
			}
			if err := json.Unmarshal(data, &res); err != nil {
				t.Fatalf("%s: %v", d.Measured, err)
			}
			src := priorPart.ReplaceAllString(res.Source, "")
			var guide string // the guide model the evaluation used, relative to the repository
			if m := guidePart.FindStringSubmatch(src); m != nil {
				guide, src = m[1], guidePart.ReplaceAllString(src, "")
			}
			var wantGuide string // the defaults' guide, relative to the repository
			if d.Autoguidance != nil {
				wantGuide = filepath.Join("models", filepath.Base(dir), d.Autoguidance.Guide)
			}
			if guide != wantGuide {
				t.Errorf("%s: %s was made with guide %q; the defaults guide by %q", f, d.Measured, guide, wantGuide)
			}
			want := "models/" + filepath.Base(dir) + "/checkpoints/"
			if !strings.HasPrefix(src, "model "+want) || !strings.Contains(src, "), "+o.String()+", seed ") {
				t.Errorf("%s: %s was made with %q; the defaults sample %s with %q", f, d.Measured, res.Source, want, o)
			}
			if got := priorName(res.Source); got != d.Prior && (got != "" || d.Prior != "standard") {
				t.Errorf("%s: prior %q, but %s says %q", f, d.Prior, d.Measured, res.Source)
			}
		})
	}
}
