package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/fid/mnistcnn"
)

// fidCLI runs the ddpm binary built for these tests on the Go backend and returns its exit code and
// combined output.
func fidCLI(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	return runCommand(t, bin, "go", args...)
}

// TestFIDCommand checks its argument errors, the --features-a/-b mode
// (full float64 precision, equal to the library's value) and the --samples mode on real images.
func TestFIDCommand(t *testing.T) {
	dir := t.TempDir()
	bin := buildDDPM(t)
	write := func(name string, data []float32, shape ...int) string {
		p := filepath.Join(dir, name)
		if err := fid.WriteNpyFloat32(p, data, shape...); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := filepath.Join(dir, "garbage.npy")
	if err := os.WriteFile(garbage, []byte("not numpy at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	feats := func(name string, n, d int, shift float32) string {
		x := make([]float32, n*d)
		for i := range x {
			x[i] = float32((i*7919)%101)/50 - 1 + shift
		}
		return write(name, x, n, d)
	}
	a, b, a3 := feats("a.npy", 300, 8, 0), feats("b.npy", 200, 8, 0.25), feats("a3.npy", 300, 3, 0)
	one := write("one.npy", make([]float32, fid.ImagePixels), 1, 28, 28)
	flat := write("flat.npy", make([]float32, 20), 2, 10)
	oneFeat := write("onefeat.npy", make([]float32, 8), 1, 8)

	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"no mode", []string{"fid"}, []string{"exactly one of"}},
		{"two modes", []string{"fid", "--samples", one, "--features-a", a, "--features-b", b}, []string{"exactly one of"}},
		{"missing file", []string{"fid", "--samples", filepath.Join(dir, "nope.npy")}, []string{"nope.npy", "no such file"}},
		{"unreadable npy", []string{"fid", "--samples", garbage}, []string{"garbage.npy", "not a .npy file"}},
		{"wrong shape", []string{"fid", "--samples", flat}, []string{"flat.npy", "shape (2, 10)", "N×28×28"}},
		{"N<2 samples", []string{"fid", "--samples", one}, []string{"1 image", "N ≥ 2"}},
		{"N<2 features", []string{"fid", "--features-a", oneFeat, "--features-b", b}, []string{"onefeat.npy", "N ≥ 2"}},
		{"mismatched dims", []string{"fid", "--features-a", a, "--features-b", a3}, []string{"dimensions differ", "300×8", "300×3"}},
		{"lonely features-a", []string{"fid", "--features-a", a}, []string{"go together"}},
		{"unreadable features", []string{"fid", "--features-a", garbage, "--features-b", b}, []string{"garbage.npy"}},
		{"bad --n", []string{"fid", "--floor", "--n", "1000,x"}, []string{"--n", "\"x\""}},
		{"sampler flag without model", []string{"fid", "--samples", one, "--steps", "5"}, []string{"--steps applies to --model"}},
		{"classifier without model", []string{"fid", "--samples", one, "--classifier", dir}, []string{"--classifier applies to --model"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := fidCLI(t, bin, c.args...)
			if code == 0 {
				t.Fatalf("exit status 0, want a failure:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
		})
	}

	t.Run("features full precision", func(t *testing.T) {
		code, out := fidCLI(t, bin, "fid", "--features-a", a, "--features-b", b, "--json", filepath.Join(dir, "f.json"))
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		m := regexp.MustCompile(`(?m)^FID (\S+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no FID line:\n%s", out)
		}
		got, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		fa, _ := fid.ReadNpyMatrix(a)
		fb, _ := fid.ReadNpyMatrix(b)
		sa, _ := fid.ComputeStats(fa)
		sb, _ := fid.ComputeStats(fb)
		want, err := fid.FID(sa, sb)
		if err != nil {
			t.Fatal(err)
		}
		if got != want.FID {
			t.Fatalf("printed FID %s = %v, library %v: not full precision", m[1], got, want.FID)
		}
		if _, err := os.Stat(filepath.Join(dir, "f.json")); err != nil {
			t.Error(err)
		}
	})

	t.Run("samples of real images", func(t *testing.T) {
		test, err := mnist.EnsureAndLoad(context.Background(), "", mnist.Test, os.Stderr)
		if err != nil {
			t.Skipf("MNIST unavailable: %v", err)
		}
		const n = 500
		s := write("real.npy", test.Images[:n*fid.ImagePixels], n, 28, 28)
		labels := make([]int, n)
		copy(labels, test.Labels)
		if err := fid.WriteNpyLabels(fid.LabelsPath(s), labels); err != nil {
			t.Fatal(err)
		}
		js := filepath.Join(dir, "real.json")
		// The default cache (data/fid): reference statistics and the N=500 floor are shared with
		// `ddpm run` (recomputed here if missing or stale).
		code, out := fidCLI(t, bin, "fid", "--samples", s, "--json", js, "--backend", "go")
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		for _, w := range []string{"mnist-cnn-v1 sha256 " + mnistcnn.ShippedHash, "| 500 |", "sidecar", "predicted classes (N=500)"} {
			if !strings.Contains(out, w) {
				t.Errorf("output does not contain %q:\n%s", w, out)
			}
		}
		row := regexp.MustCompile(`\| 500 \| ([0-9.]+) \| ([0-9.]+) ± [0-9.e+-]+ \|.*\| ([0-9.]+)% \|`).FindStringSubmatch(out)
		if row == nil {
			t.Fatalf("no result row with accuracy:\n%s", out)
		}
		fidV, _ := strconv.ParseFloat(row[1], 64)
		floor, _ := strconv.ParseFloat(row[2], 64)
		acc, _ := strconv.ParseFloat(row[3], 64)
		if fidV > 3*floor+1 || acc < 98 {
			t.Errorf("real test images: FID %v vs floor %v, accuracy %v%%", fidV, floor, acc)
		}
	})

	t.Run("model", func(t *testing.T) {
		if testing.Short() {
			t.Skip("trains a tiny model")
		}
		run := filepath.Join(dir, "tiny")
		if code, out := fidCLI(t, bin, "train", "--recipe", "quick", "--out", run, "--backend", "go", "--channels", "32,32,32,32",
			"--embed-dim", "32", "--train-examples", "320", "--batch", "32", "--epochs", "1"); code != 0 {
			t.Fatalf("train: exit %d\n%s", code, out)
		}
		code, out := fidCLI(t, bin, "fid", "--model", run, "--estimate", "--n", "20,30", "--sampler", "ddim", "--steps", "2")
		if code != 0 || !strings.Contains(out, "estimated sampling time for N=30") || strings.Contains(out, "| 30 |") {
			t.Fatalf("--estimate: exit %d\n%s", code, out)
		}
		save := filepath.Join(dir, "tiny-samples.npy")
		code, out = fidCLI(t, bin, "fid", "--model", run, "--n", "20,30", "--sampler", "ddim", "--steps", "2", "--save", save,
			"--cache", filepath.Join(dir, "cache"), "--json", filepath.Join(dir, "tiny.json"))
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		for _, w := range []string{"estimated sampling time for N=30", "| 20 |", "| 30 |", "DDIM, 2 steps"} {
			if !strings.Contains(out, w) {
				t.Errorf("output does not contain %q:\n%s", w, out)
			}
		}
		// The JSON's source names raw weights (the results tables read EMA as the default).
		rawJSON := filepath.Join(dir, "tiny-raw.json")
		if code, out := fidCLI(t, bin, "fid", "--model", run, "--ema=false", "--n", "20", "--sampler", "ddim", "--steps", "2",
			"--save", "-", "--cache", filepath.Join(dir, "cache"), "--json", rawJSON); code != 0 {
			t.Fatalf("--ema=false: exit %d\n%s", code, out)
		}
		for path, want := range map[string]bool{rawJSON: true, filepath.Join(dir, "tiny.json"): false} {
			js, err := os.ReadFile(path)
			if err != nil || strings.Contains(string(js), "raw weights") != want {
				t.Errorf("%s: names raw weights = %v, want %v (%v)", path, !want, want, err)
			}
		}
		_, n, err := fid.ReadNpyImages(save)
		if err != nil || n != 30 {
			t.Fatalf("saved samples: n=%d, %v", n, err)
		}
		if images, meta := partialPaths(save); fileExists(images) || fileExists(meta) {
			t.Errorf("a finished run left its partial samples (%s, %s)", images, meta)
		}
		testResumedSamples(t, run)

		// Classifier guidance: refused without a classifier; with one, the samples cycle over its
		// classes (the accuracy column) and the source names it.
		if code, out := fidCLI(t, bin, "fid", "--model", run, "--n", "20", "--sampler", "ddim", "--steps", "2",
			"--guidance", "classifier:1", "--save", "-"); code == 0 || !strings.Contains(out, "--classifier DIR") {
			t.Errorf("classifier guidance without --classifier: exit %d\n%s", code, out)
		}
		clf := filepath.Join(dir, "tiny-clf")
		if code, out := fidCLI(t, bin, "train-classifier", "--model", run, "--out", clf, "--train-examples", "64",
			"--batch", "32", "--epochs", "1", "--channels", "8,8,8"); code != 0 {
			t.Fatalf("train-classifier: exit %d\n%s", code, out)
		}
		clfJSON := filepath.Join(dir, "tiny-clf.json")
		uncond := filepath.Join(dir, "tiny-uncond") // an unconditional model: the classes come from the classifier
		if code, out := fidCLI(t, bin, "train", "--recipe", "quick", "--conditional", "false", "--out", uncond, "--backend", "go",
			"--channels", "32,32,32,32", "--embed-dim", "32", "--train-examples", "64", "--batch", "32", "--epochs", "1"); code != 0 {
			t.Fatalf("train: exit %d\n%s", code, out)
		}
		cgCode, cgOut := fidCLI(t, bin, "fid", "--model", uncond, "--n", "20", "--sampler", "ddim", "--steps", "2",
			"--guidance", "classifier:1", "--classifier", clf, "--save", "-", "--cache", filepath.Join(dir, "cache"), "--json", clfJSON)
		js, _ := os.ReadFile(clfJSON)
		if cgCode != 0 || !strings.Contains(cgOut, "class accuracy") || !strings.Contains(string(js), "classifier guidance s=1 (noisy classifier "+clf+")") {
			t.Errorf("classifier guidance: exit %d\n%s\n%s", cgCode, cgOut, js)
		}
		// The saved samples measure the same as the model run at N=30.
		code, out2 := fidCLI(t, bin, "fid", "--samples", save, "--cache", filepath.Join(dir, "cache"))
		row := regexp.MustCompile(`\| 30 \| [^|]+ \|`)
		if code != 0 || row.FindString(out) != row.FindString(out2) || row.FindString(out) == "" {
			t.Errorf("--samples of the saved images (exit %d) differs from --model:\n%s\n%s", code, out, out2)
		}
	})
}

// TestEvaluator checks the evaluation of `ddpm run` on real test images with their labels.
func TestEvaluator(t *testing.T) {
	test, err := mnist.EnsureAndLoad(context.Background(), "", mnist.Test, os.Stderr)
	if err != nil {
		t.Skipf("MNIST unavailable: %v", err)
	}
	const n = 500
	var log strings.Builder
	ev, err := app.FIDEvaluator("", nil)(context.Background(), test.Images[:n*fid.ImagePixels], n, test.Labels[:n], &log)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"fid", "fid_floor", "fid_floor_std", "kid", "kid_floor", "score", "confident", "confident_floor", "class_acc"}
	if strings.Join(ev.Names, ",") != strings.Join(want, ",") {
		t.Fatalf("names %v, want %v", ev.Names, want)
	}
	for _, name := range want {
		if v, ok := ev.Metrics[name]; !ok || v != v {
			t.Errorf("metric %s = %v (present %v)", name, v, ok)
		}
	}
	if !strings.Contains(ev.Tool, "mnist-cnn-v1 "+mnistcnn.ShippedHash[:12]+" vs MNIST test (10k)") {
		t.Errorf("tool %q", ev.Tool)
	}
	if ev.Metrics["class_acc"] < 0.98 || ev.Metrics["score"] < 8 || ev.Metrics["confident"] < 0.95 || ev.Metrics["confident_floor"] < 0.95 {
		t.Errorf("real images: %v", ev.Metrics)
	}
	// Unconditional samples: no accuracy.
	ev, err = app.FIDEvaluator("", nil)(context.Background(), test.Images[:n*fid.ImagePixels], n, nil, &log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ev.Metrics["class_acc"]; ok {
		t.Error("class_acc without labels")
	}
	t.Logf("%v; %s", ev.Metrics, ev.Tool)
}
