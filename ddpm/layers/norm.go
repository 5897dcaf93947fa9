package layers

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/nn"
	"github.com/gomlx/gomlx/support/exceptions"
)

// GroupNormEpsilon is PyTorch's default.
const GroupNormEpsilon = 1e-5

// GroupNorm normalises x [B, H, W, C] over (H, W, C/groups) for each of `groups` channel groups,
// then applies a learned per-channel scale ("gamma" [C], init 1) and offset ("beta" [C], init 0),
// as torch.nn.GroupNorm(groups, C). GoMLX v0.28.2 has no GroupNorm: it is LayerNorm over the
// group axes of a [B, H, W, G, C/G] reshape.
func GroupNorm(scope *model.Scope, x *Node, groups int) *Node {
	if x.Rank() != 4 {
		exceptions.Panicf("GroupNorm: want x [B,H,W,C], got %s", x.Shape())
	}
	b, h, w, c := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	if groups < 1 || c%groups != 0 {
		exceptions.Panicf("GroupNorm: %d channels cannot be split into %d groups", c, groups)
	}
	gamma, beta := GroupNormParams(scope, x.Graph(), c)
	grouped := Reshape(x, b, h, w, groups, c/groups)
	normalized := nn.LayerNorm(grouped, []int{1, 2, 4}, GroupNormEpsilon, nil, nil, nil)
	normalized = Reshape(normalized, b, h, w, c)
	return Add(Mul(normalized, ExpandLeftToRank(gamma, 4)), ExpandLeftToRank(beta, 4))
}

// GroupNormParams returns GroupNorm's per-channel scale ("gamma" [C], init 1) and offset ("beta"
// [C], init 0), variables under scope.
func GroupNormParams(scope *model.Scope, g *Graph, c int) (gamma, beta *Node) {
	gamma = scope.WithInitializer(initializer.One).VariableWithShape("gamma", shapes.Make(dtypes.Float32, c)).NodeValue(g)
	beta = scope.WithInitializer(initializer.Zero).VariableWithShape("beta", shapes.Make(dtypes.Float32, c)).NodeValue(g)
	return
}
