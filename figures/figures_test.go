package figures

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/recipe"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"quick": Quick, "full": Full, " Full ": Full} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("fast"); err == nil {
		t.Error("ParseMode(fast): no error")
	}
}

func TestRecipes(t *testing.T) {
	for _, mode := range []Mode{Quick, Full} {
		for _, name := range Models() {
			r, err := Recipe(name, mode)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, mode, err)
			}
			if r.Train.KeepCheckpoints <= r.Train.Epochs || r.Train.CheckpointEvery != 0 {
				t.Errorf("%s/%s: every epoch's checkpoint must be kept (keep %d, epochs %d, every %d)", name, mode,
					r.Train.KeepCheckpoints, r.Train.Epochs, r.Train.CheckpointEvery)
			}
			full, _ := Recipe(name, Full)
			if r.Schedule != full.Schedule || r.Train.Seed != full.Train.Seed || r.Net.NumClasses() != full.Net.NumClasses() {
				t.Errorf("%s/%s: quick mode must keep the seed's schedule, seed and conditioning", name, mode)
			}
		}
	}
	if _, err := Recipe("nope", Quick); err == nil {
		t.Error("unknown model: no error")
	}
}

func TestSteps(t *testing.T) {
	if got, want := Steps(1000, 11), []int{0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}; !slices.Equal(got, want) {
		t.Errorf("Steps(1000, 11) = %v, want %v", got, want)
	}
}

// tinyEnv is the quick mode shrunk to seconds: 4 training steps per model, a handful of samples.
func tinyEnv(t *testing.T, dir string) *Env {
	e, err := NewEnv(Quick, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e.Adjust = func(r *recipe.Recipe) {
		r.Train.TrainExamples, r.Train.BatchSize, r.Train.Epochs, r.Train.KeepCheckpoints = 64, 32, 2, 3
	}
	s := &e.Settings
	s.Sample.Steps, s.Eval.Steps = 3, 2
	s.EvalN, s.GridN, s.TrajectoryFrames = 20, 16, 4
	s.GuidanceSweep = []float64{0, 2}
	e.RunsDir = filepath.Join(dir, "runs")
	return e
}

// TestGenerateByteIdentical runs the figures command twice from scratch (training included) with
// the same seeds and checks that every expected file is written and byte-identical.
func TestGenerateByteIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two tiny models twice")
	}
	ctx := context.Background()
	var outs [2]string
	for i := range outs {
		dir := t.TempDir()
		outs[i] = filepath.Join(dir, "figures")
		start := time.Now()
		written, err := Generate(ctx, tinyEnv(t, dir), outs[i])
		if errors.Is(err, ErrNoEvaluation) {
			t.Fatalf("the FID feature network is missing (ship fid/mnistcnn/weights, or set %s to a `ddpm fid-train` "+
				"output): %v", FIDWeightsEnv, err)
		}
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if !slices.Equal(written, ExpectedFiles()) {
			t.Errorf("run %d wrote %v, want %v", i+1, written, ExpectedFiles())
		}
		t.Logf("run %d: %d files in %s", i+1, len(written), time.Since(start).Round(time.Millisecond))
	}
	for _, name := range ExpectedFiles() {
		a, errA := os.ReadFile(filepath.Join(outs[0], name))
		b, errB := os.ReadFile(filepath.Join(outs[1], name))
		if errA != nil || errB != nil {
			t.Errorf("%s: %v %v", name, errA, errB)
			continue
		}
		if len(a) == 0 {
			t.Errorf("%s is empty", name)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seeds (%d and %d bytes)", name, len(a), len(b))
		}
	}
}

// TestEpochPlotSettings: FID-against-epoch curves evaluated at another N or with another sampler
// do not share a title that names one of them; equal settings are named in the title once.
func TestEpochPlotSettings(t *testing.T) {
	a := []Eval{{Model: "a", Epoch: 1, N: 500, Sampler: "ddim, 50 steps", FID: 900, FIDFloor: 54}, {Model: "a", Epoch: 2, N: 500, Sampler: "ddim, 50 steps", FID: 700, FIDFloor: 54}}
	b := []Eval{{Model: "b", Epoch: 1, N: 200, Sampler: "ddim, 10 steps", FID: 800, FIDFloor: 124}}
	same := []Eval{{Model: "c", Epoch: 1, N: 500, Sampler: "ddim, 50 steps", FID: 600, FIDFloor: 54}}
	for _, tc := range []struct {
		name  string
		evals [][]Eval
		mixed bool
		title string
	}{
		{"mixed N and sampler", [][]Eval{a, b}, true, "FID against epoch"},
		{"same settings", [][]Eval{a, same}, false, "FID against epoch (N=500, ddim, 50 steps)"},
		{"one series, empty other", [][]Eval{a, nil}, false, "FID against epoch (N=500, ddim, 50 steps)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mixedSettings(tc.evals...); got != tc.mixed {
				t.Errorf("mixedSettings = %v, want %v", got, tc.mixed)
			}
			p, err := MetricPlot(epochTitle("FID", tc.evals...), "FID", func(v Eval) float64 { return v.FID },
				func(v Eval) float64 { return v.FIDFloor }, tc.evals...)
			if err != nil {
				t.Fatal(err)
			}
			if p.Title.Text != tc.title {
				t.Errorf("title %q, want %q", p.Title.Text, tc.title)
			}
		})
	}
}

// TestTrainAsRecipe: Train lets a model shipped under the full recipe's name stand for the quick
// one; TrainAsRecipe does not (it trains this mode's recipe), so that a comparison of two recipes
// runs both at the same budget.
func TestTrainAsRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny model")
	}
	ctx := context.Background()
	dir := t.TempDir()
	e := tinyEnv(t, dir)
	e.Root = dir
	trained, err := e.Train(ctx, ScoreNet)
	if err != nil {
		t.Fatal(err)
	}
	if trained.Shipped {
		t.Fatal("nothing is shipped under a temporary root, yet Train loaded a shipped model")
	}
	// Ship that run under the full recipe's name: it now stands for scorenet in quick mode.
	if err := os.MkdirAll(filepath.Join(dir, ShippedDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(trained.Dir, filepath.Join(dir, ShippedDir, ScoreNet)); err != nil {
		t.Fatal(err)
	}
	e = tinyEnv(t, dir)
	e.Root = dir
	sub, err := e.Train(ctx, ScoreNet)
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Shipped || sub.Stale == "" {
		t.Errorf("Train: shipped %v, stale %q; want the shipped substitute, marked stale", sub.Shipped, sub.Stale)
	}
	own, err := e.TrainAsRecipe(ctx, ScoreNet)
	if err != nil {
		t.Fatal(err)
	}
	if own.Shipped || own.Dir != filepath.Join(e.RunsDir, ScoreNet+"-quick") {
		t.Errorf("TrainAsRecipe: shipped %v, dir %s; want this mode's recipe trained in %s", own.Shipped, own.Dir, e.RunsDir)
	}
	if again, _ := e.Train(ctx, ScoreNet); again != sub {
		t.Error("Train after TrainAsRecipe: the cache returned another model")
	}
}
