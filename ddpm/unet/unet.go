// Package unet is the U-Net of the seed-000 assignment ("Neural Graphics Ex1", after UC
// Berkeley's CS180 project 5B): the "DenoisingUNet" and its class-conditional variant, built from
// the assignment's basic ops and blocks (ops.go). Beside ScoreNet (package scorenet, seed 003)
// it is the second network a recipe can choose.
//
// With hidden width D (the assignment's num_hiddens, 128), on x [N, 28, 28, 1] and t = t/T [N]:
//
//	e1 = ConvBlock(1, D)(x)                          [N, 28, 28, D]
//	e2 = DownBlock(D, D)(e1)                         [N, 14, 14, D]
//	e3 = DownBlock(D, 2D)(e2)                        [N, 7, 7, 2D]
//	z  = Flatten(e3)                                 [N, 1, 1, 2D]
//	u0 = c1·Unflatten(z) + t1                        [N, 7, 7, 2D]   t1 = FCBlock(1, 2D)(t)
//	u1 = c2·UpBlock(4D, D)([e3, u0]) + t2            [N, 14, 14, D]  t2 = FCBlock(1, D)(t)
//	u2 = UpBlock(2D, D)([e2, u1])                    [N, 28, 28, D]
//	h  = ConvBlock(2D, D)([e1, u2])                  [N, 28, 28, D]
//	ε̂  = Conv2D(D, 1, 3, 1, 1)(h)                   [N, 28, 28, 1]
//
// [a, b] is a channel concatenation, encoder tensor first (the assignment's Figure 1). For the
// unconditional network c1 = c2 = 1; for the conditional one c1 = FCBlock(10, 2D)(c) and
// c2 = FCBlock(10, D)(c) of the one-hot class vector c, which is all zeros for "no class" (the
// label dropout of classifier-free guidance), as in the assignment's Algorithm 3: the FCBlocks'
// biases then give the unconditional scale. The time enters raw, as t/T, without a sinusoidal
// embedding. The final convolution is the published solution's 3×3 one (the assignment leaves it
// to the student).
//
// BatchNorm uses batch statistics in training and running averages in inference, as PyTorch's
// train()/eval() modes. With D = 128 and the specified UpConv (kernel 4) the network has
// 7,974,145 trainable parameters (8,060,673 conditional), as the original.
package unet

import (
	"fmt"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// ImageSize is the height and width the network asserts, as the original (28 → 14 → 7).
const ImageSize = 28

// Config holds the network's hyperparameters.
type Config struct {
	// Hidden is D, the width of the first level (the assignment's num_hiddens: 128).
	Hidden int `json:"hidden"`
	// UpKernel is the kernel of UpConv: 4 (the assignment's specification, padding 1) or 2 (the
	// published solution's, padding 0). Both double the resolution.
	UpKernel int `json:"up_kernel"`
	// NumClasses > 0 makes the network class-conditional (one-hot classes, modulation c·h + t).
	NumClasses int `json:"num_classes"`
}

// Default is the assignment's network: D = 128, UpConv kernel 4, unconditional.
func Default() Config { return Config{Hidden: 128, UpKernel: 4} }

// NullClass returns the label of "no class" (an all-zeros one-hot vector).
func (c Config) NullClass() int { return c.NumClasses }

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Hidden < 1:
		return fmt.Errorf("unet: hidden = %d, must be >= 1", c.Hidden)
	case c.UpKernel != 2 && c.UpKernel != 4:
		return fmt.Errorf("unet: up_kernel = %d, want 4 (the assignment's UpConv) or 2 (its solution's)", c.UpKernel)
	case c.NumClasses < 0:
		return fmt.Errorf("unet: num_classes = %d, must be >= 0", c.NumClasses)
	}
	return nil
}

// Apply builds the network in scope and returns the predicted noise.
//
//   - x: [B, 28, 28, 1] float32, the noisy images x_t.
//   - t: [B] float32, the normalised time t/T in (0, 1].
//   - labels: [B] int32 class labels in [0, NumClasses] (NumClasses = "no class"); nil for an
//     unconditional network.
//   - f: the convolution formulation (layers.Auto picks by backend).
//   - output: [B, 28, 28, 1] float32, ε̂(x_t, t[, y]).
func (c Config) Apply(scope *model.Scope, x, t, labels *Node, f layers.Formulation) *Node {
	if err := c.Validate(); err != nil {
		exceptions.Panicf("%v", err)
	}
	batch := layers.CheckDenoiserInputs("unet", x, t, labels, ImageSize, c.NumClasses)
	o := OpsFor(x.Graph(), f)
	if o.ChannelsFirst {
		x = Reshape(x, 1, batch, ImageSize, ImageSize) // [B, H, W, 1] and [1, B, H, W] share their layout
	}
	eps := c.build(scope, o, x, Reshape(t, batch, 1), labels)
	if o.ChannelsFirst {
		eps = Reshape(eps, batch, ImageSize, ImageSize, 1)
	}
	return eps
}

// build is the network on activations in o's layout: x is the input image, t [B, 1].
func (c Config) build(scope *model.Scope, o Ops, x, t, labels *Node) *Node {
	d, k := c.Hidden, c.UpKernel
	sub := func(name string) *model.Scope { return scope.In("%s", name) }
	e1 := o.ConvBlock(sub("e1"), x, d)
	e2 := o.DownBlock(sub("e2"), e1, d)
	e3 := o.DownBlock(sub("e3"), e2, 2*d)
	u0 := o.Unflatten(sub("u0"), o.Flatten(e3))
	t1 := o.PerChannel(FCBlock(sub("t1"), t, 2*d))
	t2 := o.PerChannel(FCBlock(sub("t2"), t, d))
	var c1, c2 *Node
	if c.NumClasses > 0 {
		onehot := OneHot(labels, c.NumClasses, dtypes.Float32) // the "no class" label is all zeros
		c1 = o.PerChannel(FCBlock(sub("c1"), onehot, 2*d))
		c2 = o.PerChannel(FCBlock(sub("c2"), onehot, d))
	}
	modulate := func(h, c, t *Node) *Node { // c·h + t (h + t unconditional)
		if c != nil {
			h = Mul(c, h)
		}
		return Add(h, t)
	}
	u0 = modulate(u0, c1, t1)
	u1 := modulate(o.UpBlock(sub("u1"), []*Node{e3, u0}, d, k), c2, t2)
	u2 := o.UpBlock(sub("u2"), []*Node{e2, u1}, d, k)
	h := o.ConvBlock(sub("h"), o.Concat(e1, u2), d)
	return o.Conv2D(sub("out"), h, 1, 3, 1, 1)
}
