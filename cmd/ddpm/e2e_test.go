package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/pipeline"
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

	runDir := filepath.Join(dir, "run")
	out = run(t, bin, 0, append([]string{"run", "--recipe", "quick", "--out", runDir, "--sample-n", "16",
		"--fid-samples", "0"}, shrink...)...)
	for _, f := range []string{"samples.png", "samples.npy", "trajectory.png", "loss.png", "report.json", "report.md", "recipe.json"} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Errorf("the main job did not write %s: %v\n%s", f, err, out)
		}
	}
	var rep pipeline.Report
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
