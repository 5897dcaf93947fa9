// Package classifier is the noisy classifier p(y | x_t, t) of classifier guidance (Dhariwal &
// Nichol 2021): a small time-conditioned CNN trained on x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε with
// t ~ U{1..T} from the same noise schedule as the diffusion model it guides. At sampling the
// sampler adds s·σ_t²·∇ₓ log p(y | x_t, t) to the DDPM mean (package sampler), the gradient taken
// by GoMLX's autodiff inside the compiled reverse step.
//
// Architecture (Default, 28×28 inputs):
//
//	t/T ─ GaussianFourier(64, ×1) ─ Dense(64) ─ swish ──────────────────────► e
//	x_t 28×28×1 ─ conv 3×3/1 ─ GroupNorm(8) ─ ×(1+γ₁(e)) + β₁(e) ─ swish ─► 26×26×16
//	            ─ conv 3×3/2 ─ GroupNorm(8) ─ ×(1+γ₂(e)) + β₂(e) ─ swish ─► 12×12×32
//	            ─ conv 3×3/2 ─ GroupNorm(8) ─ ×(1+γ₃(e)) + β₃(e) ─ swish ─► 5×5×64
//	            ─ global average pool ─ Dense(10) ─► logits
//
// (γ_i, β_i) = Dense(e) is a per-channel scale and shift after a GroupNorm without its own affine
// parameters (guided-diffusion's "scale-shift norm"); convolutions are unpadded and without bias,
// as in the ScoreNet. 42,554 trainable parameters (and 32 fixed Fourier frequencies): small on
// purpose, since guided sampling evaluates the classifier and its gradient at every reverse step.
//
// The network computes in the dtype of its input x (its variables are float32 and are converted
// in the graph): float32 everywhere in the project, float64 in the tests that check gradients by
// finite differences.
package classifier

import (
	"errors"
	"fmt"
	"math"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/nn"
	"github.com/gomlx/gomlx/support/exceptions"
)

const (
	// ScopeName is the scope (under the root) of the classifier's variables, in its training
	// store and in a sampler's store once attached.
	ScopeName = "classifier"
	// Scope is the absolute path of ScopeName.
	Scope = "/" + ScopeName
	// NumClasses is the number of digit classes.
	NumClasses = 10
)

// Config holds the classifier's hyperparameters.
type Config struct {
	// Channels of the three convolutions (strides 1, 2, 2).
	Channels [3]int `json:"channels"`
	// EmbedDim is the size of the time embedding.
	EmbedDim int `json:"embed_dim"`
	// FourierScale is the standard deviation of the fixed Fourier frequencies of t/T.
	FourierScale float64 `json:"fourier_scale"`
	// Groups is the GroupNorm group count of every level.
	Groups int `json:"groups"`
}

// Default is the project's noisy classifier.
func Default() Config {
	return Config{Channels: [3]int{16, 32, 64}, EmbedDim: 64, FourierScale: 1, Groups: 8}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	for i, ch := range c.Channels {
		if ch < 1 || c.Groups < 1 || ch%c.Groups != 0 {
			return fmt.Errorf("classifier: channels[%d] = %d must be >= 1 and divisible by groups = %d", i, ch, c.Groups)
		}
	}
	if c.EmbedDim < 2 || c.EmbedDim%2 != 0 {
		return fmt.Errorf("classifier: embed_dim = %d, must be even and >= 2", c.EmbedDim)
	}
	if !(c.FourierScale > 0) {
		return fmt.Errorf("classifier: fourier_scale = %g, must be > 0", c.FourierScale)
	}
	return nil
}

// groupNormEpsilon is PyTorch's default.
const groupNormEpsilon = 1e-5

// Apply builds the network in scope and returns the class logits.
//
//   - x: [B, H, W, 1] float (H, W >= 11; the project feeds 28×28); the network computes in x's dtype
//   - t: [B] float, the normalised time t/T
//   - output: [B, 10] logits in x's dtype
func (c Config) Apply(scope *model.Scope, x, t *Node, f layers.Formulation) *Node {
	if err := c.Validate(); err != nil {
		exceptions.Panicf("%v", err)
	}
	if x.Rank() != 4 || x.Shape().Dim(3) != 1 || !x.DType().IsFloat() {
		exceptions.Panicf("classifier: x must be [B, H, W, 1] float, got %s", x.Shape())
	}
	batch := x.Shape().Dim(0)
	if t.Rank() != 1 || t.Shape().Dim(0) != batch {
		exceptions.Panicf("classifier: t must be [B=%d], got %s", batch, t.Shape())
	}
	t = ConvertDType(t, x.DType())
	if f.Resolve(x.Graph()) == layers.Stock {
		return c.apply(scope, x, t, f)
	}
	// GoMLX's pure-Go backend: sub-batches sharing the variables (layers.BatchChunks).
	return layers.InBatchChunks(scope, batch, func(scope *model.Scope, part SliceAxisSpec) *Node {
		return c.apply(scope, Slice(x, part), Slice(t, part), f)
	})
}

// apply is Apply's network on x [B, H, W, 1] and t [B] (already in x's dtype).
func (c Config) apply(scope *model.Scope, x, t *Node, f layers.Formulation) *Node {
	es := scope.In("embed")
	w := param(es.In("fourier"), "W", initializer.RandomNormalFn(scope, c.FourierScale), x, false, c.EmbedDim/2)
	proj := MulScalar(Mul(ExpandAxes(t, -1), ExpandAxes(w, 0)), 2*math.Pi) // [B, EmbedDim/2]
	e := Concatenate([]*Node{Sin(proj), Cos(proj)}, -1)
	e = activation.Swish(dense(es.In("dense"), e, c.EmbedDim))

	h := x
	for i, ch := range c.Channels {
		ls := scope.In("level%d", i+1)
		stride := 2
		if i == 0 {
			stride = 1
		}
		cin := h.Shape().Dim(3)
		bound := 1 / math.Sqrt(float64(cin*9))
		kernel := param(ls.In("conv"), "weights", initializer.RandomUniformFn(scope, -bound, bound), x, true, 3, 3, cin, ch)
		h = layers.Conv2D(h, kernel, stride, f)
		h = groupNorm(h, c.Groups)
		film := dense(ls.In("film"), e, 2*ch) // [B, 2·ch]: scale, shift
		scale := InsertAxes(Slice(film, AxisRange(), AxisRange(0, ch)), 1, 1)
		shift := InsertAxes(Slice(film, AxisRange(), AxisRange(ch, 2*ch)), 1, 1)
		h = activation.Swish(Add(Mul(h, OnePlus(scale)), shift))
	}
	pooled := ReduceMean(h, 1, 2) // [B, Channels[2]]
	return dense(scope.In("head"), pooled, NumClasses)
}

// param returns a float32 variable of scope (PyTorch-style initialiser init) converted to like's dtype.
func param(scope *model.Scope, name string, init model.VariableInitializer, like *Node, trainable bool, dims ...int) *Node {
	v := scope.WithInitializer(init).VariableWithShape(name, shapes.Make(dtypes.Float32, dims...))
	if !trainable {
		v.SetTrainable(false)
	}
	return ConvertDType(v.NodeValue(like.Graph()), like.DType())
}

// dense is y = x·W + b with PyTorch's default initialisation (uniform ±1/√in).
func dense(scope *model.Scope, x *Node, out int) *Node {
	in := x.Shape().Dim(-1)
	bound := 1 / math.Sqrt(float64(in))
	init := initializer.RandomUniformFn(scope, -bound, bound)
	w := param(scope, "weights", init, x, true, in, out)
	b := param(scope, "biases", init, x, true, out)
	return Add(MatMul(x, w), ExpandLeftToRank(b, 2))
}

// groupNorm normalises x [B, H, W, C] over (H, W, C/groups) per group, without affine parameters.
func groupNorm(x *Node, groups int) *Node {
	b, h, w, c := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	grouped := Reshape(x, b, h, w, groups, c/groups)
	return Reshape(nn.LayerNorm(grouped, []int{1, 2, 4}, groupNormEpsilon, nil, nil, nil), b, h, w, c)
}

// Classifier is a noisy classifier with the schedule it is trained for.
type Classifier struct {
	Net      Config
	Schedule *schedule.Schedule
	// Conv chooses the convolution formulation (layers.Auto picks by backend).
	Conv layers.Formulation
}

// Logits of p(y | x_t, t).
//
//   - xt: [B, 28, 28, 1] float; t: [B] int32 in 1..T
//   - output: [B, 10]
func (c *Classifier) Logits(scope *model.Scope, xt, t *Node) *Node {
	return c.Net.Apply(scope, xt, diffusion.NormalizedTime(c.Schedule, t), c.Conv)
}

// LogProb is log p(y | x_t, t) of each example: [B], for labels [B] int32 in 0..9.
func (c *Classifier) LogProb(scope *model.Scope, xt, t, labels *Node) *Node {
	logp := LogSoftmax(c.Logits(scope, xt, t))
	return ReduceSum(Mul(logp, OneHot(labels, NumClasses, logp.DType())), -1)
}

// GradLogProb is ∇ₓ log p(y | x_t, t) for every example, shaped like xt, by GoMLX's reverse-mode
// autodiff of Σ_i log p(y_i | x_i, t_i): the examples do not interact in the network (GroupNorm
// is per example), so the gradient of the sum is the per-example gradient.
func (c *Classifier) GradLogProb(scope *model.Scope, xt, t, labels *Node) *Node {
	return Gradient(ReduceAllSum(c.LogProb(scope, xt, t, labels)), xt)[0]
}

// Loss is the training objective: with t ~ U{1..T} and ε ~ N(0, I) drawn from rngState, the mean
// cross-entropy −log p(y | x_t, t) of x_t = AddNoise(x0, t, ε).
//
//   - x0: [B, 28, 28, 1] in [−1, 1]; labels: [B] int32 in 0..9; rngState: graph.RNGStateShape
//   - output: scalar float32 loss
func (c *Classifier) Loss(scope *model.Scope, x0, labels, rngState *Node) *Node {
	batch := x0.Shape().Dim(0)
	rngState, t := RandomIntN(rngState, c.Schedule.T, shapes.Make(dtypes.Int32, batch))
	t = AddScalar(t, 1)
	_, eps := RandomNormal(rngState, x0.Shape())
	return Neg(ReduceAllMean(c.LogProb(scope, diffusion.AddNoise(c.Schedule, x0, t, eps), t, labels)))
}

// ErrNoClassifier is wrapped by the errors that mean "no noisy classifier for this model here": a
// missing directory, a checkpoint of something else, a classifier trained for another schedule.
// Train one for the model (Train).
var ErrNoClassifier = errors.New("no noisy classifier for this model")

// CheckSchedule reports whether the classifier was trained for the schedule s: the same T and the
// same β_t at every step (to 1e-12 relative), with an error that says what differs.
func (c *Classifier) CheckSchedule(s *schedule.Schedule) error {
	mine := c.Schedule
	switch t := mine.FirstDifference(s); {
	case t < 0:
		return fmt.Errorf("the noisy classifier was trained for T = %d diffusion steps (%s), the diffusion model "+
			"uses T = %d (%s): %w", mine.T, mine.Config, s.T, s.Config, ErrNoClassifier)
	case t > 0:
		return fmt.Errorf("the noisy classifier's noise schedule (%s) differs from the diffusion model's (%s): "+
			"β_%d = %g vs %g: %w", mine.Config, s.Config, t, mine.Beta[t], s.Beta[t], ErrNoClassifier)
	}
	return nil
}
