package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/fid"
)

// shrink keeps the quick recipe's structure but makes it run in seconds.
var shrink = []string{"--backend", "go", "--channels", "32,32,32,32", "--embed-dim", "32",
	"--train-examples", "640", "--batch", "32", "--epochs", "1", "--T", "50"}

// TestQuickRecipeEndToEnd: fetch → train → sample → the main job, checking every file written.
func TestQuickRecipeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command line end to end")
	}
	bin := buildDDPM(t)
	dir := t.TempDir()
	out := run(t, bin, 0, "fetch")
	if !strings.Contains(out, "sha256 verified") {
		t.Errorf("fetch output: %s", out)
	}

	model := filepath.Join(dir, "model")
	run(t, bin, 0, append([]string{"train", "--recipe", "quick", "--out", model}, shrink...)...)
	png1, npy1 := filepath.Join(dir, "s.png"), filepath.Join(dir, "s.npy")
	out = run(t, bin, 0, "sample", "--model", model, "--backend", "go", "--n", "12", "--sampler", "ddim", "--steps", "10",
		"--out", png1, "--npy", npy1, "--trajectory", filepath.Join(dir, "traj.png"))
	if !strings.Contains(out, "12 samples") {
		t.Errorf("sample output: %s", out)
	}
	checkPNG(t, png1)
	checkPNG(t, filepath.Join(dir, "traj.png"))
	images, n, err := fid.ReadNpyImages(npy1)
	if err != nil || n != 12 || len(images) != 12*28*28 {
		t.Fatalf("samples .npy: n=%d, %d values, err %v; want 12×28×28", n, len(images), err)
	}
	for _, v := range images {
		if !(v >= -1 && v <= 1) {
			t.Fatalf("sample value %g outside [-1, 1]", v)
		}
	}

	// A slim export loads like the run it came from and samples the same images (the EMA weights).
	exported := filepath.Join(dir, "exported")
	run(t, bin, 0, "export", "--model", model, "--out", exported)
	png2, npy2 := filepath.Join(dir, "e.png"), filepath.Join(dir, "e.npy")
	run(t, bin, 0, "sample", "--model", exported, "--backend", "go", "--n", "12", "--sampler", "ddim", "--steps", "10",
		"--out", png2, "--npy", npy2)
	images2, _, err := fid.ReadNpyImages(npy2)
	if err != nil || !slices.Equal(images, images2) {
		t.Errorf("samples of the exported model differ from the run's (err %v)", err)
	}
	if full, slim := dirSize(t, filepath.Join(model, "checkpoints")), dirSize(t, filepath.Join(exported, "checkpoints")); slim*2 > full {
		t.Errorf("export is %d bytes, the training checkpoints %d: want less than half", slim, full)
	}
	run(t, bin, -1, "export", "--model", model, "--out", exported) // refuses to overwrite

	// --prior data starts the chain from the Gaussian fit of q(x_T ∣ y) (the recipe's 640 training
	// images): other samples from the same noise; an unknown prior is refused by name.
	out = run(t, bin, 0, "sample", "--model", exported, "--backend", "go", "--n", "12", "--sampler", "ddim", "--steps", "10",
		"--prior", "data", "--out", filepath.Join(dir, "p.png"))
	if !strings.Contains(out, "Gaussian fit of q(x_T ∣ y)") || !strings.Contains(out, "from 640 images") {
		t.Errorf("sample --prior data output: %s", out)
	}
	images3, _, err := fid.ReadNpyImages(filepath.Join(dir, "p.npy"))
	if err != nil || len(images3) != len(images) || slices.Equal(images, images3) {
		t.Errorf("samples with --prior data: %d values, err %v; want 12 images other than N(0, I)'s", len(images3), err)
	}
	if out := run(t, bin, -1, "sample", "--model", exported, "--prior", "gauss"); !strings.Contains(out, `prior "gauss"`) {
		t.Errorf("sample --prior gauss: %s", out)
	}

	// --tuned starts from the model's sampler.json (here: the settings of the --prior data run
	// above), flags still override, and a typo in the file is named.
	if out := run(t, bin, -1, "sample", "--model", exported, "--tuned"); !strings.Contains(out, "has no sampler.json") {
		t.Errorf("sample --tuned without sampler.json: %s", out)
	}
	tunedFile := filepath.Join(exported, app.SamplerFile)
	writeFile(t, tunedFile, `{"measured": "the e2e test", "prior": "data", "sample": {"sampler": "ddim", "steps": 10}}`)
	out = run(t, bin, 0, "sample", "--model", exported, "--backend", "go", "--n", "12", "--tuned", "--out", filepath.Join(dir, "t.png"))
	images4, _, err := fid.ReadNpyImages(filepath.Join(dir, "t.npy"))
	if !strings.Contains(out, "measured: the e2e test") || err != nil || !slices.Equal(images4, images3) {
		t.Errorf("sample --tuned: err %v, want the samples of --prior data; output: %s", err, out)
	}
	run(t, bin, 0, "sample", "--model", exported, "--backend", "go", "--n", "12", "--tuned", "--prior", "standard",
		"--out", filepath.Join(dir, "t2.png"))
	if images5, _, err := fid.ReadNpyImages(filepath.Join(dir, "t2.npy")); err != nil || !slices.Equal(images5, images2) {
		t.Errorf("sample --tuned --prior standard: err %v, want the N(0, I) samples", err)
	}
	writeFile(t, tunedFile, `{"measured": "the e2e test", "sample": {"stepz": 10}}`)
	if out := run(t, bin, -1, "sample", "--model", exported, "--tuned"); !strings.Contains(out, tunedFile) || !strings.Contains(out, "stepz") {
		t.Errorf("sample --tuned with a misspelt field: %s", out)
	}
	if err := os.Remove(tunedFile); err != nil {
		t.Fatal(err)
	}

	runDir := filepath.Join(dir, "run")
	out = run(t, bin, 0, append([]string{"run", "--recipe", "quick", "--out", runDir, "--sample-n", "16",
		"--fid-samples", "0"}, shrink...)...)
	for _, f := range []string{"samples.png", "samples.npy", "trajectory.png", "loss.png", "report.json", "report.md", "recipe.json"} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Errorf("the main job did not write %s: %v\n%s", f, err, out)
		}
	}
	var rep app.Report
	data, err := os.ReadFile(filepath.Join(runDir, "report.json"))
	if err != nil || json.Unmarshal(data, &rep) != nil {
		t.Fatalf("report.json unreadable: %v", err)
	}
	if rep.Steps != 20 || rep.Recipe.Name != "quick" || rep.FinalLoss <= 0 {
		t.Errorf("report: %+v", rep)
	}
	// Running the main job again reuses the finished training.
	out = run(t, bin, 0, append([]string{"run", "--recipe", "quick", "--out", runDir, "--sample-n", "16",
		"--fid-samples", "0"}, shrink...)...)
	if !strings.Contains(out, "training already complete") {
		t.Errorf("a second run did not reuse the training:\n%s", out)
	}
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
}

// writeFile writes text to path or fails the test.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
