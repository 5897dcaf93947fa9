package unet

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// inputs returns a random batch: images [B, 28, 28, 1], t/T [B], labels [B] (class or "no class").
func inputs(seed uint64, batch, classes int) (x, tt, labels *tensors.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 1))
	xs := make([]float32, batch*ImageSize*ImageSize)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	ts := make([]float32, batch)
	ls := make([]int32, batch)
	for i := range ts {
		ts[i] = float32(1+rng.IntN(300)) / 300
		ls[i] = int32(rng.IntN(classes + 1))
	}
	return tensors.FromFlatDataAndDimensions(xs, batch, ImageSize, ImageSize, 1),
		tensors.FromFlatDataAndDimensions(ts, batch), tensors.FromFlatDataAndDimensions(ls, batch)
}

// countTrainable sums the sizes of the trainable variables.
func countTrainable(store *model.Store) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable {
			n += v.Shape().Size()
		}
	}
	return n
}

// TestParameterCounts checks the counts of the original PyTorch networks at D = 128 (outline §4:
// trainable weights with the BatchNorm scales and offsets).
func TestParameterCounts(t *testing.T) {
	backend := testutil.GoBackend(t)
	for _, c := range []struct {
		upKernel, classes, want int
	}{{4, 0, 7_974_145}, {4, 10, 8_060_673}, {2, 0, 6_794_497}, {2, 10, 6_881_025}} {
		cfg := Config{Hidden: 128, UpKernel: c.upKernel, NumClasses: c.classes}
		store := model.NewStore()
		x, tt, labels := inputs(1, 1, max(c.classes, 1))
		_, err := model.CallOnce(backend, store, func(scope *model.Scope, x, tt, labels *Node) *Node {
			if c.classes == 0 {
				labels = nil
			}
			return cfg.Apply(scope, x, tt, labels, layers.Auto)
		}, x, tt, labels)
		if err != nil {
			t.Fatal(err)
		}
		if got := countTrainable(store); got != c.want {
			t.Errorf("%+v: %d trainable parameters, want %d", cfg, got, c.want)
		}
	}
}

// TestOpShapes checks each op and block of §1 on [N, H, W, C] and channels-first activations.
func TestOpShapes(t *testing.T) {
	backend := testutil.GoBackend(t)
	for _, o := range []Ops{{ChannelsFirst: true, Formulation: layers.Patches}, {Formulation: layers.Patches}} {
		for _, c := range []struct {
			name      string
			h, in     int
			op        func(o Ops, s *model.Scope, x *Node) *Node
			wantH, wc int
		}{
			{"Conv", 28, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.Conv(s, x, 5) }, 28, 5},
			{"DownConv 28", 28, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.DownConv(s, x, 5) }, 14, 5},
			{"DownConv 14", 14, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.DownConv(s, x, 5) }, 7, 5},
			{"UpConv 7", 7, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.UpConv(s, []*Node{x}, 5, 4) }, 14, 5},
			{"UpConv 14 k2", 14, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.UpConv(s, []*Node{x}, 5, 2) }, 28, 5},
			{"Flatten", 7, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.Flatten(x) }, 1, 3},
			{"Unflatten", 1, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.Unflatten(s, x) }, 7, 3},
			{"ConvBlock", 28, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.ConvBlock(s, x, 4) }, 28, 4},
			{"DownBlock", 14, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.DownBlock(s, x, 4) }, 7, 4},
			{"UpBlock", 7, 3, func(o Ops, s *model.Scope, x *Node) *Node { return o.UpBlock(s, []*Node{x, x}, 4, 4) }, 14, 4},
		} {
			dims := []int{2, c.h, c.h, c.in}
			want := []int{2, c.wantH, c.wantH, c.wc}
			if o.ChannelsFirst {
				dims = []int{c.in, 2, c.h, c.h}
				want = []int{c.wc, 2, c.wantH, c.wantH}
			}
			out, err := model.CallOnce(backend, model.NewStore(), func(scope *model.Scope, g *Graph) *Node {
				return c.op(o, scope, Zeros(g, shapesFloat(dims...)))
			})
			if err != nil {
				t.Fatalf("%s (channels first %v): %v", c.name, o.ChannelsFirst, err)
			}
			if got := out.Shape().Dimensions; !slices.Equal(got, want) {
				t.Errorf("%s (channels first %v): output %v, want %v", c.name, o.ChannelsFirst, got, want)
			}
		}
	}
	out, err := model.CallOnce(backend, model.NewStore(), func(scope *model.Scope, g *Graph) *Node {
		return FCBlock(scope, Zeros(g, shapesFloat(3, 10)), 6)
	})
	if err != nil || !slices.Equal(out.Shape().Dimensions, []int{3, 6}) {
		t.Errorf("FCBlock(10, 6) on [3, 10]: %v, %v; want [3, 6]", out, err)
	}
}

// TestLayoutsAgree builds the conditional network channels-first (the Go backend's formulation,
// hand-written convolution gradients) and channels-last with stock convolutions (what XLA runs),
// with the same variables, in training mode: outputs, every gradient and the updated BatchNorm
// running averages agree to float32 round-off; then in inference mode (running averages).
func TestLayoutsAgree(t *testing.T) {
	backend := testutil.GoBackend(t)
	cfg := Config{Hidden: 4, UpKernel: 4, NumClasses: 10}
	x, tt, labels := inputs(3, 6, 10)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(7))
	var names []string
	run := func(f layers.Formulation, training bool) []*tensors.Tensor {
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, x, tt, labels *Node) []*Node {
			g := x.Graph()
			scope.Store().SetTraining(g, training)
			out := cfg.Apply(scope, x, tt, labels, f)
			if !training {
				return []*Node{out}
			}
			loss := ReduceAllMean(Square(out))
			grads, paths := testutil.TrainableGradients(store, loss)
			names = paths
			return append([]*Node{out}, grads...)
		})
		if err != nil {
			t.Fatal(err)
		}
		defer exec.Finalize()
		outs, err := exec.Call(x, tt, labels)
		if err != nil {
			t.Fatal(err)
		}
		return outs
	}
	runningStats := func() []float32 {
		var all []float32
		for v := range store.IterVariables() {
			if strings.HasPrefix(v.Name(), "running_") {
				all = append(all, tensors.MustCopyFlatData[float32](v.MustValue())...)
			}
		}
		return all
	}
	want := run(layers.Patches, true) // creates the variables
	wantStats := runningStats()
	if len(wantStats) != 2*84 { // 2 averages × the 84 channels of the 17 BatchNorms at D = 4
		t.Fatalf("%d running-average values", len(wantStats))
	}
	// Reset the running averages (the second run would average them twice).
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Name(), "running_") {
			init := float32(0)
			if v.Name() == "running_var" {
				init = 1
			}
			data := make([]float32, v.Shape().Size())
			for i := range data {
				data[i] = init
			}
			v.MustSetValue(tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...))
		}
	}
	got := run(layers.Stock, true)
	if len(want) < 40 || len(got) != len(want) {
		t.Fatalf("%d and %d results, want the output and ~60 gradients", len(want), len(got))
	}
	for i := range want {
		what, tol := "output", 2e-5
		g, w := tensors.MustCopyFlatData[float32](got[i]), tensors.MustCopyFlatData[float32](want[i])
		if i > 0 {
			// 5e-4 of the tensor's largest gradient: BatchNorm β's gradients are sums over the batch that
			// nearly cancel (|∂L/∂β| ~ 1e-7 against terms ~1e-4), so a changed summation order (compute
			// v0.1.14's SIMD reductions) moves them by ~1.5e-4 of their own size; a wrong layout moves
			// every gradient by O(1).
			what, tol = "gradient of "+names[i-1], 5e-4
			// A convolution bias followed by BatchNorm is cancelled by the batch mean in training,
			// as in the original: its gradient is zero up to round-off.
			if strings.HasSuffix(names[i-1], "/biases") && !strings.HasPrefix(names[i-1], "/out/") &&
				!strings.Contains(names[i-1], "/linear/") && !strings.Contains(names[i-1], "/fc/") {
				for j := range g {
					if math.Abs(float64(g[j])) > 1e-6 || math.Abs(float64(w[j])) > 1e-6 {
						t.Errorf("%s[%d] = %g and %g, want 0 (cancelled by BatchNorm)", what, j, g[j], w[j])
						break
					}
				}
				continue
			}
		}
		compare(t, what, g, w, tol)
	}
	compare(t, "running averages", runningStats(), wantStats, 1e-5)
	compare(t, "inference output", tensors.MustCopyFlatData[float32](run(layers.Stock, false)[0]),
		tensors.MustCopyFlatData[float32](run(layers.Patches, false)[0]), 2e-5)
}

// compare checks |got − want| ≤ tol·max|want| element-wise.
func compare(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = max(scale, math.Abs(float64(w)))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*max(scale, 1e-12) || math.IsNaN(float64(got[i])) {
			t.Errorf("%s[%d] = %g, want %g (scale %g)", what, i, got[i], want[i], scale)
			return
		}
	}
}

// TestConditioning checks that the class changes the prediction, that "no class" is the all-zeros
// one-hot vector, and that labels are refused by an unconditional network.
func TestConditioning(t *testing.T) {
	backend := testutil.GoBackend(t)
	cfg := Config{Hidden: 4, UpKernel: 4, NumClasses: 10}
	x, tt, _ := inputs(4, 3, 10)
	store := model.NewStore()
	predict := func(labels []int32) []float32 {
		out, err := model.CallOnce(backend, store, func(scope *model.Scope, x, tt, l *Node) *Node {
			return cfg.Apply(scope, x, tt, l, layers.Auto)
		}, x, tt, tensors.FromFlatDataAndDimensions(labels, 3))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out)
	}
	three, null := predict([]int32{3, 3, 3}), predict([]int32{10, 10, 10})
	if slices.Equal(three, null) {
		t.Error("class 3 and \"no class\" give the same prediction")
	}
	if !slices.Equal(predict([]int32{3, 10, 3})[:784], three[:784]) {
		t.Error("predictions are not per example")
	}
	_, err := model.CallOnce(backend, model.NewStore(), func(scope *model.Scope, x, tt, l *Node) *Node {
		return Config{Hidden: 4, UpKernel: 4}.Apply(scope, x, tt, l, layers.Auto)
	}, x, tt, tensors.FromFlatDataAndDimensions([]int32{1, 2, 3}, 3))
	if err == nil {
		t.Error("an unconditional network accepted labels")
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Default(), true}, {Config{Hidden: 1, UpKernel: 2}, true}, {Config{Hidden: 0, UpKernel: 4}, false},
		{Config{Hidden: 8, UpKernel: 3}, false}, {Config{Hidden: 8, UpKernel: 4, NumClasses: -1}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", c.cfg, err, c.ok)
		}
	}
}

func shapesFloat(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
