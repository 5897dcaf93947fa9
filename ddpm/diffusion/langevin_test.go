package diffusion

import (
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestLangevinStepFormula checks the graph's corrector step against the float64 formula, per
// example (two examples of 2×2 pixels each, at different t).
func TestLangevinStepFormula(t *testing.T) {
	backend := testutil.GoBackend(t)
	s := linear1000
	xt := []float32{0.3, -1.7, 2.2, 0.05, 1.1, 0.4, -0.6, -2.0}
	eps := []float32{-0.4, 1.1, 0.9, -2.5, 0.2, 0.3, -0.1, 0.8}
	z := []float32{0.7, -0.2, 1.5, 0.1, -1.3, 0.6, 0.9, 0.05}
	steps := []int32{3, 700}
	for _, snr := range []float64{0.05, 0.16, 1} {
		exec, err := NewExec(backend, func(xt, tt, eps, z *Node) *Node {
			return LangevinStep(s, xt, tt, eps, z, snr)
		})
		if err != nil {
			t.Fatal(err)
		}
		shape := []int{2, 2, 2, 1}
		out, err := exec.Call(tensors.FromFlatDataAndDimensions(xt, shape...), tensors.FromFlatDataAndDimensions(steps, 2),
			tensors.FromFlatDataAndDimensions(eps, shape...), tensors.FromFlatDataAndDimensions(z, shape...))
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](out[0])
		for b, st := range steps {
			sigma := s.SqrtOneMinusAlphaBar[st]
			var zz, ss float64
			for i := 4 * b; i < 4*b+4; i++ {
				zz += float64(z[i]) * float64(z[i])
				ss += float64(eps[i]) * float64(eps[i]) / (sigma * sigma)
			}
			delta := 2 * s.Alpha[st] * snr * snr * zz / ss
			for i := 4 * b; i < 4*b+4; i++ {
				want := float64(xt[i]) - delta*float64(eps[i])/sigma + math.Sqrt(2*delta)*float64(z[i])
				if d := math.Abs(float64(got[i]) - want); d > 2e-5*(1+math.Abs(want)) {
					t.Errorf("snr=%g t=%d pixel %d: x' = %g, want %g", snr, st, i, got[i], want)
				}
			}
		}
	}
}

// TestLangevinKeepsTheMarginal runs the corrector with the exact score of a known marginal:
// for data x_0 ~ N(0, I), x_t ~ N(0, I) at every t and the optimal ε-prediction is
// ε(x_t) = √(1−ᾱ_t)·x_t. Chains started at variance 4 and 1/4 must both move to variance ≈ 1
// (the discretised chain's stationary variance is ≈ 1/(1−δ/2) ≈ 1.03 at δ ≈ 2α_t·r² = 0.05, plus
// O(1/d) from the per-example step size: 28×28 images keep that small); a wrong
// sign or scale of the score or of the noise would not.
func TestLangevinKeepsTheMarginal(t *testing.T) {
	const n, side, iters, snr = 500, 28, 100, 0.16
	backend := testutil.GoBackend(t)
	s := linear1000
	for _, start := range []float32{2, 0.5} { // standard deviation of the starting chains
		exec, err := NewExec(backend, func(g *Graph) []*Node {
			rng := Const(g, must(RNGStateFromSeed(int64(start*10))))
			shape := shapes.Make(dtypes.Float32, n, side, side, 1)
			rng, x := RandomNormal(rng, shape)
			x = MulScalar(x, float64(start))
			tt := BroadcastToDims(Const(g, int32(500)), n)
			for range iters {
				var z *Node
				rng, z = RandomNormal(rng, shape)
				eps := MulScalar(x, s.SqrtOneMinusAlphaBar[500])
				x = LangevinStep(s, x, tt, eps, z, snr)
			}
			mean := ReduceAllMean(x)
			return []*Node{mean, ReduceAllMean(Square(Sub(x, mean)))}
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Call()
		if err != nil {
			t.Fatal(err)
		}
		mean, variance := tensors.ToScalar[float32](out[0]), tensors.ToScalar[float32](out[1])
		t.Logf("chains started at std %g: mean %.4f, variance %.4f after %d steps", start, mean, variance, iters)
		if math.Abs(float64(mean)) > 0.01 || math.Abs(float64(variance)-1.03) > 0.03 {
			t.Errorf("chains started at std %g: mean %g, variance %g after %d steps, want 0 and ≈ 1.03",
				start, mean, variance, iters)
		}
	}
}

func TestCheckCorrector(t *testing.T) {
	for _, c := range []struct {
		steps int
		snr   float64
		ok    bool
	}{
		{0, 0, true}, {1, 0.16, true}, {MaxCorrectorSteps, 1, true},
		{-1, 0.16, false}, {MaxCorrectorSteps + 1, 0.16, false},
		{1, 0, false}, {1, -0.1, false}, {1, 1.5, false}, {1, math.NaN(), false},
	} {
		if err := CheckCorrector(c.steps, c.snr); (err == nil) != c.ok {
			t.Errorf("CheckCorrector(%d, %g) = %v, want ok=%v", c.steps, c.snr, err, c.ok)
		}
	}
}
