package app_test

import (
	"reflect"
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
