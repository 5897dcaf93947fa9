package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// toCF and fromCF convert between [B, H, W, C] and [C, B, H, W].
func toCF(x *Node) *Node   { return TransposeAllAxes(x, 3, 0, 1, 2) }
func fromCF(x *Node) *Node { return TransposeAllAxes(x, 1, 2, 3, 0) }

// toGrid and fromGrid convert between [B, H, W, C] and a channels-first layout.
func toGrid(x *Node, g Grid) *Node {
	if g == Natural {
		return toCF(x)
	}
	b, h, w, c := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	x = Reshape(x, b, h/2, 2, w/2, 2, c)         // [b, m, py, n, px, c]
	return TransposeAllAxes(x, 5, 0, 2, 4, 1, 3) // [c, b, py, px, m, n]
}

func fromGrid(x *Node, g Grid) *Node {
	if g == Natural {
		return fromCF(x)
	}
	c, b, mh, mw := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(4), x.Shape().Dim(5)
	x = TransposeAllAxes(x, 1, 4, 2, 5, 3, 0) // [b, m, py, n, px, c]
	return Reshape(x, b, 2*mh, 2*mw, c)
}

// TestChannelsFirstConvs compares ConvCF and ConvTransposeCF (forward and their hand-written
// gradients) with Conv2D / ConvTranspose2D on [B, H, W, C] differentiated by GoMLX's autodiff,
// for L = <y, r>.
func TestChannelsFirstConvs(t *testing.T) {
	backend := goBackend(t)
	type gridCase struct {
		convCase
		in, out Grid
	}
	cases := make([]gridCase, 0, len(convCases)+4)
	for _, c := range convCases {
		cases = append(cases, gridCase{c, Natural, Natural})
	}
	cases = append(cases, // the U-Net's phase-split layers (at a small size)
		gridCase{convCase{b: 2, h: 8, w: 10, cin: 1, cout: 3, k: 3, stride: 1}, Natural, PhaseSplit},           // conv1
		gridCase{convCase{b: 2, h: 10, w: 8, cin: 3, cout: 4, k: 3, stride: 2}, PhaseSplit, Natural},           // conv2
		gridCase{convCase{b: 2, h: 4, w: 5, cin: 4, cout: 3, k: 3, stride: 2, outPad: 1}, Natural, PhaseSplit}, // tconv2
		gridCase{convCase{b: 2, h: 6, w: 8, cin: 12, cout: 1, k: 3, stride: 1}, PhaseSplit, Natural},           // tconv1
		gridCase{convCase{b: 1, h: 6, w: 4, cin: 2, cout: 5, k: 3, stride: 1}, PhaseSplit, Natural},            // per-tap products
	)
	for _, c := range cases {
		for _, transposed := range []bool{false, true} {
			if !transposed && (c.h < c.k || c.w < c.k) {
				continue
			}
			// The phase-split cases are written for one direction: a convolution's output or a
			// transposed convolution's input is the layout "out" of the forward convolution.
			if c.in != c.out && transposed != (c.k == 3 && (c.stride == 2) == (c.in == Natural)) {
				continue
			}
			t.Run(fmt.Sprintf("%+v/transposed=%v", c, transposed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(5, uint64(c.h*c.k+c.stride)))
				x := randomSlice(rng, c.b*c.h*c.w*c.cin)
				k := randomSlice(rng, c.k*c.k*c.cin*c.cout)
				var ho, wo int
				if transposed {
					ho, wo = (c.h-1)*c.stride+c.k+c.outPad, (c.w-1)*c.stride+c.k+c.outPad
				} else {
					ho, wo = (c.h-c.k)/c.stride+1, (c.w-c.k)/c.stride+1
				}
				r := randomSlice(rng, c.b*ho*wo*c.cout)
				build := func(cf bool) func(x, k, r *Node) []*Node {
					return func(x, k, r *Node) []*Node {
						var y *Node
						switch {
						case !cf && !transposed:
							y = Conv2D(x, k, c.stride, Patches)
						case !cf && transposed:
							y = ConvTranspose2D(x, k, c.stride, c.outPad, Patches)
						case !transposed:
							y = fromGrid(ConvCF(toGrid(x, c.in), k, c.stride, c.in, c.out), c.out)
						default:
							xs := []*Node{toGrid(x, c.in)}
							if c.cin > 1 { // exercise the skip-connection form: two inputs.
								xs = []*Node{toGrid(Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, 1)), c.in),
									toGrid(Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(1, c.cin)), c.in)}
							}
							y = fromGrid(ConvTransposeCF(xs, k, c.stride, c.outPad, c.in, c.out), c.out)
						}
						return append([]*Node{y}, Gradient(ReduceAllSum(Mul(y, r)), x, k)...)
					}
				}
				inputs := []any{
					tensors.FromFlatDataAndDimensions(x, c.b, c.h, c.w, c.cin),
					tensors.FromFlatDataAndDimensions(k, c.k, c.k, c.cin, c.cout),
					tensors.FromFlatDataAndDimensions(r, c.b, ho, wo, c.cout),
				}
				assertSameOutputs(t, backend, build, inputs, []string{"y", "dL/dx", "dL/dk"}, 1e-5)
			})
		}
	}
}

// TestConvBiasCF compares ConvBiasCF (the bias inside the product) with ConvCF plus a
// broadcasting Add, differentiated by autodiff: output and gradients of x, kernel and bias.
func TestConvBiasCF(t *testing.T) {
	backend := goBackend(t)
	for _, c := range []struct {
		convCase
		in, out Grid
	}{
		{convCase{b: 2, h: 7, w: 6, cin: 3, cout: 4, k: 3, stride: 1}, Natural, Natural},
		{convCase{b: 2, h: 8, w: 7, cin: 2, cout: 5, k: 3, stride: 2}, Natural, Natural},
		{convCase{b: 2, h: 10, w: 8, cin: 3, cout: 4, k: 3, stride: 2}, PhaseSplit, Natural},
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(c.h*c.k+c.stride)))
			ho, wo := (c.h-c.k)/c.stride+1, (c.w-c.k)/c.stride+1
			build := func(fused bool) func(x, k, bias, r *Node) []*Node {
				return func(x, k, bias, r *Node) []*Node {
					x = toGrid(x, c.in)
					var y *Node
					if fused {
						y = ConvBiasCF(x, k, bias, c.stride, c.in, c.out)
					} else {
						y = Add(ConvCF(x, k, c.stride, c.in, c.out), Reshape(bias, c.cout, 1, 1, 1))
					}
					y = fromGrid(y, c.out)
					return append([]*Node{y}, Gradient(ReduceAllSum(Mul(y, r)), x, k, bias)...)
				}
			}
			inputs := []any{
				tensors.FromFlatDataAndDimensions(randomSlice(rng, c.b*c.h*c.w*c.cin), c.b, c.h, c.w, c.cin),
				tensors.FromFlatDataAndDimensions(randomSlice(rng, c.k*c.k*c.cin*c.cout), c.k, c.k, c.cin, c.cout),
				tensors.FromFlatDataAndDimensions(randomSlice(rng, c.cout), c.cout),
				tensors.FromFlatDataAndDimensions(randomSlice(rng, c.b*ho*wo*c.cout), c.b, ho, wo, c.cout),
			}
			assertSameOutputs(t, backend, build, inputs, []string{"y", "dL/dx", "dL/dk", "dL/dbias"}, 1e-5)
		})
	}
}
