package layers

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Formulation selects how a convolution is computed. Results agree to float32 round-off.
type Formulation int

const (
	// Auto uses Stock on accelerators (XLA) and Patches on GoMLX's pure-Go backend.
	Auto Formulation = iota
	// Stock uses graph.Convolve (cuDNN on CUDA; a naive loop on the Go backend).
	Stock
	// Patches extracts the kernel-sized patches (im2col) and multiplies them by the kernel
	// reshaped to a matrix: the fast choice on the Go backend. Conv2D and ConvTranspose2D do it on
	// [B, H, W, C]; networks built for speed use the channels-first ops with hand-written
	// gradients (ConvCF, ConvTransposeCF, GroupNormSwishCF; see the package documentation).
	Patches
)

// String implements fmt.Stringer.
func (f Formulation) String() string {
	switch f {
	case Auto:
		return "auto"
	case Stock:
		return "stock"
	case Patches:
		return "patches"
	}
	return fmt.Sprintf("Formulation(%d)", int(f))
}

// ParseFormulation parses "auto", "stock" or "patches".
func ParseFormulation(s string) (Formulation, error) {
	for _, f := range []Formulation{Auto, Stock, Patches} {
		if f.String() == s {
			return f, nil
		}
	}
	return Auto, fmt.Errorf("unknown convolution formulation %q: want auto, stock or patches", s)
}

// Resolve turns Auto into a concrete formulation for the graph's backend.
func (f Formulation) Resolve(g *Graph) Formulation {
	if f != Auto {
		return f
	}
	if IsGoBackend(g.Backend()) {
		return Patches
	}
	return Stock
}

// IsGoBackend reports whether b is GoMLX's pure-Go backend. Its Name() is "Go Backend" while its
// String() is the registered name "go" (gobackend.BackendName), so compare the latter.
func IsGoBackend(b compute.Backend) bool {
	return b.String() == gobackend.BackendName
}

// checkConvShapes validates x [B, H, W, Cin] against kernel [kh, kw, Cin, Cout].
func checkConvShapes(op string, x, kernel *Node, stride int) (kh, kw, cin, cout int) {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		exceptions.Panicf("%s: want x [B,H,W,C] and kernel [kh,kw,Cin,Cout], got x %s and kernel %s",
			op, x.Shape(), kernel.Shape())
	}
	kh, kw, cin, cout = kernel.Shape().Dim(0), kernel.Shape().Dim(1), kernel.Shape().Dim(2), kernel.Shape().Dim(3)
	if x.Shape().Dim(3) != cin {
		exceptions.Panicf("%s: x has %d channels but the kernel expects %d (x %s, kernel %s)",
			op, x.Shape().Dim(3), cin, x.Shape(), kernel.Shape())
	}
	if stride < 1 {
		exceptions.Panicf("%s: stride must be >= 1, got %d", op, stride)
	}
	return
}

// Conv2D is a 2-D convolution (cross-correlation, as in PyTorch) without padding.
//
//   - x: [B, H, W, Cin]
//   - kernel: [kh, kw, Cin, Cout]
//   - output: [B, (H-kh)/stride+1, (W-kw)/stride+1, Cout]
func Conv2D(x, kernel *Node, stride int, f Formulation) *Node {
	kh, kw, cin, cout := checkConvShapes("Conv2D", x, kernel, stride)
	h, w := x.Shape().Dim(1), x.Shape().Dim(2)
	if h < kh || w < kw {
		exceptions.Panicf("Conv2D: input %dx%d is smaller than the kernel %dx%d", h, w, kh, kw)
	}
	if f.Resolve(x.Graph()) == Stock {
		return Convolve(x, kernel).StridePerAxis(stride, stride).NoPadding().Done()
	}
	ho, wo := (h-kh)/stride+1, (w-kw)/stride+1
	batch := x.Shape().Dim(0)

	// Patches: one strided slice per kernel tap, concatenated on the channel axis in
	// (ky, kx, cin) order, which is the row order of the kernel reshaped to a matrix.
	taps := make([]*Node, 0, kh*kw)
	for ky := range kh {
		for kx := range kw {
			taps = append(taps, Slice(x,
				AxisRange(),
				AxisRange(ky, ky+(ho-1)*stride+1).Stride(stride),
				AxisRange(kx, kx+(wo-1)*stride+1).Stride(stride),
				AxisRange()))
		}
	}
	patches := taps[0]
	if len(taps) > 1 {
		patches = Concatenate(taps, -1) // [B, Ho, Wo, kh*kw*Cin]
	}
	patches = Reshape(patches, batch*ho*wo, kh*kw*cin)
	out := MatMul(patches, Reshape(kernel, kh*kw*cin, cout))
	return Reshape(out, batch, ho, wo, cout)
}

// ConvTranspose2D is a 2-D transposed convolution without padding, the adjoint of Conv2D with the
// same stride, as PyTorch's ConvTranspose2d(padding=0, output_padding=outputPadding).
//
//   - x: [B, H, W, Cin]
//   - kernel: [kh, kw, Cin, Cout]
//   - output: [B, (H-1)*stride+kh+outputPadding, (W-1)*stride+kw+outputPadding, Cout]
//
// Every input pixel i contributes x[i]·kernel[k] to output pixel stride·i+k. Grouping outputs by
// their phase p = o mod stride, phase p receives the taps k ≡ p (mod stride), k = p+stride·j, from
// input i = m-j where o = stride·m+p. So each tap is one matrix product x·kernel[k], each phase is
// a sum of shifted tap products, and the phases are interleaved by a reshape. This costs the same
// multiply-adds as the direct definition, needs no input dilation, and every op has a gradient.
func ConvTranspose2D(x, kernel *Node, stride, outputPadding int, f Formulation) *Node {
	kh, kw, cin, cout := checkConvShapes("ConvTranspose2D", x, kernel, stride)
	if outputPadding < 0 || outputPadding >= stride {
		exceptions.Panicf("ConvTranspose2D: outputPadding must be in [0, stride=%d), got %d", stride, outputPadding)
	}
	_ = f // The same formulation serves every backend; see the function documentation.
	batch, h, w := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2)
	ho, wo := (h-1)*stride+kh+outputPadding, (w-1)*stride+kw+outputPadding
	// Phase grid: mh x mw outputs per phase, padded up to a multiple of stride and cropped at the end.
	mh, mw := ceilDiv(ho, stride), ceilDiv(wo, stride)
	jh, jw := ceilDiv(kh, stride), ceilDiv(kw, stride) // max taps per phase on each axis

	flatX := Reshape(x, batch*h*w, cin)
	tapProduct := func(ky, kx int) *Node {
		k := Reshape(Slice(kernel, AxisElem(ky), AxisElem(kx)), cin, cout)
		p := Reshape(MatMul(flatX, k), batch, h, w, cout)
		// Zero-pad so that m-j stays in range: jh-1 before, mh-h after (rows), same for columns.
		return padSpatial(p, jh-1, mh-h, jw-1, mw-w)
	}
	// Products are computed once per tap and shared by the phase that uses them.
	phases := make([]*Node, 0, stride*stride) // row-major over (py, px), each [B, mh, mw, Cout]
	for py := range stride {
		for px := range stride {
			var sum *Node
			for ky := py; ky < kh; ky += stride {
				for kx := px; kx < kw; kx += stride {
					j, i := (ky-py)/stride, (kx-px)/stride
					shifted := Slice(tapProduct(ky, kx),
						AxisRange(),
						AxisRange(jh-1-j, jh-1-j+mh),
						AxisRange(jw-1-i, jw-1-i+mw),
						AxisRange())
					if sum == nil {
						sum = shifted
					} else {
						sum = Add(sum, shifted)
					}
				}
			}
			if sum == nil { // kernel smaller than stride: this phase receives nothing.
				sum = Zeros(x.Graph(), shapes.Make(x.DType(), batch, mh, mw, cout))
			}
			phases = append(phases, sum)
		}
	}
	out := phases[0]
	if stride > 1 {
		// [B, mh, (py), mw, (px), Cout] -> [B, mh*stride, mw*stride, Cout].
		rows := make([]*Node, stride)
		for py := range stride {
			rows[py] = Stack(phases[py*stride:(py+1)*stride], 3) // [B, mh, mw, stride(px), Cout]
		}
		out = Stack(rows, 2) // [B, mh, stride(py), mw, stride(px), Cout]
		out = Reshape(out, batch, mh*stride, mw*stride, cout)
	}
	if mh*stride != ho || mw*stride != wo {
		out = Slice(out, AxisRange(), AxisRange(0, ho), AxisRange(0, wo), AxisRange())
	}
	return out
}

// padSpatial zero-pads axes 1 and 2 of x [B, H, W, C] with Concatenate (which, unlike Pad, has a
// gradient in GoMLX v0.28.2).
func padSpatial(x *Node, top, bottom, left, right int) *Node {
	return padAxisWithZeros(padAxisWithZeros(x, 1, top, bottom), 2, left, right)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
