package sampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/rng"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// tinyClassifier is an untrained noisy classifier for m's schedule whose weights are created in
// the sampler's store (WithClassifier with nil weights).
func tinyClassifier(t *testing.T, s *Sampler) *classifier.Classifier {
	t.Helper()
	c := &classifier.Classifier{
		Net:      classifier.Config{Channels: [3]int{4, 4, 4}, EmbedDim: 8, FourierScale: 1, Groups: 2},
		Schedule: s.Model().Schedule,
	}
	if err := s.WithClassifier(c, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// testImages returns b deterministic images with values in about [−1.5, 1.5].
func testImages(b int) []float32 {
	x := make([]float32, b*Pixels)
	for i := range x {
		x[i] = float32(1.5 * math.Sin(0.37*float64(i)+0.2*math.Cos(0.011*float64(i))))
	}
	return x
}

// gradientFn compiles the guidance gradient exactly as the step uses it (float32).
func gradientFn(t *testing.T, s *Sampler) func(x []float32, steps, labels []int32) []float32 {
	exec, err := model.NewExec(s.backend, s.store, func(scope *model.Scope, x, tt, labels *Node) *Node {
		return s.classifierGradient(scope.In(classifier.ScopeName), x, tt, labels)
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(x []float32, steps, labels []int32) []float32 {
		b := len(steps)
		out, err := exec.Call(tensors.FromFlatDataAndDimensions(x, b, 28, 28, 1),
			tensors.FromFlatDataAndDimensions(steps, b), tensors.FromFlatDataAndDimensions(labels, b))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out[0])
	}
}

// TestClassifierGradientFiniteDifference checks g = ∇ₓ log p(y | x_t, t), as the compiled step
// computes it (float32, GoMLX autodiff), against central differences of log p computed in float64
// by the same network (same weights), for every pixel of two examples with different t and y.
func TestClassifierGradientFiniteDifference(t *testing.T) {
	m, store := tinyModel(0, 12)
	s := New(testutil.GoBackend(t), store, m)
	c := tinyClassifier(t, s)
	const b = 2
	x := testImages(b)
	steps, labels := []int32{3, 11}, []int32{7, 2}
	g32 := gradientFn(t, s)(x, steps, labels) // also creates the classifier's weights

	// float64: the same network on x ± h·e_p for every pixel p, all in one batch, and its autodiff.
	logProb64, err := model.NewExec(s.backend, store, func(scope *model.Scope, x, tt, labels *Node) []*Node {
		scope = scope.In(classifier.ScopeName)
		lp := c.LogProb(scope, x, tt, labels)
		return []*Node{lp, Gradient(ReduceAllSum(lp), x)[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-4
	n := b * 2 * Pixels
	xs := make([]float64, n*Pixels)
	ts, ys := make([]int32, n), make([]int32, n)
	for i := range b {
		for p := range Pixels {
			for k, sign := range []float64{1, -1} {
				row := (i*Pixels+p)*2 + k
				img := xs[row*Pixels : (row+1)*Pixels]
				for q := range img {
					img[q] = float64(x[i*Pixels+q])
				}
				img[p] += sign * h
				ts[row], ys[row] = steps[i], labels[i]
			}
		}
	}
	out, err := logProb64.Call(tensors.FromFlatDataAndDimensions(xs, n, 28, 28, 1),
		tensors.FromFlatDataAndDimensions(ts, n), tensors.FromFlatDataAndDimensions(ys, n))
	if err != nil {
		t.Fatal(err)
	}
	lp := tensors.MustCopyFlatData[float64](out[0])
	if out[1].DType() != dtypes.Float64 {
		t.Fatalf("the float64 graph computed in %s", out[1].DType())
	}
	// The autodiff gradient at the unperturbed x, in float64: one more call of the same exec.
	x64 := make([]float64, b*Pixels)
	for i := range x64 {
		x64[i] = float64(x[i])
	}
	out, err = logProb64.Call(tensors.FromFlatDataAndDimensions(x64, b, 28, 28, 1),
		tensors.FromFlatDataAndDimensions(steps, b), tensors.FromFlatDataAndDimensions(labels, b))
	if err != nil {
		t.Fatal(err)
	}
	g64 := tensors.MustCopyFlatData[float64](out[1])

	var maxFD, errAD64, errStep float64
	for i := range b {
		for p := range Pixels {
			row := (i*Pixels + p) * 2
			fd := (lp[row] - lp[row+1]) / (2 * h)
			k := i*Pixels + p
			maxFD = math.Max(maxFD, math.Abs(fd))
			errAD64 = math.Max(errAD64, math.Abs(g64[k]-fd))
			errStep = math.Max(errStep, math.Abs(float64(g32[k])-fd))
		}
	}
	t.Logf("max |∂ log p/∂x| = %.3g; max error: float64 autodiff %.2g, step's float32 gradient %.2g", maxFD, errAD64, errStep)
	if maxFD < 1e-4 {
		t.Fatalf("the gradient is ~0 (max %g): the test would prove nothing", maxFD)
	}
	if errAD64 > 1e-6*maxFD {
		t.Errorf("float64 autodiff differs from central differences by %g (max |g| %g)", errAD64, maxFD)
	}
	if errStep > 1e-3*maxFD {
		t.Errorf("the step's float32 gradient differs from central differences by %g (max |g| %g)", errStep, maxFD)
	}
}

// TestGuidanceShiftsTheStep compares a guided and an unguided step with the same x_t and noise:
// DDPM's x_{t−1} moves by exactly s·σ_t²·g (σ_1 = 0: the last step is unguided), and DDIM's by the
// effect of ε̂ − s·√(1−ᾱ_t)·g through x̂_0 and the direction term.
func TestGuidanceShiftsTheStep(t *testing.T) {
	m, store := tinyModel(0, 12)
	s := New(testutil.GoBackend(t), store, m)
	tinyClassifier(t, s)
	const b, scale = 2, 40.0
	x := testImages(b)
	labels := []int32{4, 9}
	grad := gradientFn(t, s)
	sched := m.Schedule
	step := func(o Options, tt, tPrev int, guided bool) []float32 {
		t.Helper()
		if guided {
			o.Guidance = Guidance{Kind: "classifier", Scale: scale}
		}
		exec, err := s.exec("step", b, o, s.stepGraph(b, o))
		if err != nil {
			t.Fatal(err)
		}
		args := []any{tensors.FromFlatDataAndDimensions(x, b, 28, 28, 1), rng.GraphState(1, rng.Sampling, 0),
			tensors.FromValue(int32(tt)), tensors.FromValue(int32(tPrev))}
		if guided {
			args = append(args, tensors.FromFlatDataAndDimensions(labels, b))
		}
		out, err := exec.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out[0])
	}
	check := func(name string, got, plain []float32, want func(k int) float64) {
		t.Helper()
		var maxShift float64
		for k := range got {
			w := want(k)
			maxShift = math.Max(maxShift, math.Abs(w))
			if d := math.Abs(float64(got[k]-plain[k]) - w); d > 4e-6*(1+math.Abs(float64(plain[k]))) {
				t.Fatalf("%s: value %d moved by %g, want %g", name, k, got[k]-plain[k], w)
			}
		}
		if maxShift == 0 && !strings.Contains(name, "t=1") {
			t.Errorf("%s: no shift expected: the test would prove nothing", name)
		}
	}
	for _, v := range []diffusion.ReverseVariance{diffusion.BetaVariance, diffusion.PosteriorVariance} {
		for _, tt := range []int{1, 2, 12} {
			o := Options{Method: "ddpm", Variance: v, ClipX0: true}
			g := grad(x, []int32{int32(tt), int32(tt)}, labels)
			sigma2 := sched.Beta[tt]
			if v == diffusion.PosteriorVariance {
				sigma2 = sched.PosteriorVariance[tt]
			}
			if tt == 1 {
				sigma2 = 0
			}
			check(fmt.Sprintf("%s t=%d", v, tt), step(o, tt, tt-1, true), step(o, tt, tt-1, false),
				func(k int) float64 { return scale * sigma2 * float64(g[k]) })
		}
	}
	for _, eta := range []float64{0, 0.5} {
		const tt, tPrev = 9, 5
		o := Options{Method: "ddim", Steps: 3, Eta: eta}
		g := grad(x, []int32{tt, tt}, labels)
		ab, abPrev := sched.AlphaBar[tt], sched.AlphaBar[tPrev]
		sigma2 := eta * eta * (1 - abPrev) / (1 - ab) * (1 - ab/abPrev)
		// x_t' = √ᾱ'·(x − √(1−ᾱ)·ε̂)/√ᾱ + √(1−ᾱ'−σ²)·ε̂ + σz is linear in ε̂ without clipping.
		coef := -math.Sqrt(abPrev)*math.Sqrt(1-ab)/math.Sqrt(ab) + math.Sqrt(1-abPrev-sigma2)
		check("ddim", step(o, tt, tPrev, true), step(o, tt, tPrev, false),
			func(k int) float64 { return coef * (-scale * math.Sqrt(1-ab) * float64(g[k])) })
	}
}

// TestClassifierGuidanceSampling: guided sampling runs on unconditional and conditional models,
// scale 0 equals unguided sampling, and a positive scale changes the samples (with a Langevin
// corrector too).
func TestClassifierGuidanceSampling(t *testing.T) {
	for _, classes := range []int{0, 10} {
		m, store := tinyModel(classes, 5)
		s := New(testutil.GoBackend(t), store, m)
		tinyClassifier(t, s)
		labels := []int{1, 8}
		for _, method := range []string{"ddpm", "ddim"} {
			o := Options{Method: method, Steps: 3, Variance: diffusion.BetaVariance, ClipX0: true, Seed: 4}
			var plain *Result
			var err error
			if classes > 0 {
				plain, err = s.Sample(context.Background(), 2, labels, o, nil)
			} else {
				plain, err = s.Sample(context.Background(), 2, nil, o, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			o.Guidance = Guidance{Kind: "classifier", Scale: 0}
			zero, err := s.Sample(context.Background(), 2, labels, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(plain.Images, zero.Images) {
				t.Errorf("classes=%d %s: classifier guidance with s = 0 differs from unguided sampling", classes, method)
			}
			o.Guidance.Scale = 500
			guided, err := s.Sample(context.Background(), 2, labels, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(plain.Images, guided.Images) {
				t.Errorf("classes=%d %s: classifier guidance with s = 500 changed nothing", classes, method)
			}
			// With a corrector the guided score steers the Langevin steps too.
			o.Corrector, o.SNR = 1, 0.16
			pc, err := s.Sample(context.Background(), 2, labels, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			o.Guidance.Scale = 0
			pcUnguided, err := s.Sample(context.Background(), 2, labels, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(pc.Images, pcUnguided.Images) || slices.Equal(pc.Images, guided.Images) {
				t.Errorf("classes=%d %s: with a corrector, guidance (or the corrector) changed nothing", classes, method)
			}
		}
	}
}

func TestClassifierGuidanceErrors(t *testing.T) {
	ctx := context.Background()
	m, store := tinyModel(0, 10)
	bare := New(testutil.GoBackend(t), store, m)
	withClf := New(testutil.GoBackend(t), store, m)
	tinyClassifier(t, withClf)
	guided := Options{Method: "ddpm", Variance: "beta", Guidance: Guidance{Kind: "classifier", Scale: 1}}
	for _, tc := range []struct {
		name   string
		s      *Sampler
		labels []int
		o      Options
		want   string
	}{
		{"no classifier", bare, []int{3}, guided, "sampler classifier = none: classifier guidance needs a noisy classifier"},
		{"no labels", withClf, nil, guided, "sampler labels = 0: classifier guidance needs class labels"},
		{"unknown class", withClf, []int{10}, guided, "class 10 (sample 0) out of range [0, 9]"},
		{"cfg on unconditional", withClf, []int{3}, Options{Method: "ddpm", Variance: "beta", Guidance: Guidance{Kind: "cfg", Scale: 1}},
			"needs a class-conditional model"},
		{"labels without guidance", bare, []int{3}, Options{Method: "ddpm", Variance: "beta"}, "sampler labels = 1: class labels given, but the model is unconditional"},
		{"S=0 guided", withClf, []int{3}, Options{Method: "ddim", Steps: 0, Guidance: guided.Guidance}, "S = 0 out of range"},
		{"eta<0 guided", withClf, []int{3}, Options{Method: "ddim", Steps: 2, Eta: -1, Guidance: guided.Guidance}, "eta = -1"},
	} {
		_, err := tc.s.Sample(ctx, max(1, len(tc.labels)), tc.labels, tc.o, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	// A classifier trained for another schedule is refused when attached, saying what differs.
	for _, tc := range []struct {
		cfg  schedule.Config
		want string
	}{
		{schedule.Config{Kind: schedule.Linear, Steps: 20, Beta1: 1e-4, BetaT: 0.1}, "trained for T = 20"},
		{schedule.Config{Kind: schedule.Linear, Steps: 10, Beta1: 1e-4, BetaT: 0.02}, "β_2 ="},
		{schedule.Config{Kind: schedule.Cosine, Steps: 10}, "β_1 ="},
	} {
		c := &classifier.Classifier{Net: classifier.Default(), Schedule: schedule.MustNew(tc.cfg)}
		err := bare.WithClassifier(c, nil)
		if !errors.Is(err, classifier.ErrNoClassifier) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("schedule %s: err = %v, want it to contain %q and wrap classifier.ErrNoClassifier", tc.cfg, err, tc.want)
		}
	}
	if bare.Classifier() != nil {
		t.Errorf("a refused classifier was attached")
	}
	if err := bare.WithClassifier(&classifier.Classifier{Net: classifier.Default(), Schedule: m.Schedule}, model.NewStore()); err == nil ||
		!strings.Contains(err.Error(), "no weights under /classifier") {
		t.Errorf("attaching an empty store: err = %v", err)
	}
	if _, err := ParseGuidance("classifier:-1"); err == nil {
		t.Errorf("ParseGuidance accepted a negative classifier scale")
	}
}
