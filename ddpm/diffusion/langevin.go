package diffusion

import (
	"fmt"
	"math"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
	. "github.com/gomlx/gomlx/core/graph"
)

// MaxCorrectorSteps bounds the Langevin corrector steps per diffusion step (each costs one more
// evaluation of the network).
const MaxCorrectorSteps = 20

// CheckCorrector validates a predictor–corrector setting: steps in [0, MaxCorrectorSteps] and, when
// steps > 0, a signal-to-noise ratio r in (0, 1].
func CheckCorrector(steps int, snr float64) error {
	if steps < 0 || steps > MaxCorrectorSteps {
		return fmt.Errorf("corrector steps %d: want 0 (none) to %d", steps, MaxCorrectorSteps)
	}
	if steps > 0 && (math.IsNaN(snr) || snr <= 0 || snr > 1) {
		return fmt.Errorf("corrector signal-to-noise ratio %g: want a number in (0, 1] (Song et al. use 0.16)", snr)
	}
	return nil
}

// LangevinStep is one corrector step of predictor–corrector sampling (Song et al. 2021,
// "Score-Based Generative Modeling through SDEs", Algorithm 5, VP SDE): a step of Langevin MCMC
// that leaves q(x_t) invariant, taken with the model's score s = ∇ₓ log q(x_t) ≈ −ε̂/√(1−ᾱ_t):
//
//	δ = 2·α_t·(r·‖z‖ / ‖s‖)²   (per example, ‖·‖ over the image)
//	x' = x_t + δ·s + √(2δ)·z
//
// r is the target signal-to-noise ratio of the step (0.16 in Song et al.). The norms are taken per
// example (the paper's code averages them over the batch), so that a sample does not depend on
// the batch it is drawn in. ‖ε̂‖ is floored at 1e-10 (a network that predicts ε̂ = 0 has no score).
//
//   - xt, epsHat, z: [B, H, W, C]; z ~ N(0, I), independent of the predictor's noise
//   - t: [B] int32 in 1..T
//   - output: the corrected x_t, [B, H, W, C]
func LangevinStep(s *schedule.Schedule, xt, t, epsHat, z *Node, snr float64) *Node {
	axes := make([]int, xt.Rank()-1)
	for i := range axes {
		axes[i] = i + 1
	}
	sigma := PerExample(s.SqrtOneMinusAlphaBar, t, xt) // √(1−ᾱ_t): ‖s‖ = ‖ε̂‖/σ
	zz := L2NormSquare(z, axes...)                     // [B, 1, 1, 1]
	ee := MaxScalar(L2NormSquare(epsHat, axes...), 1e-20)
	delta := MulScalar(Div(Mul(Mul(PerExample(s.Alpha, t, xt), zz), Square(sigma)), ee), 2*snr*snr)
	score := Neg(Div(epsHat, sigma))
	return Add(Add(xt, Mul(delta, score)), Mul(Sqrt(MulScalar(delta, 2)), z))
}
