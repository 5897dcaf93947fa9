package main

import (
	"flag"
	"io"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/internal/testutil"
)

// TestSamplerFlagsDefaultToTheRecipe checks that a sampler flag not given keeps the model recipe's
// setting, a given one overrides it, and the seed offset applies only without --seed.
func TestSamplerFlagsDefaultToTheRecipe(t *testing.T) {
	rs := recipe.Sample{N: 8, Sampler: "ddim", Steps: 50, Eta: 0.5, Variance: "posterior", ClipX0: false, Seed: 7}
	for _, c := range []struct {
		args                []string
		method              string
		steps               int
		eta                 float64
		variance            diffusion.ReverseVariance
		clip                bool
		seed                int64
		guidance, wantError string
	}{
		{nil, "ddim", 50, 0.5, "posterior", false, 7 + 2000, "none", ""},
		{[]string{"--sampler", "ddpm", "--variance", "beta", "--clip"}, "ddpm", 50, 0.5, "beta", true, 2007, "none", ""},
		{[]string{"--steps", "10", "--eta", "0", "--seed", "3", "--guidance", "cfg:2"}, "ddim", 10, 0, "posterior", false, 3, "cfg:2", ""},
		{[]string{"--guidance", "cfg"}, "", 0, 0, "", false, 0, "", "guidance"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sf := addSamplerFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		o, err := sf.options(rs, 2000)
		if c.wantError != "" {
			if err == nil {
				t.Errorf("%v: no error", c.args)
			}
			continue
		}
		if err != nil || o.Method != c.method || o.Steps != c.steps || o.Eta != c.eta || o.Variance != c.variance ||
			o.ClipX0 != c.clip || o.Seed != c.seed || o.Guidance.String() != c.guidance {
			t.Errorf("%v: %+v, %v", c.args, o, err)
		}
	}
}

// TestSamplerFlagsGuidanceFromTheRecipe: a recipe's cfg:W is the default guidance; --guidance
// overrides it (none included); a recipe with a malformed guidance is an error.
func TestSamplerFlagsGuidanceFromTheRecipe(t *testing.T) {
	for _, c := range []struct {
		recipe    string
		args      []string
		want      string
		wantError string
	}{
		{"cfg:2", nil, "cfg:2", ""},
		{"", nil, "none", ""},
		{"none", nil, "none", ""},
		{"cfg:2", []string{"--guidance", "none"}, "none", ""},
		{"cfg:2", []string{"--guidance", "gamma:5"}, "cfg:4", ""},
		{"cfg:x", nil, "", `guidance "cfg:x"`},
		{"classifier:1", nil, "", "want none or cfg:W"},
		{"cfg:-2", nil, "", ">= -1"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sf := addSamplerFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		o, err := sf.options(recipe.Sample{Sampler: "ddim", Steps: 10, Guidance: c.recipe}, 0)
		if c.wantError != "" {
			testutil.WantErr(t, err, c.wantError)
			continue
		}
		if err != nil || o.Guidance.String() != c.want {
			t.Errorf("recipe %q, %v: guidance %s (%v), want %s", c.recipe, c.args, o.Guidance, err, c.want)
		}
	}
}

// TestSamplerFlagsCorrector: the recipe's corrector unless --corrector is given (none when the
// recipe sets none); --snr defaults to the recipe's r, else Song et al.'s 0.16.
func TestSamplerFlagsCorrector(t *testing.T) {
	plain := recipe.Sample{Sampler: "ddpm", Variance: "beta"}
	pc := recipe.Sample{Sampler: "ddpm", Variance: "posterior", Corrector: 2, SNR: 0.1}
	for _, c := range []struct {
		args      []string
		recipe    recipe.Sample
		corrector int
		snr       float64
	}{
		{nil, plain, 0, 0.16},
		{[]string{"--corrector", "2"}, plain, 2, 0.16},
		{[]string{"--corrector", "1", "--snr", "0.05"}, plain, 1, 0.05},
		{nil, pc, 2, 0.1},
		{[]string{"--corrector", "0"}, pc, 0, 0.1},
		{[]string{"--corrector", "3"}, pc, 3, 0.1},
		{[]string{"--snr", "0.2"}, pc, 2, 0.2},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sf := addSamplerFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		o, err := sf.options(c.recipe, 0)
		if err != nil || o.Corrector != c.corrector || o.SNR != c.snr {
			t.Errorf("%v: corrector %d, snr %g, %v; want %d, %g", c.args, o.Corrector, o.SNR, err, c.corrector, c.snr)
		}
	}
}
