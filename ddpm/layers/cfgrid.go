package layers

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Grid is the spatial layout of a channels-first activation.
type Grid int

const (
	// Natural is [C, B, H, W].
	Natural Grid = iota
	// PhaseSplit is [C, B, 2, 2, H/2, W/2] (H and W even): element [c, b, py, px, m, n] is the
	// pixel (2m+py, 2n+px), i.e. the four stride-2 sub-grids stored one after the other.
	//
	// A stride-2 transposed convolution produces its output one sub-grid ("phase") at a time, and
	// interleaving them into [C, B, H, W] moves single elements (~3 ns each on the Go backend);
	// stored phase-split they are stacked as whole blocks, and a following stride-2 convolution
	// reads each tap from one phase with unit strides.
	PhaseSplit
)

// gridDims returns (C, B, H, W) of x in layout g.
func gridDims(x *Node, g Grid) (c, b, h, w int) {
	d := x.Shape().Dimensions
	switch {
	case g == Natural && len(d) == 4:
		return d[0], d[1], d[2], d[3]
	case g == PhaseSplit && len(d) == 6 && d[2] == 2 && d[3] == 2:
		return d[0], d[1], 2 * d[4], 2 * d[5]
	}
	exceptions.Panicf("want a [C, B, H, W] (Natural) or [C, B, 2, 2, H/2, W/2] (PhaseSplit) tensor, got %s for layout %d", x.Shape(), g)
	return
}

// gridShape returns the dimensions of a [C, B, H, W] activation in layout g.
func gridShape(g Grid, c, b, h, w int) []int {
	if g == PhaseSplit {
		if h%2 != 0 || w%2 != 0 {
			exceptions.Panicf("PhaseSplit needs even height and width, got %dx%d", h, w)
		}
		return []int{c, b, 2, 2, h / 2, w / 2}
	}
	return []int{c, b, h, w}
}

// stackPhases stacks phases[py·2+px] [C, B, h/2, w/2] into PhaseSplit [C, B, 2, 2, h/2, w/2]:
// whole blocks are copied.
func stackPhases(phases []*Node) *Node {
	return Stack([]*Node{Stack(phases[0:2], 2), Stack(phases[2:4], 2)}, 2)
}

// interleavePhases turns phases[py·s+px] [C, B, mh, mw] into [C, B, mh·s, mw·s] (element moves).
func interleavePhases(phases []*Node, s int) *Node {
	if s == 1 {
		return phases[0]
	}
	c, b, mh, mw := phases[0].Shape().Dim(0), phases[0].Shape().Dim(1), phases[0].Shape().Dim(2), phases[0].Shape().Dim(3)
	rows := make([]*Node, s)
	for py := range s {
		rows[py] = Stack(phases[py*s:(py+1)*s], 4) // [C, B, mh, mw, px]
	}
	return Reshape(Stack(rows, 3), c, b, mh*s, mw*s) // [C, B, mh, py, mw, px]
}

// sliceGrid returns the pixels (y0 + sy·i, x0 + sx·j), i < ny, j < nx, of x (layout g) as
// [C, B, ny, nx]. For PhaseSplit the strides must be even (all pixels in one phase).
func sliceGrid(x *Node, g Grid, y0, sy, ny, x0, sx, nx int) *Node {
	if g == Natural {
		return Slice(x, AxisRange(), AxisRange(),
			AxisRange(y0, y0+(ny-1)*sy+1).Stride(sy), AxisRange(x0, x0+(nx-1)*sx+1).Stride(sx))
	}
	if (sy%2 != 0 && ny > 1) || (sx%2 != 0 && nx > 1) {
		exceptions.Panicf("sliceGrid: odd strides (%d, %d) cross the phases of a PhaseSplit grid", sy, sx)
	}
	sy, sx = max(sy/2, 1), max(sx/2, 1)
	m0, n0 := y0/2, x0/2
	s := Slice(x, AxisRange(), AxisRange(), AxisElem(y0%2), AxisElem(x0%2),
		AxisRange(m0, m0+(ny-1)*sy+1).Stride(sy), AxisRange(n0, n0+(nx-1)*sx+1).Stride(sx))
	return Reshape(s, x.Shape().Dim(0), x.Shape().Dim(1), ny, nx)
}

// im2colCF gathers the k×k patches of x (layout in) for a convolution with the given stride:
// output [k·k·C, N] with row (ky·k+kx)·C+c and one column per output pixel (i, j), in the order
// of layout out, holding x[c, b, i·stride+ky, j·stride+kx]; Ho = (H-k)/stride+1 (rows and
// columns a stride does not reach are ignored), same for Wo.
func im2colCF(x *Node, in, out Grid, k, stride int) *Node {
	return im2col(x, in, out, k, stride, false)
}

// im2col is im2colCF, with a last row of ones when ones is set ([k·k·C+1, N]): a product with
// [kernel rows | bias] then adds the bias.
func im2col(x *Node, in, out Grid, k, stride int, ones bool) *Node {
	c, b, h, w := gridDims(x, in)
	ho, wo := (h-k)/stride+1, (w-k)/stride+1
	var taps []*Node // blocks of the patch rows, [rows, B, ...] each
	if g := gatherTaps(x, in, out, k, stride, ho, wo); g != nil {
		taps = []*Node{Reshape(g, k*k*c, b, ho, wo)} // every tap in one op
	} else {
		taps = sliceTaps(x, in, out, k, stride, ho, wo)
	}
	rows := k * k * c
	if ones {
		dims := taps[0].Shape().Clone().Dimensions
		dims[0] = 1
		taps = append(taps, Ones(x.Graph(), shapes.Make(x.DType(), dims...)))
		rows++
	}
	p := taps[0]
	if len(taps) > 1 {
		p = Concatenate(taps, 0) // [k·k·C, B, ...], blocks copied whole.
	}
	return Reshape(p, rows, b*ho*wo)
}

// sliceTaps returns the k·k taps of x (layout in) one Slice each (four per tap, stacked, for a
// PhaseSplit out): [C, B, ...] in layout out.
func sliceTaps(x *Node, in, out Grid, k, stride, ho, wo int) []*Node {
	c, b, _, _ := gridDims(x, in)
	taps := make([]*Node, 0, k*k)
	for ky := range k {
		for kx := range k {
			if out == Natural {
				taps = append(taps, sliceGrid(x, in, ky, stride, ho, kx, stride, wo))
				continue
			}
			_ = gridShape(out, c, b, ho, wo) // checks ho, wo are even
			phases := make([]*Node, 0, 4)
			for py := range 2 {
				for px := range 2 {
					phases = append(phases, sliceGrid(x, in, stride*py+ky, 2*stride, ho/2, stride*px+kx, 2*stride, wo/2))
				}
			}
			taps = append(taps, stackPhases(phases))
		}
	}
	return taps
}

// gatherTaps returns the k×k taps of x (layout in) as one GatherSlices [k·k, C, B, ho, wo] (tap
// ky·k+kx holds x[c, b, i·stride+ky, j·stride+kx]) for a Natural out when each tap is a window of
// unit strides in x's storage: stride 1 on a Natural grid, stride 2 on a PhaseSplit one (each tap
// then lies in one phase). Else it returns nil. The Go backend's Gather copies the window's rows whole (runs of wo
// values), where Slice copies element by element and Concatenate then copies the taps again:
// for the ScoreNet's conv2 patches (2.1M values per half batch) 3.1 ms instead of 6.8 ms (GoMLX
// v0.28.16, compute v0.1.14, 2 cores). The values are the same, so results are bit-identical.
func gatherTaps(x *Node, in, out Grid, k, stride, ho, wo int) *Node {
	if out != Natural {
		return nil
	}
	var axes, sizes []int
	starts := make([][]int32, 0, k*k)
	switch {
	case in == Natural && stride == 1:
		axes, sizes = []int{2, 3}, []int{ho, wo}
		for ky := range k {
			for kx := range k {
				starts = append(starts, []int32{int32(ky), int32(kx)})
			}
		}
	case in == PhaseSplit && stride == 2:
		// Pixel row ky + 2i is row ky/2 + i of phase ky mod 2 (columns alike).
		axes, sizes = []int{2, 3, 4, 5}, []int{1, 1, ho, wo}
		for ky := range k {
			for kx := range k {
				starts = append(starts, []int32{int32(ky % 2), int32(kx % 2), int32(ky / 2), int32(kx / 2)})
			}
		}
	default:
		return nil
	}
	c, b, _, _ := gridDims(x, in)
	g := GatherSlices(x, axes, Const(x.Graph(), starts), sizes, false)
	return Reshape(g, k*k, c, b, ho, wo)
}

// transposedConvCF computes the transposed convolution of x (layout in) with per-tap matrices
// taps[ky·k+kx] [Cout, Cin] into [Cout, B, outH, outW] in layout out (outH ≥ (h-1)·stride+k;
// extra rows/columns receive zeros):
//
//	out[:, b, i·stride+ky, j·stride+kx] += taps[ky·k+kx] · x[:, b, i, j]
//
// It is the adjoint of im2colCF followed by a product, and serves both ConvTransposeCF's forward
// pass and ConvCF's input gradient. Supported: Natural input with any stride (PhaseSplit output
// needs stride 2 and even outH, outW), and PhaseSplit input with stride 1.
//
// Output pixels are grouped by phase (row mod s, column mod s) with s = stride (s = 2 for a
// PhaseSplit input): each phase receives a few tap products, each shifted by whole rows/columns.
// Shifts are zero blocks concatenated before/after (not Pad, which the Go backend runs element by
// element when the last axis is padded), and phases are summed, then stacked (PhaseSplit) or
// interleaved (Natural).
func transposedConvCF(x *Node, in, out Grid, taps []*Node, k, stride, outH, outW int) *Node {
	cin, b, h, w := gridDims(x, in)
	cout := taps[0].Shape().Dim(0)
	if len(taps) != k*k || outH < (h-1)*stride+k || outW < (w-1)*stride+k || (in == PhaseSplit && stride != 1) {
		exceptions.Panicf("transposedConvCF: %d taps, k=%d, stride=%d, input layout %d: %s cannot fill %dx%d",
			len(taps), k, stride, in, x.Shape(), outH, outW)
	}
	xm := Reshape(x, cin, b*h*w)
	// The product for tap t, [Cout, B, ...] in the input's layout. Each product packs x for the
	// matrix kernels again; one product for all taps, sliced apart (~2.3 ns per element), is
	// cheaper when the products are small next to x (few output channels, e.g. the U-Net's last
	// layer), or when a product per tap would run on one core (the backend splits a product's
	// columns in blocks of 512 among its workers, or its rows when they outnumber the columns).
	var tapProduct func(t int) *Node
	dims := append([]int{cout}, x.Shape().Dimensions[1:]...)
	if n := b * h * w; cout*k*k <= cin || (n <= 512 && cout < n) {
		all := Dot(Concatenate(taps, 0), xm).General([]int{1}, nil, []int{0}, nil) // [k·k·Cout, N]
		all = Reshape(all, append([]int{k * k}, dims...)...)
		tapProduct = func(t int) *Node { return Reshape(Slice(all, AxisElem(t)), dims...) }
	} else {
		tapProduct = func(t int) *Node {
			return Reshape(Dot(taps[t], xm).General([]int{1}, nil, []int{0}, nil), dims...)
		}
	}
	// Planes: (product, source stride-2 phase or -1, row offset, column offset in input pixels).
	type plane struct {
		node   *Node
		dy, dx int // output pixel = stride·(input pixel) + (dy, dx)
	}
	var planes []plane
	for ky := range k {
		for kx := range k {
			z := tapProduct(ky*k + kx)
			if in == Natural {
				planes = append(planes, plane{z, ky, kx})
				continue
			}
			// PhaseSplit input, stride 1: input pixel (2m+qy, 2n+qx) → output (2m + qy+ky, 2n + qx+kx).
			for qy := range 2 {
				for qx := range 2 {
					p := Reshape(Slice(z, AxisRange(), AxisRange(), AxisElem(qy), AxisElem(qx)), cout, b, h/2, w/2)
					planes = append(planes, plane{p, qy + ky, qx + kx})
				}
			}
		}
	}
	// Each plane's pixel (m, n) lands on output (s·m + dy, s·n + dx), s = 2 for a PhaseSplit input.
	s := stride
	if in == PhaseSplit {
		s = 2
	}
	mh, mw := ceilDiv(outH, s), ceilDiv(outW, s) // phase grid
	phases := make([]*Node, 0, s*s)              // row-major over (py, px), each [Cout, B, mh, mw]
	for py := range s {
		for px := range s {
			var sum *Node
			for _, p := range planes {
				if p.dy%s != py || p.dx%s != px {
					continue
				}
				ph, pw := p.node.Shape().Dim(2), p.node.Shape().Dim(3)
				jy, jx := p.dy/s, p.dx/s
				t := padAxisWithZeros(p.node, 2, jy, mh-ph-jy)
				t = padAxisWithZeros(t, 3, jx, mw-pw-jx)
				if sum == nil {
					sum = t
				} else {
					sum = Add(sum, t)
				}
			}
			if sum == nil { // kernel smaller than the stride: nothing lands on this phase.
				sum = Zeros(x.Graph(), shapes.Make(x.DType(), cout, b, mh, mw))
			}
			phases = append(phases, sum)
		}
	}
	if out == PhaseSplit {
		if s != 2 || mh*2 != outH || mw*2 != outW {
			exceptions.Panicf("transposedConvCF: a PhaseSplit output needs stride 2 and an even %dx%d output", outH, outW)
		}
		return stackPhases(phases)
	}
	y := interleavePhases(phases, s)
	if mh*s != outH || mw*s != outW {
		y = Slice(y, AxisRange(), AxisRange(), AxisRange(0, outH), AxisRange(0, outW))
	}
	return y
}

// padAxisWithZeros concatenates before and after zeros to x along axis (Concatenate, unlike Pad,
// has a gradient in GoMLX v0.28.2).
func padAxisWithZeros(x *Node, axis, before, after int) *Node {
	if before == 0 && after == 0 {
		return x
	}
	parts := make([]*Node, 0, 3)
	dims := x.Shape().Clone().Dimensions
	if before > 0 {
		dims[axis] = before
		parts = append(parts, Zeros(x.Graph(), shapes.Make(x.DType(), dims...)))
	}
	parts = append(parts, x)
	if after > 0 {
		dims[axis] = after
		parts = append(parts, Zeros(x.Graph(), shapes.Make(x.DType(), dims...)))
	}
	return Concatenate(parts, axis)
}
