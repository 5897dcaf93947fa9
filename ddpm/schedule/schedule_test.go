package schedule

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func near(t *testing.T, what string, got, want, relTol float64) {
	t.Helper()
	if d := math.Abs(got-want) / math.Max(math.Abs(want), 1e-300); d > relTol || math.IsNaN(got) {
		t.Errorf("%s = %.17g, want %.17g (rel. diff %.3g > %.1g)", what, got, want, d, relTol)
	}
}

// The two seed settings and a cosine schedule, checked against closed forms in float64.
func TestLinearClosedForms(t *testing.T) {
	for _, c := range []Config{
		{Kind: Linear, Steps: 1000, Beta1: 1e-4, BetaT: 0.02},
		{Kind: Linear, Steps: 200, Beta1: 1e-4, BetaT: 0.1},
	} {
		s := MustNew(c)
		near(t, c.String()+" β₁", s.Beta[1], c.Beta1, 1e-15)
		near(t, c.String()+" β_T", s.Beta[c.Steps], c.BetaT, 1e-15)
		// Linear steps are equal.
		d := (c.BetaT - c.Beta1) / float64(c.Steps-1)
		for i := 2; i <= c.Steps; i++ {
			near(t, "Δβ", s.Beta[i]-s.Beta[i-1], d, 1e-9)
		}
		// ᾱ_T = exp(Σ log(1-β_t)), computed independently with log1p.
		var logSum float64
		for i := 1; i <= c.Steps; i++ {
			logSum += math.Log1p(-(c.Beta1 + d*float64(i-1)))
		}
		near(t, c.String()+" ᾱ_T", s.AlphaBar[c.Steps], math.Exp(logSum), 1e-12)
		for _, i := range []int{1, 2, c.Steps / 2, c.Steps} {
			near(t, "√ᾱ²", s.SqrtAlphaBar[i]*s.SqrtAlphaBar[i], s.AlphaBar[i], 1e-14)
			near(t, "√(1-ᾱ)²", s.SqrtOneMinusAlphaBar[i]*s.SqrtOneMinusAlphaBar[i], 1-s.AlphaBar[i], 1e-13)
		}
	}
}

// The posterior q(x_{t-1}|x_t,x_0) must be consistent with the forward marginals: taking
// x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, the mean c0 x_0 + ct x_t and variance β̃_t + ct²(1-ᾱ_t) of x_{t-1}
// (marginalising x_t) must equal the marginal √ᾱ_{t-1} x_0 and 1-ᾱ_{t-1}.
func TestPosteriorConsistentWithMarginals(t *testing.T) {
	for _, c := range []Config{
		{Kind: Linear, Steps: 1000, Beta1: 1e-4, BetaT: 0.02},
		{Kind: Linear, Steps: 200, Beta1: 1e-4, BetaT: 0.1},
		{Kind: Cosine, Steps: 1000},
	} {
		s := MustNew(c)
		for i := 2; i <= s.T; i++ {
			mean := s.PosteriorCoefX0[i] + s.PosteriorCoefXt[i]*s.SqrtAlphaBar[i]
			near(t, c.String()+" posterior mean", mean, s.SqrtAlphaBar[i-1], 1e-12)
			variance := s.PosteriorVariance[i] + s.PosteriorCoefXt[i]*s.PosteriorCoefXt[i]*(1-s.AlphaBar[i])
			near(t, c.String()+" posterior variance", variance, 1-s.AlphaBar[i-1], 1e-10)
		}
		if s.PosteriorVariance[1] != 0 {
			t.Errorf("β̃₁ = %g, want 0 (x_0 is deterministic given x_1 and x_0)", s.PosteriorVariance[1])
		}
	}
}

func TestCosineClosedForm(t *testing.T) {
	s := MustNew(Config{Kind: Cosine, Steps: 1000})
	f := func(t float64) float64 {
		v := math.Cos((t/1000 + 0.008) / 1.008 * math.Pi / 2)
		return v * v
	}
	for _, i := range []int{1, 10, 500, 900} {
		near(t, "cosine ᾱ", s.AlphaBar[i], f(float64(i))/f(0), 1e-12)
	}
	if s.Beta[1000] != MaxCosineBeta {
		t.Errorf("β_T = %g, want the clip %g", s.Beta[1000], MaxCosineBeta)
	}
	for i := 1; i <= s.T; i++ {
		if !(s.Beta[i] > 0 && s.Beta[i] <= MaxCosineBeta) {
			t.Fatalf("β_%d = %g out of (0, %g]", i, s.Beta[i], MaxCosineBeta)
		}
	}
}

func TestInvalidConfigs(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Kind: Linear, Steps: 0, Beta1: 1e-4, BetaT: 0.02}, "T = 0"},
		{Config{Kind: Linear, Steps: -5, Beta1: 1e-4, BetaT: 0.02}, "T = -5"},
		{Config{Kind: Linear, Steps: 10, Beta1: 0, BetaT: 0.02}, "beta1 = 0"},
		{Config{Kind: Linear, Steps: 10, Beta1: 1e-4, BetaT: 1}, "beta_t = 1"},
		{Config{Kind: Linear, Steps: 10, Beta1: -1e-4, BetaT: 0.02}, "beta1 = -0.0001"},
		{Config{Kind: Linear, Steps: 10, Beta1: math.NaN(), BetaT: 0.02}, "beta1 = NaN"},
		{Config{Kind: Linear, Steps: 10, Beta1: 0.03, BetaT: 0.02}, "beta1 = 0.03 > beta_t = 0.02"},
		{Config{Kind: "quadratic", Steps: 10}, `unknown kind "quadratic"`},
		{Config{Kind: Cosine, Steps: 10, Offset: -1}, "offset s = -1"},
	} {
		_, err := New(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%+v) error = %v, want one containing %q wrapping ErrInvalid", tc.c, err, tc.want)
		}
	}
	if _, err := New(Config{Kind: Linear, Steps: 1, Beta1: 0.5, BetaT: 0.5}); err != nil {
		t.Errorf("T = 1 with β₁ = β_T is valid, got %v", err)
	}
}
