package main

import (
	"flag"
	"io"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
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
