package figures

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/unet"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// The checks of the exercises of Assignment1_Neural_Graphics.ipynb: each runs the reader's code
// and the library's on the same inputs (and, for layers, the same weights) and says what differs.

// LessonOps is the layout of the lesson's graph code: channels-last [N, H, W, C] activations with
// the patches (im2col) convolutions, which every backend runs. The library's U-Net keeps the same
// variables (names and shapes) in every layout, so its weights fit the reader's layers.
var LessonOps = unet.Ops{Formulation: layers.Patches}

// RandomTensor returns a float32 tensor of the given shape filled with N(0, 1) values of the
// seeded stream (PCG(seed, 0)).
func RandomTensor(seed uint64, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// GraphFn is a layer: graph code on its inputs, with its variables under scope.
type GraphFn func(scope *model.Scope, inputs []*graph.Node) *graph.Node

// Comparison is what running the reader's layer and the library's on the same inputs found.
type Comparison struct {
	Name string
	In   [][]int // input shapes
	// Out and Want are the output shapes of the reader's layer and of the library's.
	Out, Want []int
	// MaxDiff is the largest |mine − library| over the output (+Inf when the shapes differ).
	MaxDiff float64
	// Params and WantParams count the trainable parameters each layer uses.
	Params, WantParams int
	// Extra lists the variables only the reader's layer created (other names or shapes).
	Extra []string
	// Err is set when the reader's layer failed to build or run.
	Err error
}

// Compare runs the library's layer lib, then the reader's layer mine, on the same inputs in one
// store (so that variables of the same name are the same weights), in training mode (BatchNorm
// normalises with the batch's statistics). Variables are initialised from seed 1.
func Compare(b compute.Backend, name string, inputs []*tensors.Tensor, mine, lib GraphFn) Comparison {
	c := Comparison{Name: name, MaxDiff: math.Inf(1)}
	for _, in := range inputs {
		c.In = append(c.In, in.Shape().Dimensions)
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	args := make([]any, len(inputs))
	for i, in := range inputs {
		args[i] = in
	}
	run := func(fn GraphFn) (out *tensors.Tensor, params int, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		used := map[string]bool{}
		out, err = model.CallOnce(b, store, func(scope *model.Scope, in []*graph.Node) *graph.Node {
			g := in[0].Graph()
			store.SetTraining(g, true)
			y := fn(scope.In("layer"), in)
			for v := range store.IterVariables() {
				if v.Trainable && v.InUseByGraph(g) {
					used[v.Path()] = true
				}
			}
			return y
		}, args...)
		for v := range store.IterVariables() {
			if used[v.Path()] {
				params += v.Shape().Size()
			}
		}
		return out, params, err
	}
	want, wantParams, err := run(lib)
	if err != nil {
		c.Err = fmt.Errorf("the library's %s failed (a bug of this check): %w", name, err)
		return c
	}
	c.Want, c.WantParams = want.Shape().Dimensions, wantParams
	before := map[string]bool{}
	for v := range store.IterVariables() {
		before[v.Path()] = true
	}
	got, params, err := run(mine)
	for v := range store.IterVariables() {
		if !before[v.Path()] {
			c.Extra = append(c.Extra, fmt.Sprintf("%s %v", v.Path(), v.Shape().Dimensions))
		}
	}
	slices.Sort(c.Extra)
	if err != nil {
		c.Err = err
		return c
	}
	c.Out, c.Params = got.Shape().Dimensions, params
	if slices.Equal(c.Out, c.Want) {
		c.MaxDiff = MaxAbsDiff(tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want))
	}
	return c
}

// Check reports nil when the reader's layer matches the library's: the same output shape, values
// within tol, the same parameters and no variable of its own; else what differs.
func (c Comparison) Check(tol float64) error {
	var problems []string
	switch {
	case c.Err != nil:
		problems = append(problems, c.Err.Error())
	case !slices.Equal(c.Out, c.Want):
		problems = append(problems, fmt.Sprintf("output shape %v, want %v", c.Out, c.Want))
	case !(c.MaxDiff <= tol):
		problems = append(problems, fmt.Sprintf("output differs from the library's by up to %.3g (tolerance %g)", c.MaxDiff, tol))
	}
	if c.Err == nil && c.Params != c.WantParams {
		problems = append(problems, fmt.Sprintf("%d trainable parameters, want %d", c.Params, c.WantParams))
	}
	if len(c.Extra) > 0 {
		problems = append(problems, fmt.Sprintf("variables the library does not have (use its scope names): %s",
			strings.Join(c.Extra, ", ")))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", c.Name, strings.Join(problems, "; "))
}

// ComparisonTable is a markdown table of comparisons: input and output shapes, parameters, the
// largest difference from the library and the verdict at tolerance tol.
func ComparisonTable(cs []Comparison, tol float64) string {
	var b strings.Builder
	b.WriteString("| layer | input shape(s) [N, H, W, C] | output shape | trainable parameters | max \\|yours − library\\| | check |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, c := range cs {
		verdict := "ok"
		if err := c.Check(tol); err != nil {
			verdict = "**FAIL**"
		}
		in := make([]string, len(c.In))
		for i, s := range c.In {
			in[i] = fmt.Sprint(s)
		}
		out, diff := fmt.Sprint(c.Out), fmt.Sprintf("%.1e", c.MaxDiff)
		if c.Err != nil {
			out, diff = "error", "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s |\n", c.Name, strings.Join(in, " + "), out, c.Params, diff, verdict)
	}
	return b.String()
}

// CheckAll returns the first failed check of cs, or nil.
func CheckAll(cs []Comparison, tol float64) error {
	for _, c := range cs {
		if err := c.Check(tol); err != nil {
			return err
		}
	}
	return nil
}

// CountParameters builds fn once on inputs and returns its trainable parameters.
func CountParameters(b compute.Backend, inputs []*tensors.Tensor, fn GraphFn) (int, error) {
	c := Compare(b, "count", inputs, fn, fn)
	if c.Err != nil {
		return 0, c.Err
	}
	return c.WantParams, nil
}

// MaxAbsDiff is the largest |a_i − b_i| of two equally long slices (+Inf for NaN or different
// lengths): the measure of every exercise check.
func MaxAbsDiff[F float32 | float64](a, b []F) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}

// ReverseStep runs the library's DDPM reverse step (diffusion.DDPMStep) on n images x_t at step t
// with the predicted noise epsHat and the step noise z (each n×28×28 values) and returns x_{t−1}.
func ReverseStep(b compute.Backend, s *schedule.Schedule, xt, epsHat, z []float32, n, t int,
	v diffusion.ReverseVariance, clip bool) ([]float32, error) {
	if len(xt) != n*Pixels || len(epsHat) != n*Pixels || len(z) != n*Pixels {
		return nil, fmt.Errorf("figures: ReverseStep wants %d values in x_t, ε̂ and z", n*Pixels)
	}
	if t < 1 || t > s.T {
		return nil, fmt.Errorf("figures: step t=%d out of range [1, %d]", t, s.T)
	}
	ts := make([]int32, n)
	for i := range ts {
		ts[i] = int32(t)
	}
	out, err := graph.ExecOnce(b, func(x, tt, e, z *graph.Node) *graph.Node {
		prev, _ := diffusion.DDPMStep(s, x, tt, e, z, v, clip)
		return prev
	}, img(xt, n), tensors.FromFlatDataAndDimensions(ts, n), img(epsHat, n), img(z, n))
	if err != nil {
		return nil, fmt.Errorf("figures: reverse step: %w", err)
	}
	return tensors.MustCopyFlatData[float32](out), nil
}

// GuideValues runs the library's classifier-free guidance combination (sampler.Guide) on the
// conditional and unconditional predictions with the assignment's scale γ (w = γ − 1).
func GuideValues(b compute.Backend, cond, uncond []float32, gamma float64) ([]float32, error) {
	if len(cond) != len(uncond) || len(cond) == 0 {
		return nil, fmt.Errorf("figures: GuideValues wants two equally long non-empty predictions")
	}
	g, err := sampler.ParseGuidance(fmt.Sprintf("gamma:%g", gamma))
	if err != nil {
		return nil, err
	}
	out, err := graph.ExecOnce(b, func(c, u *graph.Node) *graph.Node { return sampler.Guide(c, u, g.Scale) },
		tensors.FromFlatDataAndDimensions(cond, len(cond)), tensors.FromFlatDataAndDimensions(uncond, len(uncond)))
	if err != nil {
		return nil, err
	}
	return tensors.MustCopyFlatData[float32](out), nil
}

// DropLabelsValues runs the library's label dropout (diffusion.DropLabels) on labels with the
// uniform draws u: label i becomes null where u_i < pUncond.
func DropLabelsValues(b compute.Backend, labels []int, u []float32, pUncond float64, null int) ([]int, error) {
	if len(labels) != len(u) || len(u) == 0 {
		return nil, fmt.Errorf("figures: DropLabelsValues wants as many draws as labels")
	}
	l32 := make([]int32, len(labels))
	for i, l := range labels {
		l32[i] = int32(l)
	}
	out, err := graph.ExecOnce(b, func(l, u *graph.Node) *graph.Node { return diffusion.DropLabels(l, u, pUncond, null) },
		tensors.FromFlatDataAndDimensions(l32, len(l32)), tensors.FromFlatDataAndDimensions(u, len(u)))
	if err != nil {
		return nil, err
	}
	res := make([]int, len(labels))
	for i, v := range tensors.MustCopyFlatData[int32](out) {
		res[i] = int(v)
	}
	return res, nil
}

// UniformDraws returns n values of U[0, 1) from the seeded stream PCG(seed, 0), as float32.
func UniformDraws(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0))
	u := make([]float32, n)
	for i := range u {
		u[i] = rng.Float32()
	}
	return u
}

// img wraps n×28×28 values as an image batch [n, 28, 28, 1].
func img(v []float32, n int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(slices.Clone(v), n, 28, 28, 1)
}
