package layers

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Channels-first ("CF") convolutions for GoMLX's pure-Go backend.
//
// Activations are [C, B, H, W]: seen as a matrix [C, B·H·W], a convolution is one product
// W[Cout, k·k·Cin] · patches[k·k·Cin, B·Ho·Wo] and its two gradients are products of the same
// matrices, each already in a layout the backend's matrix kernels take without transposing a big
// operand (the left operand [M, K] with K last, the right one [K, N] or [N, K]). GoMLX's autodiff
// of these products would transpose v and the patches, so ConvCF and ConvTransposeCF define
// their gradients by hand (CustomGradient).

// kernelTaps returns the k·k matrices kernel[ky, kx] [Cin, Cout] of kernel [k, k, Cin, Cout],
// transposed to [Cout, Cin] if transposed is set.
func kernelTaps(kernel *Node, transposed bool) []*Node {
	k, cin, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(2), kernel.Shape().Dim(3)
	if transposed {
		kernel = TransposeAllAxes(kernel, 0, 1, 3, 2)
		cin, cout = cout, cin
	}
	taps := make([]*Node, 0, k*k)
	for ky := range k {
		for kx := range k {
			taps = append(taps, Reshape(Slice(kernel, AxisElem(ky), AxisElem(kx)), cin, cout))
		}
	}
	return taps
}

// kernelRowsCF returns kernel [k, k, Cin, Cout] as the matrix [Cout, k·k·Cin] of ConvCF.
func kernelRowsCF(kernel *Node) *Node {
	k, cin, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(2), kernel.Shape().Dim(3)
	return Transpose(Reshape(kernel, k*k*cin, cout), 0, 1)
}

// ConvCF is Conv2D (no padding) on channels-first activations, with a hand-written gradient.
//
//   - x: [Cin, B, H, W] in layout in (Natural; see Grid for PhaseSplit)
//   - kernel: [k, k, Cin, Cout]
//   - output: [Cout, B, (H-k)/stride+1, (W-k)/stride+1] in layout out
//
// Forward: patches P = im2col(x) [k·k·Cin, N], y = Wᵀ·P with Wᵀ = kernel as [Cout, k·k·Cin].
// Backward from v [Cout, N]: dkernel = P·vᵀ ([k·k·Cin, Cout], the kernel's own layout) and
// dx = the transposed convolution of v (transposedConvCF).
func ConvCF(x, kernel *Node, stride int, in, out Grid) *Node {
	return convCF(x, kernel, nil, stride, in, out)
}

// ConvBiasCF is ConvCF plus a bias [Cout] added to every pixel, inside the product: the patches
// get a row of ones and the kernel rows a column with the bias, which costs next to nothing where
// a broadcasting Add would be another pass over the output.
func ConvBiasCF(x, kernel, bias *Node, stride int, in, out Grid) *Node {
	if bias == nil || bias.Rank() != 1 || bias.Shape().Dim(0) != kernel.Shape().Dim(3) {
		exceptions.Panicf("ConvBiasCF: want a bias [Cout=%d], got %v", kernel.Shape().Dim(3), bias)
	}
	return convCF(x, kernel, bias, stride, in, out)
}

func convCF(x, kernel, bias *Node, stride int, in, out Grid) *Node {
	k, cin, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(2), kernel.Shape().Dim(3)
	c, b, h, w := gridDims(x, in)
	if c != cin || kernel.Shape().Dim(1) != k || stride < 1 || h < k || w < k {
		exceptions.Panicf("ConvCF: x %s (Cin=%d, %dx%d) does not fit kernel [k, k, Cin, Cout] %s with stride %d",
			x.Shape(), c, h, w, kernel.Shape(), stride)
	}
	ho, wo := (h-k)/stride+1, (w-k)/stride+1
	inputs := []*Node{x, kernel}
	if bias != nil {
		inputs = append(inputs, bias)
	}
	var patches, kernelIn *Node
	return CustomGradient(inputs, func(inputs []*Node) *Node {
		patches, kernelIn = im2col(inputs[0], in, out, k, stride, bias != nil), inputs[1]
		rows := kernelRowsCF(kernelIn)
		if bias != nil {
			rows = Concatenate([]*Node{rows, Reshape(inputs[2], cout, 1)}, 1) // [Cout, k·k·Cin+1]
		}
		y := Dot(rows, patches).General([]int{1}, nil, []int{0}, nil) // [Cout, N]
		return Reshape(y, gridShape(out, cout, b, ho, wo)...)
	}, func(v *Node) []*Node {
		vm := Reshape(v, cout, b*ho*wo)
		dKernel := Dot(patches, vm).General([]int{1}, nil, []int{1}, nil) // [k·k·Cin(+1), Cout]
		dx := transposedConvCF(v, out, in, kernelTaps(kernelIn, false), k, stride, h, w)
		if bias == nil {
			return []*Node{dx, Reshape(dKernel, k, k, cin, cout)}
		}
		dBias := Reshape(Slice(dKernel, AxisElem(k*k*cin)), cout)
		dKernel = Slice(dKernel, AxisRange(0, k*k*cin))
		return []*Node{dx, Reshape(dKernel, k, k, cin, cout), dBias}
	})
}

// ConvTransposeCF is ConvTranspose2D (no padding) on channels-first activations, with a
// hand-written gradient. Its input is the concatenation of xs along the channel axis (the U-Net's
// skip connections), which is never materialised in the backward pass.
//
//   - xs: [Cin_i, B, H, W] in layout in, with Σ Cin_i = Cin
//   - kernel: [k, k, Cin, Cout]
//   - output: [Cout, B, (H-1)·stride+k+outputPadding, (W-1)·stride+k+outputPadding] in layout out
//
// Forward: transposedConvCF of x with the taps kernel[ky, kx]ᵀ. Backward from v:
// patches of v P = im2col(v) [k·k·Cout, N]; dx_i = kernel_i as [Cin_i, k·k·Cout] times P;
// dkernel = P·xᵀ [k·k·Cout, Cin], the gradient of the transposed kernel [k, k, Cout, Cin].
func ConvTransposeCF(xs []*Node, kernel *Node, stride, outputPadding int, in, out Grid) *Node {
	k, cin, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(2), kernel.Shape().Dim(3)
	_, b, h, w := gridDims(xs[0], in)
	total := 0
	for _, x := range xs {
		if _, bi, hi, wi := gridDims(x, in); bi != b || hi != h || wi != w {
			exceptions.Panicf("ConvTransposeCF: inputs must have equal B, H, W, got %s and %s", xs[0].Shape(), x.Shape())
		}
		total += x.Shape().Dim(0)
	}
	if total != cin || kernel.Shape().Dim(1) != k || outputPadding < 0 || outputPadding >= stride {
		exceptions.Panicf("ConvTransposeCF: inputs with %d channels, kernel %s, stride %d, output padding %d",
			total, kernel.Shape(), stride, outputPadding)
	}
	ho, wo := (h-1)*stride+k+outputPadding, (w-1)*stride+k+outputPadding
	n := b * h * w
	// The kernel enters the custom gradient in the layout of the forward products, [k, k, Cout,
	// Cin], and the backward pass's [Cin_i, k·k·Cout] rows are cut from it outside: these layout
	// changes are computed once per step even when a network is built for several sub-batches
	// (InBatchChunks: the backend merges identical ops), and autodiff transposes the summed
	// kernel gradient back once, instead of three transposes per sub-batch.
	kernelT := TransposeAllAxes(kernel, 0, 1, 3, 2)
	kRows := StopGradient(Reshape(TransposeAllAxes(kernelT, 3, 0, 1, 2), cin, k*k*cout))
	rows := make([]*Node, len(xs)) // kernel rows of each input: [Cin_i, k·k·Cout]
	start := 0
	for i, xi := range xs {
		ci := xi.Shape().Dim(0)
		rows[i] = kRows
		if len(xs) > 1 {
			rows[i] = Slice(kRows, AxisRange(start, start+ci))
		}
		start += ci
	}
	var x *Node
	inputs := append([]*Node{kernelT}, xs...)
	return CustomGradient(inputs, func(inputs []*Node) *Node {
		x = inputs[1]
		if len(inputs) > 2 {
			x = Concatenate(inputs[1:], 0) // [Cin, B, ...]
		}
		return transposedConvCF(x, in, out, kernelTaps(inputs[0], false), k, stride, ho, wo)
	}, func(v *Node) []*Node {
		// (ho-k)/stride+1 = h since outputPadding < stride: the patches of v are [k·k·Cout, N].
		p := im2colCF(v, out, in, k, stride)
		dKernel := Dot(p, Reshape(x, cin, n)).General([]int{1}, nil, []int{1}, nil) // [k·k·Cout, Cin]
		grads := []*Node{Reshape(dKernel, k, k, cout, cin)}
		for i, xi := range xs {
			dxi := Dot(rows[i], p).General([]int{1}, nil, []int{0}, nil) // [Cin_i, N]
			grads = append(grads, Reshape(dxi, xi.Shape().Dimensions...))
		}
		return grads
	})
}
