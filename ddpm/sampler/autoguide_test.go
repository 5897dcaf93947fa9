package sampler

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/gomlx/ml/model"
)

// initialisedModel is tinyModel with its weights created (by one sampling call) from seed.
func initialisedModel(t *testing.T, classes, T int, seed int64) (*diffusion.Model, *model.Store) {
	t.Helper()
	m, store := tinyModel(classes, T)
	store.SetParam(model.ParamInitialSeed, seed)
	if _, err := New(testutil.GoBackend(t), store, m).Sample(context.Background(), 1, nil,
		Options{Method: "ddim", Steps: 1, Seed: 1}, nil); err != nil {
		t.Fatal(err)
	}
	return m, store
}

// TestAutoguidance checks ε̂ = (1+w)·ε_model − w·ε_guide against an independent computation: a
// deterministic DDIM chain (η = 0, no clipping) run here in float64 from the sampler's own x_T, with
// ε_model and ε_guide from separate calls of the two networks on their own stores. w = 0 must equal
// unguided sampling bit for bit; w = 2 must follow the guided chain, which is far from it.
func TestAutoguidance(t *testing.T) {
	const T, b = 6, 3
	m, store := initialisedModel(t, 0, T, 5)
	g, guideStore := initialisedModel(t, 0, T, 9)
	backend := testutil.GoBackend(t)
	s := New(backend, store, m)
	if err := s.WithGuide(g, guideStore); err != nil {
		t.Fatal(err)
	}
	ddim := Options{Method: "ddim", Steps: 3, Eta: 0, ClipX0: false, Seed: 2, Record: []int{T}}
	sample := func(o Options) *Result {
		t.Helper()
		r, err := s.Sample(context.Background(), b, nil, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	plain := sample(ddim)
	xT := plain.Frames[0].X
	epsOf := func(mm *diffusion.Model, st *model.Store) func(x []float64, step int) []float64 {
		eps := hostEpsilon(t, backend, mm, st, b)
		return func(x []float64, step int) []float64 { return eps(x, step, nil) }
	}
	epsModel, epsGuide := epsOf(m, store), epsOf(g, guideStore)
	steps, err := diffusion.DDIMTimesteps(T, ddim.Steps)
	if err != nil {
		t.Fatal(err)
	}
	reference := func(w float64) []float64 {
		return guidedDDIMReference(m.Schedule.AlphaBar, steps, xT, w, epsModel, epsGuide)
	}
	const tol = 1e-4
	ref0, ref2 := reference(0), reference(2)
	if d := maxRelDiff(plain.Images, ref0); d > tol {
		t.Fatalf("unguided chain: max relative difference %g from the reference", d)
	}
	var apart float64
	for i := range ref0 {
		apart = max(apart, math.Abs(ref2[i]-ref0[i])/(1+math.Abs(ref0[i])))
	}
	if apart < 100*tol {
		t.Fatalf("w = 2 moves the reference chain by only %g: the test could not tell w = 0 from w = 2", apart)
	}
	auto := ddim
	auto.Guidance = Guidance{Kind: "auto", Scale: 2}
	if d := maxRelDiff(sample(auto).Images, ref2); d > tol {
		t.Errorf("autoguidance w = 2: max relative difference %g from the reference chain", d)
	}
	auto.Guidance.Scale = 0
	if !slices.Equal(sample(auto).Images, plain.Images) {
		t.Error("autoguidance w = 0 differs from unguided sampling")
	}
	// DDPM with the corrector: the guide runs in every network call; same seed, same samples.
	pc := Options{Method: "ddpm", Variance: diffusion.PosteriorVariance, ClipX0: true, Seed: 4, Corrector: 1, SNR: 0.16,
		Guidance: Guidance{Kind: "auto", Scale: 1}}
	a, b2 := sample(pc), sample(pc)
	if !slices.Equal(a.Images, b2.Images) {
		t.Error("autoguided predictor–corrector sampling is not deterministic")
	}
	pc.Guidance.Scale = 0
	if slices.Equal(a.Images, sample(pc).Images) {
		t.Error("autoguidance w = 1 gave the unguided predictor–corrector samples")
	}
}

func TestAutoguidanceErrors(t *testing.T) {
	const T = 6
	m, store := tinyModel(0, T)
	backend := testutil.GoBackend(t)
	s := New(backend, store, m)
	auto := Options{Method: "ddpm", Variance: diffusion.BetaVariance, Guidance: Guidance{Kind: "auto", Scale: 1}}
	_, err := s.Sample(context.Background(), 1, nil, auto, nil)
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Field != "guide" || !errors.Is(err, ErrNoGuide) {
		t.Errorf("autoguidance without a guide: err = %v, want an OptionError on guide wrapping ErrNoGuide", err)
	}
	g, guideStore := initialisedModel(t, 0, T, 9)
	other := *g
	other.Schedule = schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: T, Beta1: 1e-4, BetaT: 0.02})
	longer := *g
	longer.Schedule = schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: T + 1, Beta1: 1e-4, BetaT: 0.1})
	cond, condStore := initialisedModel(t, 10, T, 9)
	for _, tc := range []struct {
		name    string
		g       *diffusion.Model
		weights *model.Store
		want    string
	}{
		{"other β", &other, guideStore, "differs from the model's"},
		{"other T", &longer, guideStore, "T = 7 diffusion steps"},
		{"conditional guide", cond, condStore, "conditional = true, the model's = false"},
		{"no weights", g, nil, "no weights"},
		{"empty store", g, model.NewStore(), "no weights under /model"},
	} {
		if err := s.WithGuide(tc.g, tc.weights); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: WithGuide err = %v, want it to contain %q", tc.name, err, tc.want)
		}
		if s.GuideModel() != nil {
			t.Errorf("%s: a refused guide was attached", tc.name)
		}
	}
	for in, ok := range map[string]bool{"auto:2": true, "auto:0": true, "auto:-0.5": false, "auto:NaN": false, "auto": false} {
		g, err := ParseGuidance(in)
		if (err == nil) != ok || (ok && (g.Kind != "auto" || g.String() != in)) {
			t.Errorf("ParseGuidance(%q) = %+v, %v (want accepted: %v)", in, g, err, ok)
		}
	}
	if got := (Options{Method: "ddpm", Variance: "posterior", Guidance: Guidance{Kind: "auto", Scale: 1.5}}).String(); !strings.Contains(got, "autoguidance w=1.5") {
		t.Errorf("Options.String() = %q, want it to name the autoguidance weight", got)
	}
}
