package unet

import (
	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Ops builds the basic ops and blocks of §1 of the assignment, in its notation: Conv2D(kernel,
// stride, padding), BN = BatchNorm2d (layers.BatchNorm: batch statistics in training, running
// averages in inference), GELU (exact, erf), ConvTranspose2D(k, s, p), AvgPool(k). Every
// convolution has a bias, as PyTorch's default. Shapes below are written channels-last.
//
// Two activation layouts, with the same variables (names, shapes), so checkpoints move between
// them:
//   - channels-last [N, H, W, C] with layers.Conv2D/ConvTranspose2D in formulation Formulation (what
//     accelerators run: Stock, cuDNN on CUDA);
//   - ChannelsFirst [C, N, H, W] with the hand-written-gradient convolutions of package layers
//     (layers.ConvCF, layers.ConvTransposeCF), the fast formulation of GoMLX's pure-Go backend.
type Ops struct {
	ChannelsFirst bool
	Formulation   layers.Formulation
}

// OpsFor picks the layout for f on g's backend: channels-first where f resolves to Patches (the
// pure-Go backend), channels-last with stock convolutions elsewhere.
func OpsFor(g *Graph, f layers.Formulation) Ops {
	f = f.Resolve(g)
	return Ops{ChannelsFirst: f == layers.Patches, Formulation: f}
}

// channelAxis is the channel axis of activations.
func (o Ops) channelAxis() int {
	if o.ChannelsFirst {
		return 0
	}
	return 3
}

// Channels returns the channel count of an activation.
func (o Ops) Channels(x *Node) int { return x.Shape().Dim(o.channelAxis()) }

// Concat concatenates activations on the channel axis (the U-Net's skip connections).
func (o Ops) Concat(xs ...*Node) *Node { return Concatenate(xs, o.channelAxis()) }

// PerChannel lays out v [N, C] to broadcast over the pixels of an activation.
func (o Ops) PerChannel(v *Node) *Node {
	if o.ChannelsFirst {
		return InsertAxes(Transpose(v, 0, 1), -1, -1) // [C, N, 1, 1]
	}
	return InsertAxes(v, 1, 1) // [N, 1, 1, C]
}

// addBias adds b [C] to every pixel of y.
func (o Ops) addBias(y, b *Node) *Node {
	if o.ChannelsFirst {
		return Add(y, Reshape(b, b.Shape().Dim(0), 1, 1, 1))
	}
	return Add(y, ExpandLeftToRank(b, 4))
}

// spatial returns the (H, W) axes of activations.
func (o Ops) spatial() (int, int) {
	if o.ChannelsFirst {
		return 2, 3
	}
	return 1, 2
}

// pad adds p zeros around the pixels of x (Concatenate, which has a gradient; Pad has none).
func (o Ops) pad(x *Node, p int) *Node {
	if p == 0 {
		return x
	}
	ah, aw := o.spatial()
	for _, axis := range []int{ah, aw} {
		dims := x.Shape().Clone().Dimensions
		dims[axis] = p
		z := Zeros(x.Graph(), shapes.Make(x.DType(), dims...))
		x = Concatenate([]*Node{z, x, z}, axis)
	}
	return x
}

// Conv2D is a k×k convolution with stride s, padding p and a bias: variables "weights" [k, k,
// Cin, Cout] and "biases" [Cout] under scope.
func (o Ops) Conv2D(scope *model.Scope, x *Node, cout, k, s, p int) *Node {
	return o.addBias(o.conv2D(scope, x, cout, k, s, p, nil))
}

// bnFold is BatchNorm in inference mode, a per-channel affine map scale·x + offset, folded into
// the convolution before it: kernel·scale (per output channel) and bias·scale + offset.
type bnFold struct{ scale, offset *Node }

func (f *bnFold) apply(kernel, bias *Node) (*Node, *Node) {
	if f == nil {
		return kernel, bias
	}
	cout := kernel.Shape().Dim(3)
	return Mul(kernel, Reshape(f.scale, 1, 1, 1, cout)), Add(f.offset, Mul(f.scale, bias))
}

// conv2D is Conv2D with its kernel and bias passed through fold. Channels-last it returns the
// convolution and the bias to add; channels-first with a fold it returns the convolution with the
// bias added inside the product (layers.ConvBiasCF) and a nil bias.
func (o Ops) conv2D(scope *model.Scope, x *Node, cout, k, s, p int, fold *bnFold) (y, bias *Node) {
	g, cin := x.Graph(), o.Channels(x)
	kernel, bias := fold.apply(layers.ConvKernel(scope, g, cin, cout, k), layers.ConvBias(scope, g, cin, cout, k))
	switch {
	case !o.ChannelsFirst:
		return layers.Conv2D(o.pad(x, p), kernel, s, o.Formulation), bias
	case fold != nil:
		return layers.ConvBiasCF(o.pad(x, p), kernel, bias, s, layers.Natural, layers.Natural), nil
	}
	return layers.ConvCF(o.pad(x, p), kernel, s, layers.Natural, layers.Natural), bias
}

// ConvTranspose2D is PyTorch's ConvTranspose2d(Cin, Cout, k, s, p) with a bias, on the channel
// concatenation of xs (never materialised channels-first): the transposed convolution without
// padding, cropped by p on every side. Variables "weights" [k, k, Cin, Cout] and "biases" [Cout].
func (o Ops) ConvTranspose2D(scope *model.Scope, xs []*Node, cout, k, s, p int) *Node {
	return o.addBias(o.convTranspose2D(scope, xs, cout, k, s, p, nil))
}

// convTranspose2D is ConvTranspose2D without adding the bias: it returns the transposed
// convolution and the bias, both passed through fold.
func (o Ops) convTranspose2D(scope *model.Scope, xs []*Node, cout, k, s, p int, fold *bnFold) (y, bias *Node) {
	g, cin := xs[0].Graph(), 0
	for _, x := range xs {
		cin += o.Channels(x)
	}
	kernel, bias := fold.apply(layers.ConvTransposeKernel(scope, g, cin, cout, k), layers.ConvTransposeBias(scope, g, cout, k))
	if o.ChannelsFirst {
		y = layers.ConvTransposeCF(xs, kernel, s, 0, layers.Natural, layers.Natural)
	} else {
		y = layers.ConvTranspose2D(o.Concat(xs...), kernel, s, 0, o.Formulation)
	}
	if p > 0 {
		ah, aw := o.spatial()
		h, w := y.Shape().Dim(ah), y.Shape().Dim(aw)
		if h <= 2*p || w <= 2*p {
			exceptions.Panicf("ConvTranspose2D: padding %d crops the whole %dx%d output", p, h, w)
		}
		specs := []SliceAxisSpec{AxisRange(), AxisRange(), AxisRange(), AxisRange()}
		specs[ah], specs[aw] = AxisRange(p, h-p), AxisRange(p, w-p)
		y = Slice(y, specs...)
	}
	return y, bias
}

// convBNGELU is a convolution (+ bias) → BN → GELU, the tail of every op but FC and Flatten;
// conv builds the convolution with its kernel and bias passed through a BatchNorm fold (nil: none)
// and returns it with the bias still to add (nil: added). Channels-first, in training, BN and GELU
// are one op with a hand-written gradient (layers.BatchNormGeluCF, where the bias only moves the
// running mean); in inference, BN is folded into the convolution, GELU(conv(x; A·kernel) +
// A·(bias − running_mean) + beta) with A = gamma/√(running_var + ε), which saves the passes of
// BN over the activation (and, for a convolution, of the bias too: layers.ConvBiasCF).
func (o Ops) convBNGELU(scope *model.Scope, g *Graph, cout int, conv func(fold *bnFold) (y, bias *Node)) *Node {
	bn := scope.In("bn")
	switch {
	case !o.ChannelsFirst:
		y, bias := conv(nil)
		return activation.Gelu(layers.BatchNorm(bn, o.addBias(y, bias), o.channelAxis()))
	case bn.IsTraining(g):
		y, bias := conv(nil)
		return layers.BatchNormGeluCF(bn, y, bias)
	}
	fold := &bnFold{}
	fold.scale, fold.offset = layers.BatchNormInference(bn, g, cout)
	y, bias := conv(fold)
	if bias != nil {
		y = o.addBias(y, bias)
	}
	return activation.Gelu(y)
}

// Conv is Conv2D(3, 1, 1) → BN → GELU: [N, H, W, in] → [N, H, W, out].
func (o Ops) Conv(scope *model.Scope, x *Node, out int) *Node {
	return o.convBNGELU(scope, x.Graph(), out, func(fold *bnFold) (*Node, *Node) {
		return o.conv2D(scope.In("conv"), x, out, 3, 1, 1, fold)
	})
}

// DownConv is Conv2D(3, 2, 1) → BN → GELU: [N, H, W, in] → [N, H/2, W/2, out] (28 → 14 → 7).
func (o Ops) DownConv(scope *model.Scope, x *Node, out int) *Node {
	return o.convBNGELU(scope, x.Graph(), out, func(fold *bnFold) (*Node, *Node) {
		return o.conv2D(scope.In("conv"), x, out, 3, 2, 1, fold)
	})
}

// UpConv is ConvTranspose2D(k, 2, (k−2)/2) → BN → GELU on the concatenation of xs:
// [N, H, W, in] → [N, 2H, 2W, out]. The assignment specifies k = 4 (padding 1); its published
// solution used k = 2 (padding 0).
func (o Ops) UpConv(scope *model.Scope, xs []*Node, out, k int) *Node {
	return o.convBNGELU(scope, xs[0].Graph(), out, func(fold *bnFold) (*Node, *Node) {
		return o.convTranspose2D(scope.In("tconv"), xs, out, k, 2, (k-2)/2, fold)
	})
}

// Flatten is AvgPool(7) → GELU: [N, 7, 7, C] → [N, 1, 1, C].
func (o Ops) Flatten(x *Node) *Node {
	ah, aw := o.spatial()
	if x.Shape().Dim(ah) != 7 || x.Shape().Dim(aw) != 7 {
		exceptions.Panicf("Flatten: want a 7×7 activation, got %s", x.Shape())
	}
	return activation.Gelu(ReduceAndKeep(x, ReduceMean, ah, aw))
}

// Unflatten is ConvTranspose2D(7, 7, 0) → BN → GELU: [N, 1, 1, C] → [N, 7, 7, C].
func (o Ops) Unflatten(scope *model.Scope, x *Node) *Node {
	c := o.Channels(x)
	return o.convBNGELU(scope, x.Graph(), c, func(fold *bnFold) (*Node, *Node) {
		return o.convTranspose2D(scope.In("tconv"), []*Node{x}, c, 7, 7, 0, fold)
	})
}

// FC is Linear → GELU: [N, in] → [N, out].
func FC(scope *model.Scope, x *Node, out int) *Node {
	return activation.Gelu(layers.Dense(scope, x, out))
}

// FCBlock is FC(in, out) → Linear(out, out), with no activation at the end: [N, in] → [N, out].
func FCBlock(scope *model.Scope, x *Node, out int) *Node {
	return layers.Dense(scope.In("linear"), FC(scope.In("fc"), x, out), out)
}

// ConvBlock is Conv(in, out) → Conv(out, out): [N, H, W, in] → [N, H, W, out].
func (o Ops) ConvBlock(scope *model.Scope, x *Node, out int) *Node {
	return o.Conv(scope.In("conv2"), o.Conv(scope.In("conv1"), x, out), out)
}

// DownBlock is DownConv(in, out) → ConvBlock(out, out): [N, H, W, in] → [N, H/2, W/2, out].
func (o Ops) DownBlock(scope *model.Scope, x *Node, out int) *Node {
	return o.ConvBlock(scope.In("block"), o.DownConv(scope.In("down"), x, out), out)
}

// UpBlock is UpConv(in, out) → ConvBlock(out, out) on the concatenation of xs:
// [N, H, W, in] → [N, 2H, 2W, out].
func (o Ops) UpBlock(scope *model.Scope, xs []*Node, out, k int) *Node {
	return o.ConvBlock(scope.In("block"), o.UpConv(scope.In("up"), xs, out, k), out)
}
