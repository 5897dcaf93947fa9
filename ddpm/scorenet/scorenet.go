// Package scorenet is the time-conditioned U-Net ("ScoreNet") of the score-based generative
// modelling tutorial (Song et al.), used here to predict the noise ε of a DDPM.
//
// Architecture with the default Config (28×28 inputs, channels c = [32, 64, 128, 256]):
//
//	t/T ─ GaussianFourierProjection(256, ×30) ─ Dense(256) ─ (+ class embedding) ─ swish ─► e
//	x 28×28×1  ─ conv1 3×3/1 ─ +dense1(e) ─ GroupNorm(4)  ─ swish ─► h1 26×26×32
//	h1         ─ conv2 3×3/2 ─ +dense2(e) ─ GroupNorm(32) ─ swish ─► h2 12×12×64
//	h2         ─ conv3 3×3/2 ─ +dense3(e) ─ GroupNorm(32) ─ swish ─► h3 5×5×128
//	h3         ─ conv4 3×3/2 ─ +dense4(e) ─ GroupNorm(32) ─ swish ─► h4 2×2×256
//	h4         ─ tconv4 3×3/2            ─ +dense5(e) ─ GroupNorm(32) ─ swish ─► 5×5×128
//	[·, h3]    ─ tconv3 3×3/2, out.pad 1 ─ +dense6(e) ─ GroupNorm(32) ─ swish ─► 12×12×64
//	[·, h2]    ─ tconv2 3×3/2, out.pad 1 ─ +dense7(e) ─ GroupNorm(32) ─ swish ─► 26×26×32
//	[·, h1]    ─ tconv1 3×3/1 (with bias)                                    ─► ε 28×28×1
//
// No convolution is padded; convolutions have no bias (the dense time projection is the bias).
// It has 1,115,297 trainable parameters plus 128 fixed Fourier weights. As in the original,
// dense7 is dead: its per-channel offset is removed by the GroupNorm that follows, which has one
// channel per group (32 groups of 32 channels), so its gradient is exactly zero.
//
// # Formulations
//
// Apply builds one of two equivalent graphs (same variables, results equal to float32 round-off,
// both checked against PyTorch in the tests), chosen by layers.Formulation:
//
//   - Stock (what Auto picks on XLA): [B, H, W, C] activations, graph.Convolve, GoMLX's autodiff.
//   - Patches (what Auto picks on GoMLX's pure-Go backend): channels-first [C, B, H, W]
//     activations, convolutions as matrix products with hand-written gradients, and each
//     "+ dense(e), GroupNorm, swish" step as one op with a hand-written gradient
//     (layers.ConvCF, layers.ConvTransposeCF, layers.GroupNormSwishCF). The 26×26 level (h1 and
//     the last decoder level) is stored phase-split (layers.PhaseSplit): tconv2 writes its four
//     stride phases as whole blocks and conv2 reads each tap from one phase, instead of
//     interleaving pixels one by one. From batch 32 the graph is built for two halves of the
//     batch that share the variables (layers.BatchChunks), so that the backend's concurrent op executor
//     runs two chains of single-threaded element-wise ops side by side. See package layers for
//     why, and bench_test.go for timings.
package scorenet

import (
	"fmt"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// ImageSize is the height and width the U-Net's strides and output paddings are built for.
const ImageSize = 28

// Config holds the network's hyperparameters. The zero value is not valid: start from Default.
type Config struct {
	// Channels of the four resolution levels (default 32, 64, 128, 256).
	Channels [4]int `json:"channels"`
	// EmbedDim is the size of the time embedding (default 256).
	EmbedDim int `json:"embed_dim"`
	// FourierScale is the standard deviation of the fixed Fourier frequencies (default 30).
	FourierScale float64 `json:"fourier_scale"`
	// EncoderGroups are the GroupNorm group counts after conv1..conv4 (default 4, 32, 32, 32).
	EncoderGroups [4]int `json:"encoder_groups"`
	// DecoderGroups are the GroupNorm group counts after tconv4, tconv3, tconv2 (default 32, 32, 32).
	DecoderGroups [3]int `json:"decoder_groups"`
	// NumClasses > 0 makes the network class-conditional: a learned embedding of NumClasses+1
	// entries (the last one is the "no class" token used for classifier-free guidance) is added
	// to the time embedding. 0 is the unconditional network.
	NumClasses int `json:"num_classes"`
}

// Default is the classic ScoreNet configuration of Song et al.'s tutorial (unconditional). Its
// GroupNorm groups differ from seed 003's code, which uses 4 groups at every level (recipe
// "scorenet"): with 32 groups of the 32 channels of the last decoder level, the norm removes the
// time projection added before it.
func Default() Config {
	return Config{
		Channels:      [4]int{32, 64, 128, 256},
		EmbedDim:      256,
		FourierScale:  30,
		EncoderGroups: [4]int{4, 32, 32, 32},
		DecoderGroups: [3]int{32, 32, 32},
	}
}

// NullClass returns the label index of the "no class" token of a conditional network.
func (c Config) NullClass() int { return c.NumClasses }

// Validate reports the first invalid field.
func (c Config) Validate() error {
	for i, ch := range c.Channels {
		if ch < 1 {
			return fmt.Errorf("scorenet: channels[%d] = %d, must be >= 1", i, ch)
		}
		if c.EncoderGroups[i] < 1 || ch%c.EncoderGroups[i] != 0 {
			return fmt.Errorf("scorenet: channels[%d] = %d is not divisible by encoder_groups[%d] = %d",
				i, ch, i, c.EncoderGroups[i])
		}
	}
	for i, gr := range c.DecoderGroups {
		ch := c.Channels[2-i] // tconv4 -> channels[2], tconv3 -> channels[1], tconv2 -> channels[0]
		if gr < 1 || ch%gr != 0 {
			return fmt.Errorf("scorenet: channels[%d] = %d is not divisible by decoder_groups[%d] = %d",
				2-i, ch, i, gr)
		}
	}
	if c.EmbedDim < 2 || c.EmbedDim%2 != 0 {
		return fmt.Errorf("scorenet: embed_dim = %d, must be even and >= 2", c.EmbedDim)
	}
	if c.FourierScale <= 0 {
		return fmt.Errorf("scorenet: fourier_scale = %g, must be > 0", c.FourierScale)
	}
	if c.NumClasses < 0 {
		return fmt.Errorf("scorenet: num_classes = %d, must be >= 0", c.NumClasses)
	}
	return nil
}

// Apply builds the network in scope and returns the predicted noise.
//
//   - x: [B, 28, 28, 1] float32, the noisy images x_t.
//   - t: [B] float32, the normalised time t/T in (0, 1].
//   - labels: [B] int32 class labels in [0, NumClasses] (NumClasses = "no class"); must be nil
//     for an unconditional network.
//   - f: the convolution formulation (layers.Auto picks by backend).
//   - output: [B, 28, 28, 1] float32, ε̂(x_t, t[, y]).
func (c Config) Apply(scope *model.Scope, x, t, labels *Node, f layers.Formulation) *Node {
	if err := c.Validate(); err != nil {
		exceptions.Panicf("%v", err)
	}
	batch := layers.CheckDenoiserInputs("scorenet", x, t, labels, ImageSize, c.NumClasses)
	if f.Resolve(x.Graph()) == layers.Stock {
		return c.applyNHWC(scope, x, c.embedding(scope, t, labels), f)
	}
	// Sub-batches sharing the variables (layers.BatchChunks).
	return layers.InBatchChunks(scope, batch, func(scope *model.Scope, part SliceAxisSpec) *Node {
		var y *Node
		if labels != nil {
			y = Slice(labels, part)
		}
		return c.applyCF(scope, Slice(x, part), c.embedding(scope, Slice(t, part), y))
	})
}

// applyNHWC is the network on [B, H, W, C] activations with GoMLX's autodiff: the formulation for
// accelerators (stock convolutions map to cuDNN there).
func (c Config) applyNHWC(scope *model.Scope, x, e *Node, f layers.Formulation) *Node {
	ch := c.Channels
	// Each level: convolution, + dense projection of e, GroupNorm, swish.
	level := func(conv *Node, dense, norm string, groups int) *Node {
		h := Add(conv, InsertAxes(layers.Dense(scope.In("%s", dense), e, conv.Shape().Dim(-1)), 1, 1))
		return activation.Swish(layers.GroupNorm(scope.In("%s", norm), h, groups))
	}
	h1 := level(layers.Conv(scope.In("conv1"), x, ch[0], 3, 1, f), "dense1", "gnorm1", c.EncoderGroups[0])
	h2 := level(layers.Conv(scope.In("conv2"), h1, ch[1], 3, 2, f), "dense2", "gnorm2", c.EncoderGroups[1])
	h3 := level(layers.Conv(scope.In("conv3"), h2, ch[2], 3, 2, f), "dense3", "gnorm3", c.EncoderGroups[2])
	h4 := level(layers.Conv(scope.In("conv4"), h3, ch[3], 3, 2, f), "dense4", "gnorm4", c.EncoderGroups[3])

	// Decoder, with skip connections concatenated on the channel axis.
	up := func(name string, h *Node, cout, outPad int) *Node {
		return layers.ConvTranspose(scope.In("%s", name), h, cout, 3, 2, outPad, false, f)
	}
	skip := func(h, s *Node) *Node { return Concatenate([]*Node{h, s}, -1) }
	h := level(up("tconv4", h4, ch[2], 0), "dense5", "tgnorm4", c.DecoderGroups[0])
	h = level(up("tconv3", skip(h, h3), ch[1], 1), "dense6", "tgnorm3", c.DecoderGroups[1])
	h = level(up("tconv2", skip(h, h2), ch[0], 1), "dense7", "tgnorm2", c.DecoderGroups[2])
	return layers.ConvTranspose(scope.In("tconv1"), skip(h, h1), 1, 3, 1, 0, true, f)
}

// applyCF is the network on channels-first [C, B, H, W] activations with hand-written gradients
// (layers.ConvCF, layers.ConvTransposeCF, layers.GroupNormSwishCF): the formulation for GoMLX's
// pure-Go backend. Same variables (names, shapes, layouts) as applyNHWC.
func (c Config) applyCF(scope *model.Scope, x, e *Node) *Node {
	sub := func(name string) *model.Scope { return scope.In("%s", name) }
	g := x.Graph()
	ch := c.Channels
	batch := x.Shape().Dim(0)
	level := func(y *Node, dense, norm string, groups int) *Node {
		cout := y.Shape().Dim(0)
		d := layers.Dense(sub(dense), e, cout) // [B, C]
		gamma, beta := layers.GroupNormParams(sub(norm), g, cout)
		return layers.GroupNormSwishCF(y, d, gamma, beta, groups, layers.GroupNormEpsilon)
	}
	const nat, split = layers.Natural, layers.PhaseSplit
	conv := func(name string, x *Node, cout, stride int, in, out layers.Grid) *Node {
		return layers.ConvCF(x, layers.ConvKernel(sub(name), g, x.Shape().Dim(0), cout, 3), stride, in, out)
	}
	up := func(sc *model.Scope, xs []*Node, cout, stride, outPad int, in, out layers.Grid) *Node {
		cin := 0
		for _, x := range xs {
			cin += x.Shape().Dim(0)
		}
		return layers.ConvTransposeCF(xs, layers.ConvTransposeKernel(sc, g, cin, cout, 3), stride, outPad, in, out)
	}
	xcf := Reshape(x, 1, batch, ImageSize, ImageSize) // [B, H, W, 1] and [1, B, H, W] share their layout.
	// The 26×26 level (h1 and the last decoder level) is stored phase-split (see layers.Grid).
	h1 := level(conv("conv1", xcf, ch[0], 1, nat, split), "dense1", "gnorm1", c.EncoderGroups[0])
	h2 := level(conv("conv2", h1, ch[1], 2, split, nat), "dense2", "gnorm2", c.EncoderGroups[1])
	h3 := level(conv("conv3", h2, ch[2], 2, nat, nat), "dense3", "gnorm3", c.EncoderGroups[2])
	h4 := level(conv("conv4", h3, ch[3], 2, nat, nat), "dense4", "gnorm4", c.EncoderGroups[3])
	h := level(up(sub("tconv4"), []*Node{h4}, ch[2], 2, 0, nat, nat), "dense5", "tgnorm4", c.DecoderGroups[0])
	h = level(up(sub("tconv3"), []*Node{h, h3}, ch[1], 2, 1, nat, nat), "dense6", "tgnorm3", c.DecoderGroups[1])
	h = level(up(sub("tconv2"), []*Node{h, h2}, ch[0], 2, 1, nat, split), "dense7", "tgnorm2", c.DecoderGroups[2])
	last := sub("tconv1")
	out := up(last, []*Node{h, h1}, 1, 1, 0, split, nat) // [1, B, H, W]
	out = Add(out, Reshape(layers.ConvTransposeBias(last, g, 1, 3), 1, 1, 1, 1))
	return Reshape(out, batch, ImageSize, ImageSize, 1)
}

// embedding returns swish(Dense(Fourier(t)) [+ classEmbedding[labels]]): [B, EmbedDim].
func (c Config) embedding(scope *model.Scope, t, labels *Node) *Node {
	scope = scope.In("embed")
	e := layers.GaussianFourierProjection(scope.In("fourier"), t, c.EmbedDim, c.FourierScale)
	e = layers.Dense(scope.In("dense"), e, c.EmbedDim)
	if c.NumClasses > 0 { // inputs checked by Apply (layers.CheckDenoiserInputs)
		// Class embedding table [NumClasses+1, EmbedDim], N(0, 1) init as torch.nn.Embedding.
		table := scope.In("class").WithInitializer(initializer.RandomNormalFn(scope, 1)).
			VariableWithShape("embeddings", shapes.Make(dtypes.Float32, c.NumClasses+1, c.EmbedDim)).
			NodeValue(t.Graph())
		e = Add(e, Gather(table, ExpandAxes(labels, -1)))
	}
	return activation.Swish(e)
}
