package recipe

import (
	"flag"
	"io"
	"math"
	"strings"
	"testing"
)

func TestRecipesAreValid(t *testing.T) {
	for _, name := range Names() {
		r, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("recipe %s: %v", name, err)
		}
	}
	s, _ := Get("scorenet")
	if s.Schedule.Steps != 200 || s.Schedule.BetaT != 0.1 || s.Train.BatchSize != 100 || s.Train.LR != 0.01 || s.Train.Epochs != 60 {
		t.Errorf("scorenet recipe drifted from seed 003: %+v", s)
	}
	a, _ := Get("assignment1")
	if a.Schedule.Steps != 1000 || a.Schedule.BetaT != 0.02 || a.Train.Epochs != 20 {
		t.Errorf("assignment1 recipe drifted from seed 000: %+v", a)
	}
	if math.Abs(s.Train.LearningRate(0)-0.01) > 1e-15 || math.Abs(s.Train.LearningRate(200)-0.002) > 1e-15 {
		t.Errorf("scorenet lr schedule: epoch 0 %g, epoch 200 %g", s.Train.LearningRate(0), s.Train.LearningRate(200))
	}
}

func parse(t *testing.T, args ...string) (Recipe, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	Flags(fs, "quick")
	if err := fs.Parse(args); err != nil {
		return Recipe{}, err
	}
	return Resolve(fs)
}

func TestFlagsOverrideOnlyWhatIsGiven(t *testing.T) {
	r, err := parse(t, "--recipe", "scorenet", "--epochs", "2", "--channels", "32,32,64,64", "--conditional", "true")
	if err != nil {
		t.Fatal(err)
	}
	if r.Train.Epochs != 2 || r.Net.Channels != [4]int{32, 32, 64, 64} || r.Net.NumClasses != 10 || r.Train.BatchSize != 100 || r.Name != "scorenet-cond" {
		t.Errorf("overrides not applied as expected: %+v", r)
	}
}

func TestShorterChainCapsDDIMStepsUnlessGiven(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		wantSteps int
		wantErr   string
	}{
		{[]string{"--recipe", "quick", "--T", "20"}, 20, ""},
		{[]string{"--recipe", "quick", "--T", "100"}, 50, ""},
		{[]string{"--recipe", "quick", "--sampler-steps", "10", "--T", "20"}, 10, ""},
		{[]string{"--recipe", "quick", "--sampler-steps", "30", "--T", "20"}, 0, "ddim steps 30: must be in [1, T=20]"},
	} {
		r, err := parse(t, tc.args...)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: err = %v, want it to contain %q", tc.args, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case r.Sample.Steps != tc.wantSteps:
			t.Errorf("%v: DDIM steps %d, want %d", tc.args, r.Sample.Steps, tc.wantSteps)
		}
	}
}

func TestInvalidInputsAreClearErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--recipe", "huge"}, `unknown recipe "huge"`},
		{[]string{"--batch", "0"}, "batch size 0: must be >= 1"},
		{[]string{"--batch", "-3"}, "batch size -3"},
		{[]string{"--batch", "x"}, `--batch: not an integer: "x"`},
		{[]string{"--T", "0"}, "T = 0"},
		{[]string{"--beta1", "1.5"}, "beta1 = 1.5"},
		{[]string{"--beta1", "0.05", "--betaT", "0.02"}, "beta1 = 0.05 > beta_t = 0.02"},
		{[]string{"--lr", "-1"}, "learning rate -1"},
		{[]string{"--epochs", "0"}, "epochs 0"},
		{[]string{"--channels", "32,64"}, "want 4 comma-separated integers"},
		{[]string{"--channels", "30,32,64,64"}, "not divisible"},
		{[]string{"--p-uncond", "0.1"}, "needs a conditional network"},
		{[]string{"--dataset", "cifar"}, `dataset "cifar"`},
		{[]string{"--conditional", "maybe"}, `--conditional "maybe"`},
		{[]string{"--schedule", "sigmoid"}, `unknown kind "sigmoid"`},
		{[]string{"--ema", "1"}, "ema decay 1"},
		{[]string{"--eval-samples", "1"}, "eval samples 1"},
		{[]string{"--sampler", "euler"}, `sampler "euler"`},
	} {
		_, err := parse(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
}
