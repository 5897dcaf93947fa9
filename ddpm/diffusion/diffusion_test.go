package diffusion

import (
	"math"
	"slices"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

var linear1000 = schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 1000, Beta1: 1e-4, BetaT: 0.02})

// TestAddNoiseMoments draws x_t ~ q(x_t | x_0) many times with the graph's RNG and checks the
// sample mean and variance against √ᾱ_t·x_0 and 1 − ᾱ_t.
func TestAddNoiseMoments(t *testing.T) {
	const n = 200_000 // draws per step
	backend := testutil.GoBackend(t)
	s := linear1000
	for _, step := range []int32{1, 10, 250, 1000} {
		for _, x0 := range []float32{-1, 0.5} {
			exec, err := NewExec(backend, func(g *Graph) []*Node {
				rng := Const(g, must(RNGStateFromSeed(int64(step)*7+int64(x0*10))))
				_, eps := RandomNormal(rng, shapes.Make(dtypes.Float32, n, 1, 1, 1))
				x0s := BroadcastToDims(Const(g, x0), n, 1, 1, 1)
				ts := BroadcastToDims(Const(g, step), n)
				xt := AddNoise(s, x0s, ts, eps)
				mean := ReduceAllMean(xt)
				return []*Node{mean, ReduceAllMean(Square(Sub(xt, mean)))}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Call()
			if err != nil {
				t.Fatal(err)
			}
			mean, variance := float64(tensors.ToScalar[float32](out[0])), float64(tensors.ToScalar[float32](out[1]))
			wantMean, wantVar := s.SqrtAlphaBar[step]*float64(x0), 1-s.AlphaBar[step]
			// 6 standard errors: mean SE = σ/√n; variance SE ≈ σ²·√(2/n).
			if d := math.Abs(mean - wantMean); d > 6*math.Sqrt(wantVar/n)+1e-6 {
				t.Errorf("t=%d x0=%g: mean %g, want %g", step, x0, mean, wantMean)
			}
			if d := math.Abs(variance - wantVar); d > 6*wantVar*math.Sqrt(2.0/n)+1e-7 {
				t.Errorf("t=%d x0=%g: variance %g, want %g", step, x0, variance, wantVar)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDDPMStepCoefficients checks the graph's reverse step against the float64 formulas.
func TestDDPMStepCoefficients(t *testing.T) {
	backend := testutil.GoBackend(t)
	s := linear1000
	xt := []float32{0.3, -1.7, 2.2, 0.05}
	eps := []float32{-0.4, 1.1, 0.9, -2.5}
	z := []float32{0.7, -0.2, 1.5, 0.1}
	steps := []int32{1, 2, 500, 1000}
	for _, v := range []ReverseVariance{BetaVariance, PosteriorVariance} {
		for _, clip := range []bool{false, true} {
			exec, err := NewExec(backend, func(xt, tt, eps, z *Node) []*Node {
				prev, x0 := DDPMStep(s, xt, tt, eps, z, v, clip)
				return []*Node{prev, x0}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Call(
				tensors.FromFlatDataAndDimensions(xt, 4, 1, 1, 1), tensors.FromFlatDataAndDimensions(steps, 4),
				tensors.FromFlatDataAndDimensions(eps, 4, 1, 1, 1), tensors.FromFlatDataAndDimensions(z, 4, 1, 1, 1))
			if err != nil {
				t.Fatal(err)
			}
			prev, x0 := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
			for i, st := range steps {
				wantX0 := (float64(xt[i]) - s.SqrtOneMinusAlphaBar[st]*float64(eps[i])) / s.SqrtAlphaBar[st]
				clipped := wantX0
				if clip {
					clipped = math.Max(-1, math.Min(1, wantX0))
				}
				var mean float64
				if clip {
					mean = s.PosteriorCoefX0[st]*clipped + s.PosteriorCoefXt[st]*float64(xt[i])
				} else { // Ho et al.'s form, algebraically equal to the posterior mean.
					mean = (float64(xt[i]) - s.Beta[st]/s.SqrtOneMinusAlphaBar[st]*float64(eps[i])) / math.Sqrt(s.Alpha[st])
				}
				sigma2 := s.Beta[st]
				if v == PosteriorVariance {
					sigma2 = s.PosteriorVariance[st]
				}
				if st == 1 {
					sigma2 = 0
				}
				want := mean + math.Sqrt(sigma2)*float64(z[i])
				if d := math.Abs(float64(prev[i]) - want); d > 2e-5*(1+math.Abs(want)) {
					t.Errorf("%s clip=%v t=%d: x_{t-1} = %g, want %g", v, clip, st, prev[i], want)
				}
				if d := math.Abs(float64(x0[i]) - clipped); d > 2e-5*(1+math.Abs(clipped)) {
					t.Errorf("%s clip=%v t=%d: x̂0 = %g, want %g", v, clip, st, x0[i], clipped)
				}
			}
		}
	}
}

func TestParseVariance(t *testing.T) {
	if _, err := ParseVariance("large"); err == nil {
		t.Error("ParseVariance(\"large\") accepted an unknown name")
	}
	if v, err := ParseVariance("posterior"); err != nil || v != PosteriorVariance {
		t.Errorf("ParseVariance(\"posterior\") = %v, %v", v, err)
	}
}

// TestDDIMMatchesDDPMPosterior: with η = 1 and t' = t−1, σ² = β̃_t and the DDIM update equals the
// DDPM posterior step with σ_t² = β̃_t. Checked in float64 on the formulas and on the graph ops.
func TestDDIMMatchesDDPMPosterior(t *testing.T) {
	s := linear1000
	for _, step := range []int{2, 3, 100, 999, 1000} {
		ab, abPrev := s.AlphaBar[step], s.AlphaBar[step-1]
		sigma2 := (1 - abPrev) / (1 - ab) * (1 - ab/abPrev)
		if d := math.Abs(sigma2-s.PosteriorVariance[step]) / s.PosteriorVariance[step]; d > 1e-12 {
			t.Errorf("t=%d: DDIM σ² = %.17g, β̃_t = %.17g", step, sigma2, s.PosteriorVariance[step])
		}
		// x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε for a few (x0, ε): DDIM's mean √ᾱ' x0 + √(1−ᾱ'−σ²) ε must equal
		// the posterior mean c0·x0 + ct·x_t.
		for _, pair := range [][2]float64{{0.3, -1.2}, {-1, 0.5}, {1, 2}} {
			x0, eps := pair[0], pair[1]
			xt := math.Sqrt(ab)*x0 + math.Sqrt(1-ab)*eps
			ddim := math.Sqrt(abPrev)*x0 + math.Sqrt(1-abPrev-sigma2)*eps
			ddpm := s.PosteriorCoefX0[step]*x0 + s.PosteriorCoefXt[step]*xt
			if d := math.Abs(ddim - ddpm); d > 1e-12*(1+math.Abs(ddpm)) {
				t.Errorf("t=%d: DDIM mean %.17g, DDPM posterior mean %.17g", step, ddim, ddpm)
			}
		}
	}
	backend := testutil.GoBackend(t)
	exec, err := NewExec(backend, func(xt, tt, eps, z *Node) []*Node {
		a, _ := DDIMStep(s, xt, tt, AddScalar(tt, -1), eps, z, 1, false)
		b, _ := DDPMStep(s, xt, tt, eps, z, PosteriorVariance, false)
		return []*Node{a, b}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(
		tensors.FromFlatDataAndDimensions([]float32{0.3, -1.7, 2.2, 0.05}, 4, 1, 1, 1),
		tensors.FromFlatDataAndDimensions([]int32{2, 50, 500, 1000}, 4),
		tensors.FromFlatDataAndDimensions([]float32{-0.4, 1.1, 0.9, -2.5}, 4, 1, 1, 1),
		tensors.FromFlatDataAndDimensions([]float32{0.7, -0.2, 1.5, 0.1}, 4, 1, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	a, b := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	for i := range a {
		if d := math.Abs(float64(a[i] - b[i])); d > 1e-5*(1+math.Abs(float64(b[i]))) {
			t.Errorf("example %d: DDIM(η=1) %g, DDPM(β̃) %g", i, a[i], b[i])
		}
	}
}

// TestDDIMEtaZeroIgnoresNoise: with η = 0 the step is a deterministic function of x_t.
func TestDDIMEtaZeroIgnoresNoise(t *testing.T) {
	exec, err := NewExec(testutil.GoBackend(t), func(xt, tt, eps, z *Node) []*Node {
		a, _ := DDIMStep(linear1000, xt, tt, AddScalar(tt, -20), eps, z, 0, true)
		b, _ := DDIMStep(linear1000, xt, tt, AddScalar(tt, -20), eps, MulScalar(z, -3), 0, true)
		c, _ := DDIMStep(linear1000, xt, tt, AddScalar(tt, -20), eps, MulScalar(z, -3), 0.5, true)
		return []*Node{a, b, c}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(
		tensors.FromFlatDataAndDimensions([]float32{0.3, -1.7}, 2, 1, 1, 1), tensors.FromFlatDataAndDimensions([]int32{40, 900}, 2),
		tensors.FromFlatDataAndDimensions([]float32{-0.4, 1.1}, 2, 1, 1, 1), tensors.FromFlatDataAndDimensions([]float32{0.7, -0.2}, 2, 1, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]), tensors.MustCopyFlatData[float32](out[2])
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("η = 0: output %d depends on z (%g vs %g)", i, a[i], b[i])
		}
		if a[i] == c[i] {
			t.Errorf("η = 0.5: output %d does not depend on z", i)
		}
	}
}

func TestDDIMTimesteps(t *testing.T) {
	for _, tc := range []struct {
		T, S int
		want []int
	}{
		{10, 10, []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{1000, 4, []int{1000, 750, 500, 250}},
		{200, 3, []int{200, 133, 67}},
		{7, 1, []int{7}},
	} {
		got, err := DDIMTimesteps(tc.T, tc.S)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("DDIMTimesteps(%d, %d) = %v, %v; want %v", tc.T, tc.S, got, err, tc.want)
		}
	}
	for _, bad := range [][2]int{{10, 0}, {10, 11}, {10, -1}} {
		if _, err := DDIMTimesteps(bad[0], bad[1]); err == nil {
			t.Errorf("DDIMTimesteps(%d, %d) accepted", bad[0], bad[1])
		}
	}
}

// TestDDIMClipRecomputesEpsilon: with clipping, the DDIM update uses ε̂ recomputed from the clipped
// x̂_0, so that x̂_0 and ε̂ stay consistent with x_t (guided-diffusion's ddim_sample). Checked in
// float64 at a large t, where x̂_0 needs clipping.
func TestDDIMClipRecomputesEpsilon(t *testing.T) {
	s := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 200, Beta1: 1e-4, BetaT: 0.1})
	xt, eps, z := []float32{0.9, -1.3, 0.2}, []float32{0.7, -1.1, 0.4}, []float32{0.3, -0.6, 1.2}
	steps, prevSteps := []int32{200, 150, 40}, []int32{196, 120, 0}
	const eta = 0.5
	exec, err := NewExec(testutil.GoBackend(t), func(xt, tt, tp, eps, z *Node) *Node {
		prev, _ := DDIMStep(s, xt, tt, tp, eps, z, eta, true)
		return prev
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call1(tensors.FromFlatDataAndDimensions(xt, 3, 1, 1, 1), tensors.FromFlatDataAndDimensions(steps, 3),
		tensors.FromFlatDataAndDimensions(prevSteps, 3), tensors.FromFlatDataAndDimensions(eps, 3, 1, 1, 1),
		tensors.FromFlatDataAndDimensions(z, 3, 1, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out)
	for i := range xt {
		ab, abP := s.AlphaBar[steps[i]], s.AlphaBar[prevSteps[i]]
		x0 := (float64(xt[i]) - math.Sqrt(1-ab)*float64(eps[i])) / math.Sqrt(ab)
		x0 = math.Max(-1, math.Min(1, x0))
		e := (float64(xt[i]) - math.Sqrt(ab)*x0) / math.Sqrt(1-ab)
		sigma := eta * math.Sqrt((1-abP)/(1-ab)*(1-ab/abP))
		want := math.Sqrt(abP)*x0 + math.Sqrt(1-abP-sigma*sigma)*e + sigma*float64(z[i])
		if d := math.Abs(float64(got[i]) - want); d > 2e-5*(1+math.Abs(want)) {
			t.Errorf("t=%d→%d: x_t' = %g, want %g", steps[i], prevSteps[i], got[i], want)
		}
	}
}
