package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
)

// TestBatchNormGeluCF compares the fused training op with bias, BatchNorm then GELU differentiated
// by GoMLX's autodiff: output, gradients of y, gamma and beta (the bias's is zero: it is cancelled
// by the batch mean), and the updated running averages; then both in inference mode. The last case normalises some values to exactly zero, where
// GELU(z)/z is replaced by Φ(0) = ½.
func TestBatchNormGeluCF(t *testing.T) {
	backend := goBackend(t)
	for _, c := range []struct {
		c, b, h, w int
		y          []float32 // nil: random
	}{{3, 2, 4, 5, nil}, {8, 3, 3, 3, nil}, {1, 4, 2, 2, []float32{-1, 0, 1, 2, -2, 0.5, -0.5, 0, 0, 3, -3, 0, 1, -1, 0.25, -0.25}}} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d", c.c, c.b, c.h, c.w), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(c.c)))
			n := c.c * c.b * c.h * c.w
			y := randomSlice(rng, n)
			for i := range y {
				y[i] = 2*y[i] + 0.7 // a non-zero mean, as after a convolution with a bias
			}
			r := randomSlice(rng, n)
			gamma, beta, bias := randomSlice(rng, c.c), randomSlice(rng, c.c), randomSlice(rng, c.c)
			if c.y != nil { // mean 0, bias and beta 0: z = 0 exactly where y = 0
				y, beta, bias = c.y, make([]float32, c.c), make([]float32, c.c)
			}
			inputs := []any{
				tensors.FromFlatDataAndDimensions(y, c.c, c.b, c.h, c.w),
				tensors.FromFlatDataAndDimensions(r, c.c, c.b, c.h, c.w),
				tensors.FromFlatDataAndDimensions(bias, c.c),
			}
			var stores [2]*model.Store
			build := func(fused bool) func(*model.Scope, *Node, *Node, *Node) []*Node {
				return func(scope *model.Scope, y, r, bias *Node) []*Node {
					g := y.Graph()
					scope.Store().SetTraining(g, true)
					gammaV, betaV := GroupNormParams(scope, g, c.c)
					var out *Node
					if fused {
						out = BatchNormGeluCF(scope, y, bias)
					} else {
						out = reference(scope, y, bias)
					}
					grads := Gradient(ReduceAllSum(Mul(out, r)), y, gammaV, betaV, bias)
					return append([]*Node{out}, grads...)
				}
			}
			var results [2][]*tensors.Tensor
			for i, fused := range []bool{false, true} {
				stores[i] = model.NewStore()
				setParams(t, stores[i], gamma, beta)
				outs, err := model.CallOnceN(backend, stores[i], build(fused), inputs...)
				if err != nil {
					t.Fatal(err)
				}
				results[i] = outs
			}
			for i, what := range []string{"output", "dy", "dgamma", "dbeta", "dbias"} {
				assertClose(t, what, tensors.MustCopyFlatData[float32](results[1][i]),
					tensors.MustCopyFlatData[float32](results[0][i]), 2e-5)
			}
			for _, name := range []string{"running_mean", "running_var"} {
				assertClose(t, name, variableValues(stores[1], name), variableValues(stores[0], name), 1e-5)
			}
			// Inference mode (same running averages): the same graph as BatchNorm then GELU, bit for bit.
			infer := func(s *model.Store, fused bool) []float32 {
				out, err := model.CallOnce(backend, s, func(scope *model.Scope, y, bias *Node) *Node {
					scope.Store().SetTraining(y.Graph(), false)
					if fused {
						return BatchNormGeluCF(scope, y, bias)
					}
					return reference(scope, y, bias)
				}, inputs[0], inputs[2])
				if err != nil {
					t.Fatal(err)
				}
				return tensors.MustCopyFlatData[float32](out)
			}
			assertClose(t, "inference output", infer(stores[0], true), infer(stores[0], false), 0)
		})
	}
}

// reference is the bias, BatchNorm and GELU as separate ops, as the U-Net computed them before.
func reference(scope *model.Scope, y, bias *Node) *Node {
	c := y.Shape().Dim(0)
	return activation.Gelu(BatchNorm(scope, Add(y, Reshape(bias, c, 1, 1, 1)), 0))
}

func setParams(t *testing.T, s *model.Store, gamma, beta []float32) {
	t.Helper()
	for name, v := range map[string][]float32{"gamma": gamma, "beta": beta} {
		if _, err := s.CreateVariable("/"+name, tensors.FromFlatDataAndDimensions(v, len(v))); err != nil {
			t.Fatal(err)
		}
	}
}

func variableValues(s *model.Store, name string) []float32 {
	return tensors.MustCopyFlatData[float32](s.GetVariable("/" + name).MustValue())
}
