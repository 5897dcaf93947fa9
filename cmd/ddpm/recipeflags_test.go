package main

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/recipe"
)

func parseRecipe(t *testing.T, args ...string) (recipe.Recipe, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	recipeFlags(fs, "quick")
	if err := fs.Parse(args); err != nil {
		return recipe.Recipe{}, err
	}
	return resolveRecipe(fs)
}

func TestFlagsOverrideOnlyWhatIsGiven(t *testing.T) {
	r, err := parseRecipe(t, "--recipe", "scorenet", "--epochs", "2", "--channels", "32,32,64,64", "--conditional", "true")
	if err != nil {
		t.Fatal(err)
	}
	if r.Train.Epochs != 2 || r.Net.ScoreNet.Channels != [4]int{32, 32, 64, 64} || r.Net.NumClasses() != 10 || r.Train.BatchSize != 100 || r.Name != "scorenet-cond" {
		t.Errorf("overrides not applied as expected: %+v", r)
	}
}

// --hidden names the run after its width: the seed's recipe at D = 64 is the registered
// assignment1-d64-cond recipe, field for field.
func TestHiddenNamesTheWidth(t *testing.T) {
	for _, args := range [][]string{
		{"--recipe", "assignment1-cond", "--hidden", "64"},
		{"--recipe", "assignment1", "--hidden", "64", "--conditional", "true"},
	} {
		r, err := parseRecipe(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := recipe.Get("assignment1-d64-cond")
		if !reflect.DeepEqual(r, want) {
			t.Errorf("%v: got recipe %s (%s), want %s (%s)", args, r.Name, r.Description, want.Name, want.Description)
		}
	}
}

func TestShorterChainCapsDDIMStepsUnlessGiven(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		wantSteps int
		wantErr   string
	}{
		{[]string{"--recipe", "quick", "--T", "20"}, 20, ""},
		{[]string{"--recipe", "quick", "--T", "100"}, 25, ""},
		{[]string{"--recipe", "quick", "--sampler-steps", "10", "--T", "20"}, 10, ""},
		{[]string{"--recipe", "quick", "--sampler-steps", "30", "--T", "20"}, 0, "ddim steps 30: must be in [1, T=20]"},
	} {
		r, err := parseRecipe(t, tc.args...)
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
		{[]string{"--conditional", "false", "--p-uncond", "0.1"}, "needs a conditional network"},
		{[]string{"--dataset", "cifar"}, `dataset "cifar"`},
		{[]string{"--conditional", "maybe"}, `--conditional "maybe"`},
		{[]string{"--schedule", "sigmoid"}, `unknown kind "sigmoid"`},
		{[]string{"--ema", "1"}, "ema decay 1"},
		{[]string{"--eval-samples", "1"}, "eval samples 1"},
		{[]string{"--sampler", "euler"}, `sampler "euler"`},
	} {
		_, err := parseRecipe(t, tc.args...)
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
		r, err := parseRecipe(t, c.args...)
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
		_, err := parseRecipe(t, c.args...)
		if (err == nil) != c.ok {
			t.Errorf("%v: error %v, want ok=%v", c.args, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "num_classes") {
			t.Errorf("%v: error %q does not name num_classes", c.args, err)
		}
	}
}

// FuzzRecipeFlags feeds arbitrary values to the recipe override flags: resolving them must give a
// valid recipe or an error, never a panic (every value here is reachable from the command line).
func FuzzRecipeFlags(f *testing.F) {
	f.Add("scorenet", "channels", "0,0,0,0", "T", "0")
	f.Add("quick", "classes", "3", "p-uncond", "0.5")
	f.Add("assignment1-d16-cond", "hidden", "-1", "batch", "1")
	f.Add("scorenet-cond", "embed-dim", "1", "lr-decay", "NaN")
	f.Add("quick", "schedule", "cosine", "betaT", "1e308")
	f.Add("quick", "T", "1000000000000", "sampler-steps", "-3")
	f.Fuzz(func(t *testing.T, base, flag1, value1, flag2, value2 string) {
		args := []string{"--recipe", base}
		for _, fv := range [][2]string{{flag1, value1}, {flag2, value2}} {
			if _, known := overrideNames()[fv[0]]; known {
				args = append(args, "--"+fv[0], fv[1])
			}
		}
		r, err := parseRecipe(t, args...)
		if err == nil {
			if verr := r.Validate(); verr != nil {
				t.Fatalf("%v: resolved to an invalid recipe: %v", args, verr)
			}
		}
	})
}

// overrideNames are the override flags (and "conditional").
func overrideNames() map[string]bool {
	names := map[string]bool{"conditional": true}
	for _, o := range overrides {
		names[o.name] = true
	}
	return names
}
