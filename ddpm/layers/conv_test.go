package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// goBackend is a new pure-Go backend with the backend's default configuration.
func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	return testutil.NewGoBackend(t, "")
}

func randomSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// directConv is the textbook definition of Conv2D (channels-last, no padding).
func directConv(x []float32, b, h, w, cin int, k []float32, kh, kw, cout, stride int) ([]float32, int, int) {
	ho, wo := (h-kh)/stride+1, (w-kw)/stride+1
	y := make([]float32, b*ho*wo*cout)
	for n := range b {
		for oy := range ho {
			for ox := range wo {
				for co := range cout {
					var s float64
					for ky := range kh {
						for kx := range kw {
							for ci := range cin {
								xv := x[((n*h+oy*stride+ky)*w+ox*stride+kx)*cin+ci]
								s += float64(xv) * float64(k[((ky*kw+kx)*cin+ci)*cout+co])
							}
						}
					}
					y[((n*ho+oy)*wo+ox)*cout+co] = float32(s)
				}
			}
		}
	}
	return y, ho, wo
}

// directConvTranspose scatters x[i]·k[t] into output stride·i+t, as PyTorch's ConvTranspose2d.
func directConvTranspose(x []float32, b, h, w, cin int, k []float32, kh, kw, cout, stride, outPad int) ([]float32, int, int) {
	ho, wo := (h-1)*stride+kh+outPad, (w-1)*stride+kw+outPad
	y := make([]float64, b*ho*wo*cout)
	for n := range b {
		for iy := range h {
			for ix := range w {
				for ky := range kh {
					for kx := range kw {
						oy, ox := iy*stride+ky, ix*stride+kx
						for ci := range cin {
							xv := float64(x[((n*h+iy)*w+ix)*cin+ci])
							for co := range cout {
								y[((n*ho+oy)*wo+ox)*cout+co] += xv * float64(k[((ky*kw+kx)*cin+ci)*cout+co])
							}
						}
					}
				}
			}
		}
	}
	out := make([]float32, len(y))
	for i, v := range y {
		out[i] = float32(v)
	}
	return out, ho, wo
}

func assertClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	var worst float64
	worstAt := -1
	for i := range got {
		d := math.Abs(float64(got[i]-want[i])) / (1 + math.Abs(float64(want[i])))
		if d > worst || math.IsNaN(d) {
			worst, worstAt = d, i
		}
	}
	if worst > tol || math.IsNaN(worst) {
		t.Fatalf("%s: max relative difference %.3g at %d (got %g, want %g), tolerance %g",
			what, worst, worstAt, got[worstAt], want[worstAt], tol)
	}
}

// assertSameOutputs runs build(false), the reference graph, and build(true) on inputs and checks
// that their outputs, named by names, have the same shapes and values within tol (see assertClose).
func assertSameOutputs[F ExecGraphFn](t *testing.T, backend compute.Backend, build func(bool) F, inputs []any, names []string, tol float64) {
	t.Helper()
	want, err := MustNewExec(backend, build(false)).Call(inputs...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := MustNewExec(backend, build(true)).Call(inputs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(names) || len(want) != len(names) {
		t.Fatalf("%d and %d outputs, want %d (%v)", len(got), len(want), len(names), names)
	}
	for i, what := range names {
		if !got[i].Shape().Equal(want[i].Shape()) {
			t.Fatalf("%s: shape %s, want %s", what, got[i].Shape(), want[i].Shape())
		}
		assertClose(t, what, tensors.MustCopyFlatData[float32](got[i]), tensors.MustCopyFlatData[float32](want[i]), tol)
	}
}

type convCase struct {
	b, h, w, cin, cout, k, stride, outPad int
}

var convCases = []convCase{
	{b: 2, h: 7, w: 7, cin: 3, cout: 4, k: 3, stride: 1},
	{b: 2, h: 8, w: 7, cin: 3, cout: 5, k: 3, stride: 2},
	{b: 1, h: 12, w: 12, cin: 4, cout: 2, k: 3, stride: 2, outPad: 1},
	{b: 2, h: 5, w: 6, cin: 2, cout: 3, k: 2, stride: 3, outPad: 2},
	{b: 1, h: 9, w: 9, cin: 1, cout: 3, k: 1, stride: 2, outPad: 1},
	{b: 1, h: 6, w: 6, cin: 2, cout: 2, k: 4, stride: 2},
	{b: 2, h: 5, w: 5, cin: 12, cout: 1, k: 3, stride: 2, outPad: 1}, // few output channels
	// More channels than pixels: the channels-first transposed convolutions then take one
	// product per tap (conv: its input gradient; transposed: its forward).
	{b: 1, h: 3, w: 3, cin: 8, cout: 2, k: 3, stride: 1},
	{b: 1, h: 3, w: 3, cin: 3, cout: 10, k: 3, stride: 2, outPad: 1},
}

// draw returns the input x [B, H, W, Cin] and kernel k [K, K, Cin, Cout] of case c, drawn from a
// generator seeded with seed and c, and the generator for further draws.
func (c convCase) draw(seed uint64) (x, k []float32, rng *rand.Rand) {
	rng = rand.New(rand.NewPCG(seed, uint64(c.h*c.k+c.stride)))
	x = randomSlice(rng, c.b*c.h*c.w*c.cin)
	k = randomSlice(rng, c.k*c.k*c.cin*c.cout)
	return x, k, rng
}

// callConv runs fn on the x and k of case c and, if r is not nil, on r [B, ho, wo, Cout], and
// returns its outputs; it fails t on any error.
func callConv[F ExecGraphFn](t *testing.T, backend compute.Backend, c convCase, fn F, x, k, r []float32, ho, wo int) []*tensors.Tensor {
	t.Helper()
	inputs := []any{
		tensors.FromFlatDataAndDimensions(x, c.b, c.h, c.w, c.cin),
		tensors.FromFlatDataAndDimensions(k, c.k, c.k, c.cin, c.cout),
	}
	if r != nil {
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(r, c.b, ho, wo, c.cout))
	}
	exec, err := NewExec(backend, fn)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(inputs...)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

func TestConv2DMatchesDefinition(t *testing.T) {
	backend := goBackend(t)
	for _, c := range convCases {
		for _, f := range []Formulation{Patches, Stock} {
			t.Run(fmt.Sprintf("%+v/%s", c, f), func(t *testing.T) {
				x, k, _ := c.draw(1)
				want, ho, wo := directConv(x, c.b, c.h, c.w, c.cin, k, c.k, c.k, c.cout, c.stride)
				out := callConv(t, backend, c, func(x, k *Node) *Node { return Conv2D(x, k, c.stride, f) }, x, k, nil, 0, 0)[0]
				if err := out.Shape().CheckDims(c.b, ho, wo, c.cout); err != nil {
					t.Fatal(err)
				}
				assertClose(t, "Conv2D", tensors.MustCopyFlatData[float32](out), want, 1e-5)
			})
		}
	}
}

func TestConvTranspose2DMatchesDefinition(t *testing.T) {
	backend := goBackend(t)
	for _, c := range convCases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			x, k, _ := c.draw(2)
			want, ho, wo := directConvTranspose(x, c.b, c.h, c.w, c.cin, k, c.k, c.k, c.cout, c.stride, c.outPad)
			out := callConv(t, backend, c, func(x, k *Node) *Node {
				return ConvTranspose2D(x, k, c.stride, c.outPad, Auto)
			}, x, k, nil, 0, 0)[0]
			if err := out.Shape().CheckDims(c.b, ho, wo, c.cout); err != nil {
				t.Fatal(err)
			}
			assertClose(t, "ConvTranspose2D", tensors.MustCopyFlatData[float32](out), want, 1e-5)
		})
	}
}

// TestConvGradients checks autodiff gradients of both ops against the adjoint identities:
// for L = <y, r> with y = Conv2D(x, k), dL/dx = ConvTranspose2D(r, k) (direct definition, with the
// output padding that restores x's size), and dL/dk[t,ci,co] = Σ x[s·o+t, ci]·r[o, co].
func TestConvGradients(t *testing.T) {
	backend := goBackend(t)
	for _, c := range convCases {
		if (c.h-c.k)%c.stride != 0 || (c.w-c.k)%c.stride != 0 {
			continue // the adjoint of such a convolution needs an output padding per axis.
		}
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			x, k, rng := c.draw(3)
			ho, wo := (c.h-c.k)/c.stride+1, (c.w-c.k)/c.stride+1
			r := randomSlice(rng, c.b*ho*wo*c.cout)
			outs := callConv(t, backend, c, func(x, k, r *Node) []*Node {
				y := Conv2D(x, k, c.stride, Patches)
				return Gradient(ReduceAllSum(Mul(y, r)), x, k)
			}, x, k, r, ho, wo)
			wantDx, _, _ := directConvTranspose(r, c.b, ho, wo, c.cout, transposeKernel(k, c.k, c.cin, c.cout), c.k, c.k, c.cin, c.stride, 0)
			assertClose(t, "dL/dx", tensors.MustCopyFlatData[float32](outs[0]), wantDx, 1e-5)
			wantDk := make([]float32, len(k))
			for n := range c.b {
				for oy := range ho {
					for ox := range wo {
						for ky := range c.k {
							for kx := range c.k {
								for ci := range c.cin {
									xv := x[((n*c.h+oy*c.stride+ky)*c.w+ox*c.stride+kx)*c.cin+ci]
									for co := range c.cout {
										wantDk[((ky*c.k+kx)*c.cin+ci)*c.cout+co] += xv * r[((n*ho+oy)*wo+ox)*c.cout+co]
									}
								}
							}
						}
					}
				}
			}
			assertClose(t, "dL/dk", tensors.MustCopyFlatData[float32](outs[1]), wantDk, 1e-4)

		})
	}
}

// TestConvTranspose2DGradients checks, for L = <ConvTranspose2D(x, k), r>, that dL/dx is the
// convolution of r with the channel-swapped kernel and dL/dk[t,ci,co] = Σ_i x[i,ci]·r[s·i+t,co].
func TestConvTranspose2DGradients(t *testing.T) {
	backend := goBackend(t)
	for _, c := range convCases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			x, k, rng := c.draw(4)
			ho, wo := (c.h-1)*c.stride+c.k+c.outPad, (c.w-1)*c.stride+c.k+c.outPad
			r := randomSlice(rng, c.b*ho*wo*c.cout)
			outs := callConv(t, backend, c, func(x, k, r *Node) []*Node {
				y := ConvTranspose2D(x, k, c.stride, c.outPad, Auto)
				return Gradient(ReduceAllSum(Mul(y, r)), x, k)
			}, x, k, r, ho, wo)
			// Output padding rows/columns receive no input, so crop r to the convolution's reach.
			hr, wr := (c.h-1)*c.stride+c.k, (c.w-1)*c.stride+c.k
			cropped := make([]float32, 0, c.b*hr*wr*c.cout)
			for n := range c.b {
				for y := range hr {
					start := ((n*ho + y) * wo) * c.cout
					cropped = append(cropped, r[start:start+wr*c.cout]...)
				}
			}
			wantDx, _, _ := directConv(cropped, c.b, hr, wr, c.cout, transposeKernel(k, c.k, c.cin, c.cout), c.k, c.k, c.cin, c.stride)
			assertClose(t, "dL/dx", tensors.MustCopyFlatData[float32](outs[0]), wantDx, 1e-5)
			wantDk := make([]float32, len(k))
			for n := range c.b {
				for iy := range c.h {
					for ix := range c.w {
						for ky := range c.k {
							for kx := range c.k {
								oy, ox := iy*c.stride+ky, ix*c.stride+kx
								for ci := range c.cin {
									xv := x[((n*c.h+iy)*c.w+ix)*c.cin+ci]
									for co := range c.cout {
										wantDk[((ky*c.k+kx)*c.cin+ci)*c.cout+co] += xv * r[((n*ho+oy)*wo+ox)*c.cout+co]
									}
								}
							}
						}
					}
				}
			}
			assertClose(t, "dL/dk", tensors.MustCopyFlatData[float32](outs[1]), wantDk, 1e-4)
		})
	}
}

// transposeKernel swaps the channel axes of a [k, k, cin, cout] kernel.
func transposeKernel(k []float32, ks, cin, cout int) []float32 {
	out := make([]float32, len(k))
	for t := range ks * ks {
		for ci := range cin {
			for co := range cout {
				out[(t*cout+co)*cin+ci] = k[(t*cin+ci)*cout+co]
			}
		}
	}
	return out
}

func TestAutoPicksPatchesOnGoBackend(t *testing.T) {
	backend := goBackend(t)
	if !IsGoBackend(backend) {
		t.Fatalf("IsGoBackend(%q / %q) = false", backend.Name(), backend.String())
	}
	g := NewGraph(backend, "probe")
	if f := Auto.Resolve(g); f != Patches {
		t.Fatalf("Auto resolves to %s on the Go backend, want patches", f)
	}
}
