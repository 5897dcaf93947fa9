package app

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/rng"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// XLACPUPluginEnv names the PJRT CPU plugin (.so) that TestXLACPUMatchesGoBackend runs on; when it
// is unset, the test looks where scripts/install_xla_cpu_plugin.sh installs it.
const XLACPUPluginEnv = "DDPM_XLA_CPU_PLUGIN"

// XLARequiredEnv, when set (CI sets it after installing the plugin), turns a missing plugin into a
// failure instead of a skip.
const XLARequiredEnv = "DDPM_REQUIRE_XLA"

// xlaCPUPlugin returns the plugin path, or skips t with a message saying how to install one.
func xlaCPUPlugin(t *testing.T) string {
	t.Helper()
	if !backend.XLASupported() {
		t.Skip("this test binary has no XLA support (built with -tags noxla, without cgo, or not on linux/amd64)")
	}
	path := os.Getenv(XLACPUPluginEnv)
	if path == "" {
		path, _ = filepath.Abs(filepath.Join("..", ".xla-cpu", "pjrt_c_api_cpu_plugin.so"))
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(XLARequiredEnv) != "" { // CI installed the plugin: its absence is a failure
			t.Fatalf("$%s is set but there is no PJRT CPU plugin at %s: %v", XLARequiredEnv, path, err)
		}
		t.Skipf("no PJRT CPU plugin at %s (%v): run scripts/install_xla_cpu_plugin.sh (PyPI, ~63 MB), "+
			"or set $%s to a PJRT CPU plugin; see bench/XLA_CPU.md", path, err, XLACPUPluginEnv)
	}
	return path
}

// cloneStore copies every variable of src (values as host tensors, trainable flags kept) into a
// new store, so that two backends start from the same weights.
func cloneStore(t *testing.T, src *model.Store) *model.Store {
	t.Helper()
	dst := model.NewStore()
	for v := range src.IterVariables() {
		value, err := v.MustValue().LocalClone()
		if err != nil {
			t.Fatalf("%s: %v", v.Path(), err)
		}
		nv, err := dst.CreateVariable(v.Path(), value)
		if err != nil {
			t.Fatalf("%s: %v", v.Path(), err)
		}
		nv.Trainable = v.Trainable
	}
	return dst
}

// maxDiff returns max |a−b| and max |a| over two equally long slices.
func maxDiff(a, b []float32) (diff, scale float64) {
	for i := range a {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = max(scale, math.Abs(float64(a[i])))
	}
	return diff, scale
}

// TestXLACPUMatchesGoBackend runs a tiny training (initialisation, two ε-prediction train steps
// with Adam) and a short DDPM sampler run through XLA's PJRT CPU plugin and through the pure-Go
// backend, from the same weights and inputs (the noise t, ε, z given as inputs: the backends' random
// streams differ), and compares them to float32 tolerance.
// The two backends also use different convolution formulations (stock Convolve on XLA, im2col +
// DotGeneral on Go), so this checks that choice end to end. See bench/XLA_CPU.md.
func TestXLACPUMatchesGoBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: XLA compilation takes ~10-20 s")
	}
	plugin := xlaCPUPlugin(t)
	t.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	xb, info, err := backend.Open("xla:" + plugin)
	if err != nil {
		t.Fatalf("opening the XLA backend with %s: %v", plugin, err)
	}
	defer xb.Finalize()
	t.Logf("%s", info)
	gb := testutil.GoBackend(t)

	net := scorenet.Default()
	net.Channels = [4]int{8, 16, 16, 16}
	net.EmbedDim = 16
	net.EncoderGroups = [4]int{4, 4, 4, 4}
	net.DecoderGroups = [3]int{4, 4, 4}
	sched := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 6, Beta1: 1e-4, BetaT: 0.2})
	m := &diffusion.Model{Net: network.FromScoreNet(net), Schedule: sched}
	const batch = 4
	x0 := make([]float32, batch*784)
	for i := range x0 {
		x0[i] = float32(math.Sin(float64(i)*0.37)) * 0.9 // deterministic pixels in [-0.9, 0.9]
	}

	// Initialise the weights on the Go backend (one forward call), then give XLA a copy.
	goStore := model.NewStore()
	goStore.SetParam(model.ParamInitialSeed, int64(7))
	forward := func(b compute.Backend, store *model.Store) []float32 {
		exec, err := model.NewExec(b, store, func(scope *model.Scope, x, tt *Node) *Node {
			return m.Epsilon(scope.In(diffusion.ScopeName), x, tt, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Call(tensors.FromFlatDataAndDimensions(x0, batch, 28, 28, 1), []int32{1, 2, 4, 6})
		if err != nil {
			t.Fatalf("forward on %s: %v", b.Name(), err)
		}
		return tensors.MustCopyFlatData[float32](outs[0])
	}
	goEps := forward(gb, goStore)
	xlaStore := cloneStore(t, goStore)
	xlaEps := forward(xb, xlaStore)
	check := func(what string, g, x []float32, tol float64) {
		t.Helper()
		if len(g) != len(x) {
			t.Fatalf("%s: %d values on Go, %d on XLA", what, len(g), len(x))
		}
		d, s := maxDiff(g, x)
		t.Logf("%-28s max |go-xla| = %.3g (max |go| = %.3g)", what, d, s)
		if d > tol*max(1, s) || math.IsNaN(d) {
			t.Errorf("%s: max |go-xla| = %g > %g × max(1, %g)", what, d, tol, s)
		}
	}
	check("forward ε̂", goEps, xlaEps, 1e-4)

	// GoMLX draws random numbers with the backend's RNGBitGenerator: XLA's algorithm and the Go
	// backend's differ, so the same RNG state gives different draws (logged, not required). The
	// comparisons below therefore feed the noise (t, ε, z) as inputs.
	draw := func(b compute.Backend) []float32 {
		outs, err := model.NewExec(b, model.NewStore(), func(scope *model.Scope, rng *Node) *Node {
			_, z := RandomNormal(rng, shapes.Make(dtypes.Float32, 8))
			return z
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := outs.Call(rng.GraphState(7, rng.StepNoise, 0))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](r[0])
	}
	goZ, xlaZ := draw(gb), draw(xb)
	t.Logf("RandomNormal from the same state: go %.4f, xla %.4f (identical: %v)", goZ[:3], xlaZ[:3], slices.Equal(goZ, xlaZ))

	// Two train steps (forward, the ε-prediction loss of diffusion.Model.Loss with given t and ε,
	// backward, Adam), the same batches on both backends.
	noise := func(step int) (*tensors.Tensor, *tensors.Tensor) {
		ts := make([]int32, batch)
		for i := range ts {
			ts[i] = int32(1 + (i+3*step)%sched.T)
		}
		eps := make([]float32, batch*784)
		for i := range eps {
			eps[i] = float32(math.Sin(float64(i+step*1000)*1.7 + 0.3)) // deterministic, spread in [-1, 1]
		}
		return tensors.FromFlatDataAndDimensions(ts, batch), tensors.FromFlatDataAndDimensions(eps, batch, 28, 28, 1)
	}
	trainSteps := func(b compute.Backend, store *model.Store) (losses []float32) {
		trainer := train.NewTrainer(b, store, func(scope *model.Scope, x, tt, eps *Node) {
			xt := diffusion.AddNoise(sched, x, tt, eps)
			epsHat := m.Epsilon(scope.In(diffusion.ScopeName), xt, tt, nil)
			train.AddMainLoss(ReduceAllMean(Square(Sub(epsHat, eps))))
		}, nil, optimizer.Adam().LearningRate(1e-3).Done(), nil, nil)
		for step := range 2 {
			tt, eps := noise(step)
			x := tensors.FromFlatDataAndDimensions(x0, batch, 28, 28, 1)
			metrics, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x, tt, eps}})
			if err != nil {
				t.Fatalf("train step %d on %s: %v", step, b.Name(), err)
			}
			losses = append(losses, tensors.ToScalar[float32](metrics[0]))
		}
		return losses
	}
	goLoss, xlaLoss := trainSteps(gb, goStore), trainSteps(xb, xlaStore)
	t.Logf("losses: go %v, xla %v", goLoss, xlaLoss)
	check("train losses", goLoss, xlaLoss, 1e-5)
	var worst float64
	for v := range goStore.IterVariables() {
		if v.DType() != dtypes.Float32 || strings.HasPrefix(v.Path(), "/metrics/") {
			continue // RNG state, step counter, the trainer's loss averages
		}
		w := xlaStore.GetVariable(v.Path())
		if w == nil {
			t.Errorf("%s: missing in the XLA store", v.Path())
			continue
		}
		d, s := maxDiff(tensors.MustCopyFlatData[float32](v.MustValue()), tensors.MustCopyFlatData[float32](w.MustValue()))
		worst = max(worst, d/max(1, s))
		if d > 1e-4*max(1, s) || math.IsNaN(d) {
			t.Errorf("after 2 train steps, %s: max |go-xla| = %g (max |go| = %g)", v.Path(), d, s)
		}
	}
	t.Logf("after 2 train steps: every weight and Adam moment within %.3g × max(1, max |w|)", worst)

	// A DDPM sampler run over all T = 6 steps (the step of sampler.stepGraph: ε̂, clipped x̂0,
	// σ_t² = β_t) with given x_T and z, from the trained weights.
	chain := func(b compute.Backend, store *model.Store) []float32 {
		inf, err := training.InferenceStore(store, false)
		if err != nil {
			t.Fatal(err)
		}
		exec, err := model.NewExec(b, inf, func(scope *model.Scope, x, tt, z *Node) *Node {
			tb := BroadcastToDims(tt, 3)
			eps := m.Epsilon(scope.In(diffusion.ScopeName), x, tb, nil)
			prev, _ := diffusion.DDPMStep(sched, x, tb, eps, z, diffusion.BetaVariance, true)
			return prev
		})
		if err != nil {
			t.Fatal(err)
		}
		x := tensors.FromFlatDataAndDimensions(x0[:3*784], 3, 28, 28, 1) // x_T
		for step := sched.T; step >= 1; step-- {
			_, z := noise(step)
			zz := tensors.FromFlatDataAndDimensions(tensors.MustCopyFlatData[float32](z)[:3*784], 3, 28, 28, 1)
			outs, err := exec.Call(x, int32(step), zz)
			if err != nil {
				t.Fatalf("sampler step %d on %s: %v", step, b.Name(), err)
			}
			x = outs[0]
		}
		return tensors.MustCopyFlatData[float32](x)
	}
	check("DDPM chain (T=6)", chain(gb, goStore), chain(xb, xlaStore), 1e-4)

	// The project's sampler end to end on XLA (its own noise): valid, clipped, reproducible.
	inf, err := training.InferenceStore(xlaStore, false)
	if err != nil {
		t.Fatal(err)
	}
	s := sampler.New(xb, inf, m)
	o := sampler.Options{Method: "ddpm", Variance: diffusion.BetaVariance, ClipX0: true, Seed: 11, BatchSize: 2}
	a, err := s.Sample(context.Background(), 3, nil, o, nil)
	if err != nil {
		t.Fatalf("sampler on XLA: %v", err)
	}
	again, err := s.Sample(context.Background(), 3, nil, o, nil)
	if err != nil {
		t.Fatalf("sampler on XLA: %v", err)
	}
	for i, v := range a.Images {
		if !(v >= -1 && v <= 1) {
			t.Fatalf("XLA sample pixel %d = %g outside [-1, 1]", i, v)
		}
	}
	if len(a.Images) != 3*784 || !slices.Equal(a.Images, again.Images) {
		t.Errorf("XLA sampler: %d values, same seed reproduces: %v", len(a.Images), slices.Equal(a.Images, again.Images))
	}
}
