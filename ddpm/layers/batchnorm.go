package layers

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// PyTorch's BatchNorm2d defaults.
const (
	BatchNormMomentum = 0.1
	BatchNormEpsilon  = 1e-5
)

// BatchNorm normalises x per channel (axis channelAxis: 3 for [B, H, W, C], 0 for channels-first
// [C, B, H, W]) as torch.nn.BatchNorm2d(C) does:
//
//   - in training (scope.IsTraining(g), set by GoMLX's trainer): with the batch's mean and biased
//     variance over the other axes (B, H, W), the gradient flowing through both (GoMLX's norm.BatchNorm stops it
//     there, which is a different layer), and the running averages updated as
//     running ← (1−m)·running + m·batch with m = BatchNormMomentum, the variance unbiased
//     (×n/(n−1)) as PyTorch does;
//   - in inference: with the running averages.
//
// Variables under scope: "gamma" [C] (init 1) and "beta" [C] (init 0), trainable;
// "running_mean" [C] (init 0) and "running_var" [C] (init 1), not trainable.
func BatchNorm(scope *model.Scope, x *Node, channelAxis int) *Node {
	if x.Rank() != 4 || (channelAxis != 0 && channelAxis != 3) {
		exceptions.Panicf("BatchNorm: want x [B,H,W,C] (channel axis 3) or [C,B,H,W] (axis 0), got %s with axis %d", x.Shape(), channelAxis)
	}
	g := x.Graph()
	c := x.Shape().Dim(channelAxis)
	others := []int{0, 1, 2}
	expand := func(v *Node) *Node { return ExpandLeftToRank(v, 4) } // [C] → [1, 1, 1, C]
	if channelAxis == 0 {
		others = []int{1, 2, 3}
		expand = func(v *Node) *Node { return Reshape(v, c, 1, 1, 1) }
	}
	gamma, beta := GroupNormParams(scope, g, c)
	runMean, runVar := batchNormRunning(scope, c)
	var mean, variance *Node
	if scope.IsTraining(g) {
		n := x.Shape().Size() / c
		if n < 2 {
			exceptions.Panicf("BatchNorm: training needs more than one value per channel, got x %s", x.Shape())
		}
		mean = ReduceMean(x, others...)                                // [C]
		variance = ReduceMean(Square(Sub(x, expand(mean))), others...) // biased, [C]
		m := BatchNormMomentum
		runMean.SetNodeValue(Add(MulScalar(runMean.NodeValue(g), 1-m), MulScalar(StopGradient(mean), m)))
		unbiased := MulScalar(StopGradient(variance), float64(n)/float64(n-1))
		runVar.SetNodeValue(Add(MulScalar(runVar.NodeValue(g), 1-m), MulScalar(unbiased, m)))
	} else {
		mean, variance = runMean.NodeValue(g), runVar.NodeValue(g)
	}
	scale := Div(gamma, Sqrt(AddScalar(variance, BatchNormEpsilon))) // [C]
	shift := Sub(beta, Mul(mean, scale))
	return Add(Mul(x, expand(scale)), expand(shift))
}

// batchNormRunning returns BatchNorm's running averages: "running_mean" [C] (init 0) and
// "running_var" [C] (init 1), not trainable.
func batchNormRunning(scope *model.Scope, c int) (runMean, runVar *model.Variable) {
	vec := shapes.Make(dtypes.Float32, c)
	runMean = scope.WithInitializer(initializer.Zero).VariableWithShape("running_mean", vec).SetTrainable(false)
	runVar = scope.WithInitializer(initializer.One).VariableWithShape("running_var", vec).SetTrainable(false)
	return
}

// BatchNormInference returns BatchNorm's inference mode as a per-channel affine map
// BatchNorm(x) = scale·x + offset [C]: scale = gamma/√(running_var + ε), offset = beta −
// scale·running_mean (same variables as BatchNorm), for folding into a preceding convolution.
func BatchNormInference(scope *model.Scope, g *Graph, c int) (scale, offset *Node) {
	gamma, beta := GroupNormParams(scope, g, c)
	runMean, runVar := batchNormRunning(scope, c)
	scale = Div(gamma, Sqrt(AddScalar(runVar.NodeValue(g), BatchNormEpsilon)))
	return scale, Sub(beta, Mul(runMean.NodeValue(g), scale))
}

// ZeroPad pads the two spatial axes of x [B, H, W, C] with p zeros on every side (Concatenate,
// which has a gradient in GoMLX v0.28.2, unlike Pad).
func ZeroPad(x *Node, p int) *Node {
	return padSpatial(x, p, p, p, p)
}
