package sampler

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/rng"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/internal/testutil"
)

// TestPriorStartsTheChain: with Options.Prior the chain starts from the prior's draw of the same
// noise (x_T = m + L ε, per class for requested labels), reproducibly; a prior fitted for another
// schedule is refused, naming the field.
func TestPriorStartsTheChain(t *testing.T) {
	m, store := tinyModel(10, 6) // ᾱ_T = 0.74: the prior differs much from N(0, I)
	s := New(testutil.GoBackend(t), store, m)
	r := rand.New(rand.NewPCG(7, 7))
	images := make([]float32, 40*Pixels)
	labels := make([]int, 40)
	for i := range images {
		images[i] = float32(2*r.Float64() - 1)
		if i%Pixels < 100 {
			images[i] = -1 // a black border, as in MNIST
		}
	}
	for i := range labels {
		labels[i] = i % 2
		for j := range 50 { // class 1 has ink in pixels 300..349
			images[i*Pixels+300+j] = float32(labels[i])
		}
	}
	prior, err := diffusion.FitPrior(m.Schedule, images, Pixels, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := []int{0, 1, 5} // 5: no fitted class, q(x_T)
	plain := Options{Method: "ddim", Steps: 3, ClipX0: true, Seed: 4, Record: []int{6}}
	withPrior := plain
	withPrior.Prior = prior
	a, b, c := mustSample(t, s, 3, want, plain), mustSample(t, s, 3, want, withPrior), mustSample(t, s, 3, want, withPrior)
	xT := slices.Clone(a.Frames[0].X)
	if err := prior.Apply(xT, want); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Frames[0].X, xT) {
		t.Error("x_T with the prior is not the prior's draw of the plain sampler's noise")
	}
	if slices.Equal(a.Images, b.Images) {
		t.Error("the prior did not change the samples")
	}
	if !slices.Equal(b.Images, c.Images) {
		t.Error("same seed and prior, different samples")
	}
	if got := withPrior.String(); !strings.Contains(got, "Gaussian fit of q(x_T ∣ y)") {
		t.Errorf("options read %q, want the prior named", got)
	}

	other := withPrior
	other.Prior, err = diffusion.FitPrior(schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 6, Beta1: 1e-4, BetaT: 0.2}),
		images, Pixels, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Sample(ctx, 3, want, other, nil)
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Field != "Prior" || !strings.Contains(err.Error(), "ᾱ_T") {
		t.Errorf("a prior of another schedule: %v, want an OptionError on Prior naming ᾱ_T", err)
	}
}

// TestMixturePriorStartsTheChain: an unconditional model sampled with a mixture prior starts each
// chunk from the prior's draw of the plain noise, with classes drawn from the chunk's
// rng.PriorMixture stream (the network is given none); the same seed gives the same samples, and
// they differ from those of the one-Gaussian prior.
func TestMixturePriorStartsTheChain(t *testing.T) {
	m, store := tinyModel(0, 6)
	s := New(testutil.GoBackend(t), store, m)
	r := rand.New(rand.NewPCG(8, 8))
	images := make([]float32, 40*Pixels)
	labels := make([]int, 40)
	for i := range labels {
		labels[i] = i % 2
		for j := range Pixels {
			images[i*Pixels+j] = float32(0.3*r.NormFloat64() - 0.5 + float64(labels[i])*float64(j%2))
		}
	}
	single, err := diffusion.FitPrior(m.Schedule, images, Pixels, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	mixture := *single
	mixture.Mixture = true
	const n, seed = 5, 11
	plain := Options{Method: "ddim", Steps: 3, ClipX0: true, Seed: seed, Record: []int{6}}
	withSingle, withMixture := plain, plain
	withSingle.Prior, withMixture.Prior = single, &mixture
	a, b, c, d := mustSample(t, s, n, nil, plain), mustSample(t, s, n, nil, withMixture), mustSample(t, s, n, nil, withMixture),
		mustSample(t, s, n, nil, withSingle)
	classes, err := mixture.DrawClasses(rand.New(rng.PCG(seed, rng.PriorMixture, 0)), n)
	if err != nil {
		t.Fatal(err)
	}
	xT := slices.Clone(a.Frames[0].X)
	if err := mixture.Apply(xT, classes); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Frames[0].X, xT) {
		t.Errorf("x_T with the mixture prior is not its draw of the plain noise for the classes %v", classes)
	}
	if !slices.Equal(b.Images, c.Images) {
		t.Error("same seed and mixture prior, different samples")
	}
	if slices.Equal(b.Images, d.Images) {
		t.Error("the mixture prior gave the samples of the one-Gaussian prior")
	}
	if b.Labels != nil {
		t.Errorf("an unconditional model's samples got labels %v", b.Labels)
	}
}

// mustSample draws n samples, failing t on error.
func mustSample(t *testing.T, s *Sampler, n int, labels []int, o Options) *Result {
	t.Helper()
	res, err := s.Sample(context.Background(), n, labels, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
