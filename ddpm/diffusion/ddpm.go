package diffusion

import (
	"fmt"
	"math"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
	. "github.com/gomlx/gomlx/core/graph"
)

// ReverseVariance selects σ_t² of the DDPM reverse step p(x_{t−1} | x_t) = N(μ_θ, σ_t² I).
type ReverseVariance string

const (
	// BetaVariance is σ_t² = β_t (Ho et al.'s "fixedlarge", the upper bound).
	BetaVariance ReverseVariance = "beta"
	// PosteriorVariance is σ_t² = β̃_t (Ho et al.'s "fixedsmall", the lower bound).
	PosteriorVariance ReverseVariance = "posterior"
)

// ParseVariance checks a variance name.
func ParseVariance(s string) (ReverseVariance, error) {
	switch v := ReverseVariance(s); v {
	case BetaVariance, PosteriorVariance:
		return v, nil
	}
	return "", fmt.Errorf("unknown DDPM variance %q: want %q (σ²=β_t) or %q (σ²=β̃_t)", s, BetaVariance, PosteriorVariance)
}

// StepVariances is σ_t² of DDPMStep's noise for t = 0..T: β_t or β̃_t, and 0 at t ≤ 1 (no noise is
// added at the last step).
func StepVariances(s *schedule.Schedule, v ReverseVariance) []float64 {
	table := s.Beta
	if v == PosteriorVariance {
		table = s.PosteriorVariance
	}
	out := make([]float64, len(table))
	copy(out[2:], table[2:])
	return out
}

// DDPMStep is one ancestral sampling step from x_t to x_{t−1}:
//
//	x̂_0 = (x_t − √(1−ᾱ_t) ε̂) / √ᾱ_t, optionally clipped to [−1, 1]
//	μ = c0_t·x̂_0 + ct_t·x_t         (the posterior mean of q(x_{t−1} | x_t, x̂_0))
//	x_{t−1} = μ + σ_t·z, with σ_t = 0 at t = 1
//
// Without clipping μ equals Ho et al.'s (x_t − β_t/√(1−ᾱ_t)·ε̂)/√α_t.
//
//   - xt, epsHat, z: [B, H, W, C]; z ~ N(0, I)
//   - t: [B] int32 in 1..T
//   - outputs: x_{t−1} and x̂_0, both [B, H, W, C]
func DDPMStep(s *schedule.Schedule, xt, t, epsHat, z *Node, v ReverseVariance, clip bool) (prev, x0Hat *Node) {
	x0Hat = PredictX0(s, xt, t, epsHat)
	if clip {
		x0Hat = ClipScalar(x0Hat, -1, 1)
	}
	mean := Add(Mul(PerExample(s.PosteriorCoefX0, t, xt), x0Hat), Mul(PerExample(s.PosteriorCoefXt, t, xt), xt))
	sigmas := StepVariances(s, v)
	for i, variance := range sigmas {
		sigmas[i] = sqrt(variance)
	}
	prev = Add(mean, Mul(PerExample(sigmas, t, xt), z))
	return prev, x0Hat
}

func sqrt(x float64) float64 { return math.Sqrt(x) }
