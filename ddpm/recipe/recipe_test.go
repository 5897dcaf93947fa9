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
	// Seed 000 (outline §5-§7): T=300, β 1e-4→0.02, batch 64, 20 epochs, Adam 1e-3 with
	// ExponentialLR(0.1^(1/20)) per epoch, no EMA, label dropout 0.1, the U-Net at D=128, DDPM
	// sampling with σ²=β and no clipping.
	for _, name := range []string{"assignment1", "assignment1-cond", "assignment1-d16", "assignment1-d16-cond"} {
		a, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		wantD, wantClasses, wantPUncond := 128, 0, 0.0
		if strings.Contains(name, "-d16") {
			wantD = 16
		}
		if strings.HasSuffix(name, "-cond") {
			wantClasses, wantPUncond = 10, 0.1
		}
		if a.Schedule.Steps != 300 || a.Schedule.Beta1 != 1e-4 || a.Schedule.BetaT != 0.02 || a.Train.Epochs != 20 ||
			a.Train.BatchSize != 64 || a.Train.LR != 1e-3 || a.Train.EMADecay != 0 || a.Train.Seed != 180 ||
			a.Net.Arch != "unet" || a.Net.UNet.Hidden != wantD || a.Net.UNet.UpKernel != 4 ||
			a.Net.NumClasses() != wantClasses || a.Train.PUncond != wantPUncond ||
			a.Sample.Sampler != "ddpm" || a.Sample.Variance != "beta" || a.Sample.ClipX0 {
			t.Errorf("%s recipe drifted from seed 000: %+v", name, a)
		}
		for epoch, want := range map[int]float64{0: 1e-3, 10: 1e-3 * math.Sqrt(0.1), 19: 1e-3 * math.Pow(0.1, 0.95), 20: 1e-4} {
			if got := a.Train.LearningRate(epoch); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: learning rate at epoch %d = %g, want %g", name, epoch, got, want)
			}
		}
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
	if r.Train.Epochs != 2 || r.Net.ScoreNet.Channels != [4]int{32, 32, 64, 64} || r.Net.NumClasses() != 10 || r.Train.BatchSize != 100 || r.Name != "scorenet-cond" {
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

// TestNetworkFlagsMatchTheArch checks that a network flag of the other architecture is an error
// naming it, and that --hidden sets the U-Net's width.
func TestNetworkFlagsMatchTheArch(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // error substring; "" = ok
	}{
		{[]string{"--recipe", "assignment1-cond", "--hidden", "24"}, ""},
		{[]string{"--recipe", "assignment1", "--channels", "8,8,8,8"}, "applies to the scorenet network"},
		{[]string{"--recipe", "scorenet", "--hidden", "8"}, "applies to the unet network"},
		{[]string{"--recipe", "assignment1", "--hidden", "0"}, "hidden = 0"},
	} {
		r, err := parse(t, c.args...)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.args, err)
		case c.want == "" && r.Net.UNet.Hidden != 24:
			t.Errorf("%v: hidden %d", c.args, r.Net.UNet.Hidden)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}

// TestClassCountMatchesTheData checks that a conditional network must have the datasets' 10
// classes: with fewer, labels 5..9 would fall into the "no class" slot or beyond the table.
func TestClassCountMatchesTheData(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--recipe", "scorenet", "--classes", "10"}, true},
		{[]string{"--recipe", "scorenet", "--classes", "0"}, true},
		{[]string{"--recipe", "scorenet-cond", "--classes", "5"}, false},
		{[]string{"--recipe", "assignment1-d16-cond", "--classes", "12"}, false},
	} {
		_, err := parse(t, c.args...)
		if (err == nil) != c.ok {
			t.Errorf("%v: error %v, want ok=%v", c.args, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "num_classes") {
			t.Errorf("%v: error %q does not name num_classes", c.args, err)
		}
	}
}
