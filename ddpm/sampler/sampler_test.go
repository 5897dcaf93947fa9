package sampler

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// tinyModel is an untrained small network: enough to test shapes, determinism and options.
func tinyModel(classes, T int) (*diffusion.Model, *model.Store) {
	net := scorenet.Default()
	net.Channels = [4]int{32, 32, 32, 32}
	net.EmbedDim = 32
	net.NumClasses = classes
	s := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: T, Beta1: 1e-4, BetaT: 0.1})
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(5))
	return &diffusion.Model{Net: network.FromScoreNet(net), Schedule: s}, store
}

func ddpmOptions(seed int64) Options {
	return Options{Method: "ddpm", Variance: diffusion.BetaVariance, ClipX0: true, Seed: seed}
}

func TestShapeRangeDeterminismAndTrajectory(t *testing.T) {
	m, store := tinyModel(0, 8)
	s := New(testutil.GoBackend(t), store, m)
	o := ddpmOptions(11)
	o.BatchSize = 3 // two chunks for 5 images
	o.Record = []int{8, 4, 0}
	a, err := s.Sample(context.Background(), 5, nil, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.N != 5 || len(a.Images) != 5*Pixels {
		t.Fatalf("got N=%d with %d values, want 5×784", a.N, len(a.Images))
	}
	for i, v := range a.Images {
		if !(v >= -1 && v <= 1) {
			t.Fatalf("pixel %d = %g outside [-1, 1] with ClipX0 (at t=1 the step returns the clipped x̂0)", i, v)
		}
	}
	if len(a.Frames) != 3 || a.Frames[0].Step != 8 || a.Frames[2].Step != 0 || len(a.Frames[1].X) != 5*Pixels ||
		len(a.Frames[1].X0) != 5*Pixels || !slices.Equal(a.Frames[2].X, a.Images) {
		t.Fatalf("frames: %d, want t = 8, 4, 0 with 5 images each and the last equal to the samples", len(a.Frames))
	}
	b, err := s.Sample(context.Background(), 5, nil, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Images, b.Images) {
		t.Errorf("same seed gave different samples")
	}
	o.Seed = 12
	c, err := s.Sample(context.Background(), 5, nil, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.Images, c.Images) {
		t.Errorf("different seeds gave identical samples")
	}
}

// With η = 0 DDIM adds no noise: the result depends on x_T only. Two samplers whose step noise
// differs but whose x_T is the same (same seed, same chunk) must agree; with η = 1 they differ.
func TestDDIMEtaZeroIsDeterministicGivenXT(t *testing.T) {
	m, store := tinyModel(0, 20)
	s := New(testutil.GoBackend(t), store, m)
	o := Options{Method: "ddim", Steps: 5, Eta: 0, Seed: 3, ClipX0: false}
	a, err := s.Sample(context.Background(), 2, nil, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The per-step independence of z is checked in package diffusion (TestDDIMEtaZeroIgnoresNoise);
	// here: recording a trajectory must not change the samples, and η = 1 must.
	o2 := o
	o2.Record = []int{20, 0}
	b, err := s.Sample(context.Background(), 2, nil, o2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Images, b.Images) {
		t.Errorf("recording a trajectory changed the samples")
	}
	o3 := o
	o3.Eta = 1
	c, err := s.Sample(context.Background(), 2, nil, o3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.Images, c.Images) {
		t.Errorf("η = 1 gave the same samples as η = 0")
	}
}

func TestInvalidOptions(t *testing.T) {
	m, store := tinyModel(0, 10)
	cond, condStore := tinyModel(10, 10)
	cond4, cond4Store := tinyModel(4, 10)
	s := New(testutil.GoBackend(t), store, m)
	sc := New(testutil.GoBackend(t), condStore, cond)
	sc4 := New(testutil.GoBackend(t), cond4Store, cond4)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		s      *Sampler
		n      int
		labels []int
		o      Options
		want   string
	}{
		{"S=0", s, 1, nil, Options{Method: "ddim", Steps: 0}, "DDIM steps S = 0 out of range [1, T=10]"},
		{"S>T", s, 1, nil, Options{Method: "ddim", Steps: 11}, "S = 11 out of range"},
		{"eta<0", s, 1, nil, Options{Method: "ddim", Steps: 5, Eta: -0.5}, "eta = -0.5"},
		{"eta>1", s, 1, nil, Options{Method: "ddim", Steps: 5, Eta: 1.5}, "eta = 1.5"},
		{"method", s, 1, nil, Options{Method: "euler"}, `unknown sampler "euler"`},
		{"variance", s, 1, nil, Options{Method: "ddpm", Variance: "large"}, `unknown DDPM variance "large"`},
		{"n=0", s, 0, nil, ddpmOptions(1), "number of samples 0"},
		{"cfg on unconditional", s, 1, []int{3}, Options{Method: "ddpm", Variance: "beta", Guidance: Guidance{Kind: "cfg", Scale: 2}},
			"needs a class-conditional model"},
		{"labels on unconditional", s, 1, []int{3}, ddpmOptions(1), "the model is unconditional"},
		{"unknown class", sc, 1, []int{12}, ddpmOptions(1), "class 12 (sample 0) out of range [0, 9]"},
		{"class beyond a 4-class model", sc4, 2, []int{1, 4}, ddpmOptions(1), "class 4 (sample 1) out of range [0, 3]"},
		{"cfg without labels", sc, 1, nil, Options{Method: "ddpm", Variance: "beta", Guidance: Guidance{Kind: "cfg", Scale: 1}},
			"needs class labels"},
		{"record", s, 1, nil, Options{Method: "ddpm", Variance: "beta", Record: []int{11}}, "trajectory step 11"},
		{"corrector<0", s, 1, nil, Options{Method: "ddpm", Variance: "beta", Corrector: -1, SNR: 0.16}, "Corrector = -1"},
		{"snr=0", s, 1, nil, Options{Method: "ddpm", Variance: "beta", Corrector: 1}, "SNR = 0: corrector signal-to-noise ratio 0"},
	} {
		_, err := tc.s.Sample(ctx, tc.n, tc.labels, tc.o, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	for _, g := range []string{"cfg", "cfg:x", "cfg:-1.5", "gamma:-0.1", "cfg:Inf", "foo:1", "classifier:NaN", "classifier:-1"} {
		if _, err := ParseGuidance(g); err == nil {
			t.Errorf("ParseGuidance(%q) accepted", g)
		}
	}
	if g, err := ParseGuidance("cfg:2.5"); err != nil || g.Kind != "cfg" || g.Scale != 2.5 || g.String() != "cfg:2.5" {
		t.Errorf("ParseGuidance(cfg:2.5) = %+v, %v", g, err)
	}
	// The assignment's γ: ε_u + γ(ε_c − ε_u) = (1+w)ε_c − wε_u with w = γ − 1.
	for in, want := range map[string]float64{"gamma:5": 4, "gamma:0": -1, "gamma:1": 0, "cfg:-1": -1} {
		if g, err := ParseGuidance(in); err != nil || g.Kind != "cfg" || g.Scale != want || g.Gamma() != want+1 {
			t.Errorf("ParseGuidance(%s) = %+v (γ %g), %v; want cfg with w = %g", in, g, g.Gamma(), err, want)
		}
	}
}

// TestCFGBatchedEqualsSeparateCalls compares the one-call guided prediction with
// (1+w)·ε(x,t,y) − w·ε(x,t,∅) from two separate calls of the network.
func TestCFGBatchedEqualsSeparateCalls(t *testing.T) {
	m, store := tinyModel(10, 6)
	s := New(testutil.GoBackend(t), store, m)
	const w = 2.5
	exec, err := model.NewExec(s.backend, store, func(scope *model.Scope, x, tt, labels *Node) []*Node {
		scope = scope.In(training.ModelScopeName)
		enter := func(string) *model.Scope { return scope.ResetVisited() }
		guided := s.epsilon(enter, x, tt, labels, Guidance{Kind: "cfg", Scale: w})
		cond := m.Epsilon(scope.ResetVisited(), x, tt, labels)
		uncond := m.Epsilon(scope.ResetVisited(), x, tt, BroadcastToDims(Scalar(x.Graph(), dtypes.Int32, m.Net.NullClass()), 3))
		return []*Node{guided, Sub(MulScalar(cond, 1+w), MulScalar(uncond, w))}
	})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 3*Pixels)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	outs, err := exec.Call(tensors.FromFlatDataAndDimensions(x, 3, 28, 28, 1),
		tensors.FromFlatDataAndDimensions([]int32{1, 3, 6}, 3), tensors.FromFlatDataAndDimensions([]int32{2, 7, 10}, 3))
	if err != nil {
		t.Fatal(err)
	}
	a, b := tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
	for i := range a {
		if d := math.Abs(float64(a[i] - b[i])); d > 1e-4*(1+math.Abs(float64(b[i]))) {
			t.Fatalf("value %d: batched %g vs separate %g", i, a[i], b[i])
		}
	}
}

// TestConditionalSamplingAndCFG checks classifier-free guidance, ε̂ = (1+w)·ε(x,t,y) − w·ε(x,t,∅),
// against an independent computation: a deterministic DDIM chain (η = 0, no clipping) run here in
// float64 from the sampler's own x_T, with ε(x,t,y) and ε(x,t,∅) from separate calls of the
// network. With w = 0 the sampler must follow the conditional chain (and equal plain conditional
// sampling bit for bit, DDIM and DDPM); with w = 3 the guided chain, which is far from it.
func TestConditionalSamplingAndCFG(t *testing.T) {
	const T = 6
	m, store := tinyModel(10, T)
	s := New(testutil.GoBackend(t), store, m)
	labels := []int{0, 3, 9}
	const b = 3
	sample := func(o Options, w float64, guided bool) *Result {
		t.Helper()
		if guided {
			o.Guidance = Guidance{Kind: "cfg", Scale: w}
		}
		r, err := s.Sample(context.Background(), b, labels, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ddim := Options{Method: "ddim", Steps: 3, Eta: 0, ClipX0: false, Seed: 2, Record: []int{T}}
	plain := sample(ddim, 0, false)
	xT := plain.Frames[0].X // x_T (recording it does not change the samples: TestDDIMEtaZeroIsDeterministicGivenXT)

	eps := hostEpsilon(t, s.backend, m, store, b)
	cond := []int32{int32(labels[0]), int32(labels[1]), int32(labels[2])}
	null := slices.Repeat([]int32{int32(m.Net.NullClass())}, b)
	steps, err := diffusion.DDIMTimesteps(T, ddim.Steps)
	if err != nil {
		t.Fatal(err)
	}
	// reference is the guided DDIM chain with η = 0: x̂_0 = (x − √(1−ᾱ_t)·ε̂)/√ᾱ_t and
	// x_t' = √ᾱ_t'·x̂_0 + √(1−ᾱ_t')·ε̂ (ᾱ_0 = 1).
	reference := func(w float64) []float64 {
		return guidedDDIMReference(m.Schedule.AlphaBar, steps, xT, w,
			func(x []float64, st int) []float64 { return eps(x, st, cond) },
			func(x []float64, st int) []float64 { return eps(x, st, null) })
	}
	const tol = 1e-4
	ref0, ref3 := reference(0), reference(3)
	var apart float64 // how far guidance moves the reference chain
	for i := range ref0 {
		apart = max(apart, math.Abs(ref3[i]-ref0[i])/(1+math.Abs(ref0[i])))
	}
	if apart < 100*tol {
		t.Fatalf("w = 3 moves the reference chain by only %g: the test could not tell w = 0 from w = 3", apart)
	}
	if d := maxRelDiff(plain.Images, ref0); d > tol {
		t.Errorf("plain conditional DDIM differs from the reference conditional chain by %g", d)
	}
	w0, w3 := sample(ddim, 0, true), sample(ddim, 3, true)
	if d := maxRelDiff(w0.Images, ref0); d > tol {
		t.Errorf("DDIM with cfg w = 0 differs from the reference conditional chain by %g", d)
	}
	if d := maxRelDiff(w3.Images, ref3); d > tol {
		t.Errorf("DDIM with cfg w = 3 differs from the reference guided chain by %g (w = 3 moves it by %g)", d, apart)
	}
	t.Logf("reference chains: w = 3 moves x_0 by up to %.3g; sampler within %.2g (w = 0) and %.2g (w = 3)",
		apart, maxRelDiff(w0.Images, ref0), maxRelDiff(w3.Images, ref3))
	// w = 0 is conditional sampling, bit for bit, also for DDPM (with noise and clipping); w = 3 is not.
	for _, o := range []Options{ddim, ddpmOptions(2)} {
		plain, w0, w3 := sample(o, 0, false), sample(o, 0, true), sample(o, 3, true)
		if !slices.Equal(plain.Images, w0.Images) {
			t.Errorf("%s: cfg with w = 0 differs from plain conditional sampling", o.Method)
		}
		if slices.Equal(plain.Images, w3.Images) {
			t.Errorf("%s: cfg with w = 3 changed nothing", o.Method)
		}
	}
}

// TestTrajectoryStepsAreRecorded checks that the steps TrajectorySteps picks are steps the sampler
// visits, so a DDIM trajectory has every frame it asks for (steps from an even grid over 0..T were
// silently dropped by DDIM, which visits only τ_S > … > τ_1), and that a DDPM one covers T..0.
func TestTrajectoryStepsAreRecorded(t *testing.T) {
	m, store := tinyModel(0, 20)
	s := New(testutil.GoBackend(t), store, m)
	for _, o := range []Options{
		{Method: "ddim", Steps: 7, Seed: 1},
		{Method: "ddpm", Variance: diffusion.BetaVariance, Seed: 1},
	} {
		o.Record = TrajectorySteps(20, o, 6)
		if len(o.Record) != 6 || o.Record[0] != VisitedSteps(20, o)[0] || o.Record[5] != 0 {
			t.Errorf("%s: TrajectorySteps = %v, want 6 steps from the first visited one down to 0", o.Method, o.Record)
		}
		res, err := s.Sample(context.Background(), 2, nil, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Frames) != len(o.Record) {
			t.Errorf("%s: %d frames recorded for the %d steps %v", o.Method, len(res.Frames), len(o.Record), o.Record)
		}
	}
}

// TestGammaZeroIsUnconditional checks the assignment's γ = 0 end to end: guided sampling with
// gamma:0 (w = −1) draws what the model draws with every label set to "no class".
func TestGammaZeroIsUnconditional(t *testing.T) {
	m, store := tinyModel(10, 10)
	s := New(testutil.GoBackend(t), store, m)
	g, err := ParseGuidance("gamma:0")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Method: "ddim", Steps: 5, Seed: 3, Guidance: g}
	guided, err := s.Sample(context.Background(), 4, []int{3, 7, 0, 9}, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Guidance = Guidance{}
	plain, err := s.Sample(context.Background(), 4, nil, o, nil) // no labels: "no class"
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain.Images {
		if d := math.Abs(float64(guided.Images[i] - plain.Images[i])); d > 1e-4 {
			t.Fatalf("pixel %d: γ = 0 gives %g, \"no class\" %g", i, guided.Images[i], plain.Images[i])
		}
	}
	o.Guidance = Guidance{Kind: "cfg", Scale: 4}
	strong, err := s.Sample(context.Background(), 4, []int{3, 7, 0, 9}, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(strong.Images, plain.Images) {
		t.Error("γ = 5 draws the same images as \"no class\"")
	}
}

// guidedDDIMReference is the guided DDIM chain with η = 0 run in float64 from xT over steps (the
// sampler's visited steps, decreasing), ε̂ = (1+w)·ε_a − w·ε_b: x̂_0 = (x − √(1−ᾱ_t)·ε̂)/√ᾱ_t and
// x_t' = √ᾱ_t'·x̂_0 + √(1−ᾱ_t')·ε̂ (ᾱ_0 = 1). The reference of the guidance tests.
func guidedDDIMReference(ab []float64, steps []int, xT []float32, w float64, epsA, epsB func(x []float64, step int) []float64) []float64 {
	x := make([]float64, len(xT))
	for i, v := range xT {
		x[i] = float64(v)
	}
	for i, st := range steps {
		prev := 0
		if i+1 < len(steps) {
			prev = steps[i+1]
		}
		ea, eb := epsA(x, st), epsB(x, st)
		for k := range x {
			e := (1+w)*ea[k] - w*eb[k]
			x0 := (x[k] - math.Sqrt(1-ab[st])*e) / math.Sqrt(ab[st])
			x[k] = math.Sqrt(ab[prev])*x0 + math.Sqrt(1-ab[prev])*e
		}
	}
	return x
}

// maxRelDiff is the largest |got − want| / (1 + |want|).
func maxRelDiff(got []float32, want []float64) (d float64) {
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-want[i])/(1+math.Abs(want[i])))
	}
	return d
}

// hostEpsilon returns ε(x, t, y) of m (weights in store) for b images, in float64 on the host,
// for reference computations; y is nil for unconditional models.
func hostEpsilon(t *testing.T, backend compute.Backend, m *diffusion.Model, store *model.Store, b int) func(x []float64, step int, y []int32) []float64 {
	t.Helper()
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*Node) []*Node {
		var y *Node
		if len(in) > 2 {
			y = in[2]
		}
		return []*Node{m.Epsilon(scope.In(training.ModelScopeName), in[0], in[1], y)}
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(x []float64, step int, y []int32) []float64 {
		t.Helper()
		x32 := make([]float32, len(x))
		for i, v := range x {
			x32[i] = float32(v)
		}
		args := []any{tensors.FromFlatDataAndDimensions(x32, b, 28, 28, 1),
			tensors.FromFlatDataAndDimensions(slices.Repeat([]int32{int32(step)}, b), b)}
		if y != nil {
			args = append(args, tensors.FromFlatDataAndDimensions(y, b))
		}
		out, err := exec.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
		e := make([]float64, len(x))
		for i, v := range tensors.MustCopyFlatData[float32](out[0]) {
			e[i] = float64(v)
		}
		return e
	}
}
