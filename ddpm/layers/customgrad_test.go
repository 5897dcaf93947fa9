package layers

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestCustomGradient checks a hand-written gradient of y = x·w (matrix product) against autodiff,
// when the op is one link of a longer chain (so its input gradient feeds further backprop).
func TestCustomGradient(t *testing.T) {
	backend := goBackend(t)
	f := func(custom bool) func(x, w, u *Node) []*Node {
		return func(x, w, u *Node) []*Node {
			xx := Mul(x, u) // a differentiable op before the custom one
			var y *Node
			if custom {
				y = CustomGradient([]*Node{xx, w}, func(in []*Node) *Node {
					return MatMul(in[0], in[1])
				}, func(v *Node) []*Node {
					dx := Dot(v, w).General([]int{1}, nil, []int{1}, nil)  // v·wᵀ
					dw := Dot(xx, v).General([]int{0}, nil, []int{0}, nil) // xxᵀ·v
					return []*Node{dx, dw}
				})
			} else {
				y = MatMul(xx, w)
			}
			loss := ReduceAllSum(Square(Tanh(y)))
			return Gradient(loss, x, w, u)
		}
	}
	x := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	w := tensors.FromFlatDataAndDimensions([]float32{0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, 3, 2)
	u := tensors.FromFlatDataAndDimensions([]float32{0.5, -1, 0.25, 2, 1, -0.5}, 2, 3)
	assertSameOutputs(t, backend, f, []any{x, w, u}, []string{"dx", "dw", "du"}, 1e-6)
}
