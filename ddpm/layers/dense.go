package layers

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// uniformVariable creates (or reuses) a trainable float32 variable initialised uniformly in
// [-bound, bound): PyTorch's default for Linear, Conv2d and ConvTranspose2d (kaiming_uniform with
// a=√5 gives bound 1/√fan_in), so training from the same recipes behaves like the originals.
func uniformVariable(scope *model.Scope, name string, bound float64, dims ...int) *model.Variable {
	return scope.WithInitializer(initializer.RandomUniformFn(scope, -bound, bound)).
		VariableWithShape(name, shapes.Make(dtypes.Float32, dims...))
}

// Dense is a fully connected layer y = x·W + b with PyTorch's default initialisation.
//
//   - x: [..., in]
//   - output: [..., out]
//   - variables (under scope): "weights" [in, out], "biases" [out].
func Dense(scope *model.Scope, x *Node, out int) *Node {
	in := x.Shape().Dim(-1)
	bound := 1 / math.Sqrt(float64(in))
	g := x.Graph()
	w := uniformVariable(scope, "weights", bound, in, out).NodeValue(g)
	b := uniformVariable(scope, "biases", bound, out).NodeValue(g)
	y := Dot(x, w).General([]int{x.Rank() - 1}, nil, []int{0}, nil)
	return Add(y, ExpandLeftToRank(b, y.Rank()))
}

// ConvKernel returns the kernel of a convolution layer: variable "weights" [k, k, Cin, Cout]
// under scope, PyTorch's Conv2d initialisation (bound 1/√(Cin·k·k)).
func ConvKernel(scope *model.Scope, g *Graph, cin, cout, k int) *Node {
	bound := 1 / math.Sqrt(float64(cin*k*k))
	return uniformVariable(scope, "weights", bound, k, k, cin, cout).NodeValue(g)
}

// ConvTransposeKernel returns the kernel of a transposed convolution layer: variable "weights"
// [k, k, Cin, Cout] under scope. PyTorch derives the init bound of a transposed convolution from
// Cout·k·k (its weight is stored [Cin, Cout, k, k] and fan-in is read from axis 1); kept here.
func ConvTransposeKernel(scope *model.Scope, g *Graph, cin, cout, k int) *Node {
	bound := 1 / math.Sqrt(float64(cout*k*k))
	return uniformVariable(scope, "weights", bound, k, k, cin, cout).NodeValue(g)
}

// ConvTransposeBias returns the bias of a transposed convolution layer: variable "biases" [Cout]
// under scope, with the same init bound as ConvTransposeKernel.
func ConvTransposeBias(scope *model.Scope, g *Graph, cout, k int) *Node {
	bound := 1 / math.Sqrt(float64(cout*k*k))
	return uniformVariable(scope, "biases", bound, cout).NodeValue(g)
}

// Conv is a Conv2D layer without bias: variable "weights" [k, k, Cin, Cout] under scope.
//
//   - x: [B, H, W, Cin]
//   - output: [B, (H-k)/stride+1, (W-k)/stride+1, Cout]
func Conv(scope *model.Scope, x *Node, cout, k, stride int, f Formulation) *Node {
	return Conv2D(x, ConvKernel(scope, x.Graph(), x.Shape().Dim(-1), cout, k), stride, f)
}

// ConvTranspose is a ConvTranspose2D layer: variables "weights" [k, k, Cin, Cout] and, if bias,
// "biases" [Cout] under scope (see ConvTransposeKernel).
//
//   - x: [B, H, W, Cin]
//   - output: [B, (H-1)*stride+k+outputPadding, (W-1)*stride+k+outputPadding, Cout]
func ConvTranspose(scope *model.Scope, x *Node, cout, k, stride, outputPadding int, bias bool, f Formulation) *Node {
	g := x.Graph()
	y := ConvTranspose2D(x, ConvTransposeKernel(scope, g, x.Shape().Dim(-1), cout, k), stride, outputPadding, f)
	if bias {
		y = Add(y, ExpandLeftToRank(ConvTransposeBias(scope, g, cout, k), 4))
	}
	return y
}

// ConvBias returns the bias of a convolution layer: variable "biases" [Cout] under scope, with
// PyTorch's Conv2d init bound 1/√(Cin·k·k).
func ConvBias(scope *model.Scope, g *Graph, cin, cout, k int) *Node {
	bound := 1 / math.Sqrt(float64(cin*k*k))
	return uniformVariable(scope, "biases", bound, cout).NodeValue(g)
}
