package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/nn"
)

// referenceGroupNormSwish is swish(GroupNorm(y + d)) on [B, H, W, C], differentiated by autodiff.
func referenceGroupNormSwish(y, d, gamma, beta *Node, groups int) *Node {
	b, h, w, c := y.Shape().Dim(0), y.Shape().Dim(1), y.Shape().Dim(2), y.Shape().Dim(3)
	z := Add(y, InsertAxes(d, 1, 1))
	norm := nn.LayerNorm(Reshape(z, b, h, w, groups, c/groups), []int{1, 2, 4}, GroupNormEpsilon, nil, nil, nil)
	u := Add(Mul(Reshape(norm, b, h, w, c), ExpandLeftToRank(gamma, 4)), ExpandLeftToRank(beta, 4))
	return activation.Swish(u)
}

func TestGroupNormSwishCF(t *testing.T) {
	backend := goBackend(t)
	for _, c := range []struct{ b, h, w, c, groups int }{
		{2, 5, 4, 8, 4}, {3, 3, 3, 4, 4}, {2, 6, 6, 6, 1}, {1, 2, 3, 6, 3},
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(c.c*c.groups)))
			y := randomSlice(rng, c.b*c.h*c.w*c.c)
			for i := range y {
				y[i] = 2*y[i] + 0.7 // a non-zero mean, as after a convolution
			}
			d := randomSlice(rng, c.b*c.c)
			gamma := randomSlice(rng, c.c)
			beta := randomSlice(rng, c.c)
			r := randomSlice(rng, len(y))
			build := func(cf bool) func(y, d, gamma, beta, r *Node) []*Node {
				return func(y, d, gamma, beta, r *Node) []*Node {
					var out *Node
					if cf {
						out = fromCF(GroupNormSwishCF(toCF(y), d, gamma, beta, c.groups, GroupNormEpsilon))
					} else {
						out = referenceGroupNormSwish(y, d, gamma, beta, c.groups)
					}
					return append([]*Node{out}, Gradient(ReduceAllSum(Mul(out, r)), y, d, gamma, beta)...)
				}
			}
			inputs := []any{
				tensors.FromFlatDataAndDimensions(y, c.b, c.h, c.w, c.c),
				tensors.FromFlatDataAndDimensions(d, c.b, c.c),
				tensors.FromFlatDataAndDimensions(gamma, c.c),
				tensors.FromFlatDataAndDimensions(beta, c.c),
				tensors.FromFlatDataAndDimensions(r, c.b, c.h, c.w, c.c),
			}
			assertSameOutputs(t, backend, build, inputs, []string{"output", "dy", "dd", "dgamma", "dbeta"}, 2e-5)
		})
	}
}
