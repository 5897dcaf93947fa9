package app_test

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
)

// TestSampleOptions: every sampling setting of a recipe reaches the sampler's options.
func TestSampleOptions(t *testing.T) {
	s := recipe.Sample{N: 8, Sampler: "ddim", Steps: 50, Eta: 0.5, Variance: "posterior", ClipX0: true, Seed: 7,
		Guidance: "cfg:2", Corrector: 2, SNR: 0.16}
	got, err := app.SampleOptions(s)
	want := sampler.Options{Method: "ddim", Steps: 50, Eta: 0.5, Variance: diffusion.ReverseVariance("posterior"),
		ClipX0: true, Seed: 7, Guidance: sampler.Guidance{Kind: "cfg", Scale: 2}, Corrector: 2, SNR: 0.16}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("SampleOptions(%+v) = %+v, %v; want %+v", s, got, err, want)
	}
	if _, err := app.SampleOptions(recipe.Sample{Sampler: "ddpm", Variance: "beta", Guidance: "cfg:x"}); err == nil {
		t.Error("guidance cfg:x accepted")
	}
}

// TestSetPrior: "standard" is N(0, I) (no prior), an unknown name is refused naming it and the
// choices; "data" is tested in package diffusion (FitPrior) and sampler (Options.Prior).
func TestSetPrior(t *testing.T) {
	o := sampler.Options{Prior: &diffusion.Prior{}}
	if err := app.SetPrior(context.Background(), &o, "standard", nil, "", false, io.Discard); err != nil || o.Prior != nil {
		t.Errorf("standard: prior %v, error %v; want none", o.Prior, err)
	}
	err := app.SetPrior(context.Background(), &o, "gauss", nil, "", false, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `prior "gauss"`) || !strings.Contains(err.Error(), "standard") {
		t.Errorf("unknown prior: %v, want an error naming it and the choices", err)
	}
}
