package diffusion

import (
	"fmt"
	"math"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
	. "github.com/gomlx/gomlx/core/graph"
)

// DDIMTimesteps returns the S diffusion steps a DDIM sampler visits, in decreasing order:
// τ_i = round(i·T/S) for i = S, S−1, ..., 1 (uniform spacing that always starts at T; with S = T
// it is every step). Each step goes from τ_i to τ_{i−1}, with τ_0 = 0 (ᾱ_0 = 1, clean data).
func DDIMTimesteps(T, S int) ([]int, error) {
	if S < 1 || S > T {
		return nil, fmt.Errorf("DDIM steps S = %d out of range [1, T=%d]", S, T)
	}
	steps := make([]int, S)
	for i := S; i >= 1; i-- {
		steps[S-i] = int(math.Round(float64(i) * float64(T) / float64(S)))
	}
	return steps, nil
}

// CheckEta validates DDIM's η.
func CheckEta(eta float64) error {
	if !(eta >= 0 && eta <= 1) {
		return fmt.Errorf("DDIM eta = %g out of range [0, 1] (0: deterministic, 1: DDPM-like)", eta)
	}
	return nil
}

// DDIMStep goes from x_t to x_{t'} (t' < t, t' = 0 is clean data) as Song et al. 2021 (eq. 12):
//
//	x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t, optionally clipped to [−1, 1], and then
//	ε̂ ← (x_t − √ᾱ_t·x̂_0)/√(1−ᾱ_t) so that x̂_0 and ε̂ stay consistent with x_t
//	σ = η·√((1−ᾱ_t')/(1−ᾱ_t))·√(1 − ᾱ_t/ᾱ_t')
//	x_t' = √ᾱ_t'·x̂_0 + √(1−ᾱ_t'−σ²)·ε̂ + σ·z
//
// With η = 1 and t' = t−1, σ² = β̃_t and the step is DDPM's ancestral step with σ_t² = β̃_t; with
// η = 0 it is deterministic.
//
// Recomputing ε̂ after clipping follows OpenAI's guided-diffusion (ddim_sample uses
// _predict_eps_from_xstart on the clipped x̂_0). Without it, at large t, where x̂_0 amplifies the
// error of ε̂ by 1/√ᾱ_t (≈ 150 at t = T for linear β 1e-4→0.1, T = 200), the update mixes a
// clipped x̂_0 with an unclipped ε̂ and the chain drifts into grid-like artifacts.
//
//   - xt, epsHat, z: [B, H, W, C]; t, tPrev: [B] int32 with 0 ≤ tPrev < t ≤ T
//   - outputs: x_t' and x̂_0
func DDIMStep(s *schedule.Schedule, xt, t, tPrev, epsHat, z *Node, eta float64, clip bool) (prev, x0Hat *Node) {
	x0Hat = PredictX0(s, xt, t, epsHat)
	if clip {
		x0Hat = ClipScalar(x0Hat, -1, 1)
		epsHat = Div(Sub(xt, Mul(PerExample(s.SqrtAlphaBar, t, xt), x0Hat)), PerExample(s.SqrtOneMinusAlphaBar, t, xt))
	}
	abT := PerExample(s.AlphaBar, t, xt)
	abPrev := PerExample(s.AlphaBar, tPrev, xt)
	one := OnesLike(abT)
	sigma := MulScalar(Sqrt(Mul(Div(Sub(one, abPrev), Sub(one, abT)), Sub(one, Div(abT, abPrev)))), eta)
	dirCoef := Sqrt(Max(Sub(Sub(one, abPrev), Square(sigma)), ZerosLike(abT)))
	prev = Add(Add(Mul(Sqrt(abPrev), x0Hat), Mul(dirCoef, epsHat)), Mul(sigma, z))
	return prev, x0Hat
}
