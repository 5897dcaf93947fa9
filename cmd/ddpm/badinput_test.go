package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
)

// TestBadInputs runs the command with each kind of bad input and checks for a clear error (exit
// status 1, a message naming the problem) and no panic.
func TestBadInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := buildDDPM(t)
	tmp := t.TempDir()

	// A tiny trained (unconditional) model to sample from: 2 steps.
	model := filepath.Join(tmp, "model")
	run(t, bin, 0, "train", "--out", model, "--backend", "go", "--channels", "32,32,32,32", "--embed-dim", "32",
		"--train-examples", "64", "--batch", "32", "--epochs", "1", "--T", "20", "--conditional", "false")

	// MNIST copies: one with a bit flipped, one truncated.
	good, err := os.ReadFile(filepath.Join(mnistDir(t), "train-labels-idx1-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := copyMNIST(t, filepath.Join(tmp, "corrupt"), func(name string, data []byte) []byte {
		if name == "train-images-idx3-ubyte" {
			data[5000] ^= 1
		}
		return data
	})
	truncated := copyMNIST(t, filepath.Join(tmp, "truncated"), func(name string, data []byte) []byte {
		if name == "train-labels-idx1-ubyte" {
			return data[:len(good)/2]
		}
		return data
	})
	// A damaged checkpoint: the only one of a copy of the model, with its weights truncated.
	damaged := filepath.Join(tmp, "damaged")
	if out, err := exec.Command("cp", "-r", model, damaged).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	bins, _ := filepath.Glob(filepath.Join(damaged, "checkpoints", "step-*", "checkpoint-*.bin"))
	if len(bins) != 1 {
		t.Fatalf("want one checkpoint .bin in the model copy, got %v", bins)
	}
	if err := os.Truncate(bins[0], 100); err != nil {
		t.Fatal(err)
	}

	train := []string{"train", "--out", filepath.Join(tmp, "t"), "--backend", "go"}
	sample := []string{"sample", "--model", model, "--backend", "go", "--n", "2"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"batch 0", append(train, "--batch", "0"), "batch size 0: must be >= 1"},
		{"negative batch", append(train, "--batch", "-4"), "batch size -4"},
		{"T = 0", append(train, "--T", "0"), "T = 0, must be in [1, 100000]"},
		{"T too large", append(train, "--T", "1000000000000"), "T = 1000000000000, must be in [1, 100000]"},
		{"beta outside (0,1)", append(train, "--beta1", "1.5"), "beta1 = 1.5, must be in (0, 1)"},
		{"beta1 > betaT", append(train, "--beta1", "0.05", "--betaT", "0.02"), "beta1 = 0.05 > beta_t = 0.02"},
		{"unknown recipe", append(train, "--recipe", "imagenet"), `unknown recipe "imagenet"`},
		{"not a number", append(train, "--lr", "fast"), `--lr: not a number: "fast"`},
		{"unwritable output", []string{"train", "--out", "/proc/ddpm-test/run", "--backend", "go"}, "cannot be created"},
		{"checksum mismatch", append(train, "--data", corrupt), "sha256"},
		{"truncated data", append(train, "--data", truncated), "train-labels-idx1-ubyte"},
		{"unknown backend", append(train, "--backend", "tpu9"), `backend "tpu9"`},
		{"missing model", []string{"sample", "--model", filepath.Join(tmp, "none")}, "does not exist (train one with `ddpm train --out"},
		{"existing run", []string{"train", "--out", model, "--backend", "go", "--channels", "32,32,32,32", "--embed-dim", "32"},
			"already holds a checkpoint (step 2): resume it or use another directory: pass --resume"},
		{"classifier guidance without a classifier", append(sample, "--class", "3", "--guidance", "classifier:2"),
			"needs a noisy classifier (package classifier trains one; attach it with Sampler.WithClassifier) (flag --classifier DIR"},
		{"autoguidance without a guide", append(sample, "--guidance", "auto:1"),
			"autoguidance needs a guide model (a weaker model of the same data; attach it with Sampler.WithGuide) (flag --guide DIR"},
		{"missing guide", append(sample, "--guidance", "auto:1", "--guide", filepath.Join(tmp, "none")), "--guide: model directory"},
		{"negative autoguidance", append(sample, "--guidance", "auto:-1", "--guide", model), `guidance "auto:-1": the scale must be a finite number >= 0`},
		{"damaged checkpoint", []string{"sample", "--model", damaged, "--backend", "go"}, "manifest records"},
		{"ddim S = 0", append(sample, "--sampler", "ddim", "--steps", "0"), "S = 0 out of range [1, T=20] (flag --steps)"},
		{"ddim S > T", append(sample, "--sampler", "ddim", "--steps", "21"), "S = 21 out of range [1, T=20]"},
		{"eta < 0", append(sample, "--sampler", "ddim", "--steps", "5", "--eta", "-0.1"), "eta = -0.1"},
		{"corrector < 0", append(sample, "--corrector", "-1"), "corrector steps -1: want 0 (none) to 20 (flag --corrector)"},
		{"snr > 1", append(sample, "--corrector", "1", "--snr", "2"), "signal-to-noise ratio 2: want a number in (0, 1] (Song et al. use 0.16) (flag --snr)"},
		{"unknown class", append(sample, "--class", "12"), `"12" is not a digit class 0..9`},
		{"guidance on an unconditional model", append(sample, "--class", "3", "--guidance", "cfg:2"), "needs a class-conditional model"},
		{"bad guidance", append(sample, "--guidance", "cfg"), `guidance "cfg"`},
		{"unknown sampler", append(sample, "--sampler", "heun"), `unknown sampler "heun"`},
		{"unwritable sample output", append(sample, "--out", "/proc/ddpm-test/x.png"), "cannot write /proc/ddpm-test/x.png"},
		{"n = 0", append(sample, "--n", "0"), "number of samples 0"},
		{"unknown command", []string{"dream"}, `unknown command "dream"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, bin, -1, tc.args...)
			if !strings.Contains(out, tc.want) {
				t.Errorf("ddpm %s\noutput:\n%s\nwant it to contain %q", strings.Join(tc.args, " "), out, tc.want)
			}
		})
	}
	// The guide accepted: the model guided by itself (ε̂ = 2ε − ε: the unguided samples).
	out := run(t, bin, 0, append(sample, "--guidance", "auto:1", "--guide", model, "--out", filepath.Join(tmp, "ag.png"))...)
	if !strings.Contains(out, "guide model ") {
		t.Errorf("sample --guide: no guide model in the output:\n%s", out)
	}
	// A tuned sampler with autoguidance: --tuned attaches its guide (named relative to the file).
	tuned := filepath.Join(tmp, "tuned")
	if out, err := exec.Command("cp", "-r", model, tuned).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(tuned, "sampler.json"),
		[]byte(`{"measured": "m", "autoguidance": {"guide": "../model", "w": 1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out = run(t, bin, 0, "sample", "--model", tuned, "--tuned", "--backend", "go", "--n", "2", "--out", filepath.Join(tmp, "tuned.png"))
	if !strings.Contains(out, "guide model "+filepath.Join(tmp, "model")) {
		t.Errorf("sample --tuned with autoguidance: the guide was not attached:\n%s", out)
	}
}

// run executes the command; wantCode >= 0 requires that exit status, -1 requires a failure
// (status 1 or 2) without a panic. It returns the combined output.
func run(t *testing.T, bin string, wantCode int, args ...string) string {
	t.Helper()
	code, s := runCommand(t, bin, "", args...)
	switch {
	case wantCode >= 0 && code != wantCode:
		t.Fatalf("ddpm %s: exit status %d, want %d\n%s", strings.Join(args, " "), code, wantCode, s)
	case wantCode < 0 && code != 1 && code != 2:
		t.Fatalf("ddpm %s: exit status %d, want a failure\n%s", strings.Join(args, " "), code, s)
	}
	return s
}

// runCommand executes bin with args and $GOMLX_BACKEND set to backend, fails t if it could not
// run or panicked, and returns its exit status and combined output.
func runCommand(t *testing.T, bin, backend string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GOMLX_BACKEND="+backend)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
		t.Fatalf("ddpm %s panicked:\n%s", strings.Join(args, " "), s)
	}
	return code, s
}

// mnistDir makes sure MNIST is in the default data directory and returns it.
func mnistDir(t *testing.T) string {
	t.Helper()
	run(t, buildDDPM(t), 0, "fetch")
	return mnist.Dir("")
}

// copyMNIST copies the four MNIST files into dir, passing each through edit.
func copyMNIST(t *testing.T, dir string, edit func(name string, data []byte) []byte) string {
	t.Helper()
	src := mnistDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), edit(name, data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
