package scorenet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
	"github.com/gomlx/gomlx/ml/model"
)

// The PyTorch fixture (testdata/torch_reference.npz, see testdata/README.md): a small ScoreNet
// (channels 32, 64, 64, 64; embedding 64) with its weights, inputs, output, loss and gradients.

const fixturePath = "testdata/torch_reference.npz"

// fixtureConfig is the configuration the fixture was generated with.
func fixtureConfig() Config {
	c := Default()
	c.Channels = [4]int{32, 64, 64, 64}
	c.EmbedDim = 64
	return c
}

// loadFixture reads the fixture and checks that it holds what testdata/README.md promises.
func loadFixture(t *testing.T) map[string]*tensors.Tensor {
	t.Helper()
	m, err := numpy.FromNpzFile(filepath.FromSlash(fixturePath))
	if err != nil {
		t.Fatalf("reading %s: %v", fixturePath, err)
	}
	if len(m) != 102 {
		t.Fatalf("%s: %d arrays, want 102", fixturePath, len(m))
	}
	for k, v := range m {
		if dt := v.DType(); dt != dtypes.Float32 && dt != dtypes.Float64 {
			t.Fatalf("%s: %q has dtype %s, want float32 or float64", fixturePath, k, dt)
		}
	}
	return m
}

// fixtureFloat32 returns the flat float32 data of key, checking its dimensions.
func fixtureFloat32(t *testing.T, m map[string]*tensors.Tensor, key string, dims ...int) []float32 {
	t.Helper()
	v, ok := m[key]
	if !ok {
		t.Fatalf("fixture has no %q", key)
	}
	if err := v.Shape().Check(dtypes.Float32, dims...); err != nil {
		t.Fatalf("fixture %q: %v", key, err)
	}
	return tensors.MustCopyFlatData[float32](v)
}

// permute transposes flat data of the given dimensions: output axis i is input axis perm[i].
func permute(data []float32, dims []int, perm ...int) ([]float32, []int) {
	rank := len(dims)
	strides := make([]int, rank)
	s := 1
	for i := rank - 1; i >= 0; i-- {
		strides[i] = s
		s *= dims[i]
	}
	outDims := make([]int, rank)
	for i, p := range perm {
		outDims[i] = dims[p]
	}
	out := make([]float32, len(data))
	idx := make([]int, rank) // index in the output
	for o := range out {
		src := 0
		for i, p := range perm {
			src += idx[i] * strides[p]
		}
		out[o] = data[src]
		for i := rank - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < outDims[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, outDims
}

// torchParam maps a Go variable path to its PyTorch name and the permutation from the PyTorch
// layout to the Go one (nil: same layout).
type torchParam struct {
	goPath, torchName string
	perm              []int
}

// torchParams lists every variable of the fixture network.
func torchParams() []torchParam {
	ps := []torchParam{
		{"/embed/fourier/W", "embed.0.W", nil},
		{"/embed/dense/weights", "embed.1.weight", []int{1, 0}},
		{"/embed/dense/biases", "embed.1.bias", nil},
		{"/tconv1/biases", "tconv1.bias", nil},
	}
	for i := 1; i <= 4; i++ {
		// Conv2d [Cout, Cin, kh, kw] -> [kh, kw, Cin, Cout]; ConvTranspose2d [Cin, Cout, kh, kw] -> [kh, kw, Cin, Cout].
		ps = append(ps, torchParam{fmt.Sprintf("/conv%d/weights", i), fmt.Sprintf("conv%d.weight", i), []int{2, 3, 1, 0}},
			torchParam{fmt.Sprintf("/tconv%d/weights", i), fmt.Sprintf("tconv%d.weight", i), []int{2, 3, 0, 1}},
			torchParam{fmt.Sprintf("/gnorm%d/gamma", i), fmt.Sprintf("gnorm%d.weight", i), nil},
			torchParam{fmt.Sprintf("/gnorm%d/beta", i), fmt.Sprintf("gnorm%d.bias", i), nil})
		if i > 1 {
			ps = append(ps, torchParam{fmt.Sprintf("/tgnorm%d/gamma", i), fmt.Sprintf("tgnorm%d.weight", i), nil},
				torchParam{fmt.Sprintf("/tgnorm%d/beta", i), fmt.Sprintf("tgnorm%d.bias", i), nil})
		}
	}
	for i := 1; i <= 7; i++ {
		ps = append(ps, torchParam{fmt.Sprintf("/dense%d/weights", i), fmt.Sprintf("dense%d.dense.weight", i), []int{1, 0}},
			torchParam{fmt.Sprintf("/dense%d/biases", i), fmt.Sprintf("dense%d.dense.bias", i), nil})
	}
	return ps
}

// toGoLayout converts a fixture array to the Go layout of p.
func (p torchParam) toGoLayout(v *tensors.Tensor) *tensors.Tensor {
	data := tensors.MustCopyFlatData[float32](v)
	dims := v.Shape().Dimensions
	if p.perm != nil {
		data, dims = permute(data, dims, p.perm...)
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// maxAbs returns the largest magnitude in s.
func maxAbs(s []float32) float64 {
	var m float64
	for _, v := range s {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// compareScaled fails if |got-want| exceeds tol·max|want| (or tol when absolute is set) anywhere.
func compareScaled(t *testing.T, what string, got, want []float32, tol float64, absolute bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	scale := 1.0
	if !absolute {
		scale = maxAbs(want)
	}
	var worst float64
	worstAt := 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > worst || math.IsNaN(d) {
			worst, worstAt = d, i
		}
	}
	if worst > tol*scale || math.IsNaN(worst) {
		t.Errorf("%s: max difference %.3g at %d (got %g, want %g) exceeds %.3g (tolerance %g × scale %.3g)",
			what, worst, worstAt, got[worstAt], want[worstAt], tol*scale, tol, scale)
	} else {
		t.Logf("%s: max difference %.3g (%.2g of scale %.3g)", what, worst, worst/scale, scale)
	}
}

// TestMatchesTorch loads the PyTorch weights into a store, runs forward, MSE loss and gradients
// with each convolution formulation on the Go backend, and compares them with PyTorch's.
func TestMatchesTorch(t *testing.T) {
	fix := loadFixture(t)
	const batch = 4
	x := fixtureFloat32(t, fix, "x_nhwc", batch, ImageSize, ImageSize, 1)
	tt := fixtureFloat32(t, fix, "t", batch)
	target := fixtureFloat32(t, fix, "target", batch, 1, ImageSize, ImageSize) // C = 1: NCHW == NHWC.
	wantOut := fixtureFloat32(t, fix, "out_nhwc", batch, ImageSize, ImageSize, 1)
	wantLoss := float64(tensors.ToScalar[float32](fix["loss"]))
	params := torchParams()
	if len(params) != 40 {
		t.Fatalf("mapped %d parameters, the fixture has 40", len(params))
	}

	for _, f := range []layers.Formulation{layers.Patches, layers.Stock} {
		t.Run(f.String(), func(t *testing.T) {
			store := model.NewStore()
			for _, p := range params {
				v, ok := fix[p.torchName]
				if !ok {
					t.Fatalf("fixture has no %q", p.torchName)
				}
				if _, err := store.CreateVariable(p.goPath, p.toGoLayout(v)); err != nil {
					t.Fatal(err)
				}
			}
			cfg := fixtureConfig()
			exec, err := model.NewExec(goBackend(t), store, func(scope *model.Scope, x, tt, target *Node) []*Node {
				out := cfg.Apply(scope, x, tt, nil, f)
				loss := ReduceAllMean(Square(Sub(out, target)))
				nodes := make([]*Node, 0, len(params))
				for _, p := range params[1:] { // embed.0.W is fixed.
					nodes = append(nodes, store.GetVariable(p.goPath).NodeValue(x.Graph()))
				}
				return append([]*Node{out, loss}, Gradient(loss, nodes...)...)
			})
			if err != nil {
				t.Fatal(err)
			}
			outs, err := exec.Call(
				tensors.FromFlatDataAndDimensions(x, batch, ImageSize, ImageSize, 1),
				tensors.FromFlatDataAndDimensions(tt, batch),
				tensors.FromFlatDataAndDimensions(target, batch, ImageSize, ImageSize, 1))
			if err != nil {
				t.Fatal(err)
			}
			for v := range store.IterVariables() {
				if v.Trainable && strings.HasPrefix(v.Path(), "/embed/fourier") {
					t.Errorf("%s must not be trainable", v.Path())
				}
			}
			compareScaled(t, "output", tensors.MustCopyFlatData[float32](outs[0]), wantOut, 1e-5, false)
			gotLoss := float64(tensors.ToScalar[float32](outs[1]))
			if d := math.Abs(gotLoss-wantLoss) / wantLoss; d > 1e-5 {
				t.Errorf("loss = %.7f, PyTorch %.7f (relative difference %.2g)", gotLoss, wantLoss, d)
			}
			for i, p := range params[1:] {
				want := p.toGoLayout(fix["grad/"+p.torchName])
				got := outs[2+i]
				if !got.Shape().Equal(want.Shape()) {
					t.Errorf("gradient of %s: shape %s, want %s", p.goPath, got.Shape(), want.Shape())
					continue
				}
				// dense7's gradient is mathematically zero (see testdata/README.md): absolute tolerance.
				absolute := strings.HasPrefix(p.goPath, "/dense7/")
				tol := 1e-4
				if absolute {
					tol = 1e-5
				}
				compareScaled(t, "gradient of "+p.goPath, tensors.MustCopyFlatData[float32](got),
					tensors.MustCopyFlatData[float32](want), tol, absolute)
			}
		})
	}
}

// TestFormulationsAgree runs the graph accelerators get (Stock: [B, H, W, C] activations, stock
// convolutions, the phase formulation of ConvTranspose2D, GoMLX's autodiff) on the pure-Go backend
// against the channels-first hand-written-gradient graph that backend runs, on the same weights:
// output, loss and every gradient agree to float32 tolerance, for the default-size unconditional
// network and a conditional one.
func TestFormulationsAgree(t *testing.T) {
	const batch = 2
	rng := rand.New(rand.NewPCG(7, 8))
	x, tt, target := benchBatch(rng, batch)
	labels := tensors.FromFlatDataAndDimensions([]int32{3, 10}, batch) // a class and "no class"
	backend := goBackend(t)
	for _, classes := range []int{0, 10} {
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(3))
		cfg := Default()
		cfg.NumClasses = classes
		var names []string // trainable variables, in the order of the gradients
		run := func(f layers.Formulation) []*tensors.Tensor {
			exec, err := model.NewExec(backend, store, func(scope *model.Scope, x, tt, labels, target *Node) []*Node {
				if classes == 0 {
					labels = nil
				}
				out := cfg.Apply(scope, x, tt, labels, f)
				loss := ReduceAllMean(Square(Sub(out, target)))
				grads, paths := testutil.TrainableGradients(store, loss)
				names = paths
				return append([]*Node{out, loss}, grads...)
			})
			if err != nil {
				t.Fatal(err)
			}
			outs, err := exec.Call(x, tt, labels, target)
			if err != nil {
				t.Fatal(err)
			}
			return outs
		}
		want := run(layers.Stock) // creates and initialises the variables
		got := run(layers.Patches)
		if len(got) != len(want) || len(want) < 40 {
			t.Fatalf("%d results, want %d (output, loss, ~40 gradients)", len(got), len(want))
		}
		for i := range want {
			what, tol, absolute := "output", 1e-4, false
			switch {
			case i == 1:
				what = "loss"
			case i > 1:
				what = "gradient of " + names[i-2]
				// dense7's gradient is mathematically zero (see testdata/README.md): absolute tolerance.
				if strings.HasPrefix(names[i-2], "/dense7/") {
					tol, absolute = 1e-5, true
				}
			}
			what = fmt.Sprintf("%s (%d classes)", what, classes)
			compareScaled(t, what, tensors.MustCopyFlatData[float32](got[i]), tensors.MustCopyFlatData[float32](want[i]), tol, absolute)
		}
	}
}
