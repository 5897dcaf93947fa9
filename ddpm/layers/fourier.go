package layers

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// GaussianFourierProjection embeds a scalar time per example as [sin(2π t W), cos(2π t W)] with
// W ~ N(0, scale²) fixed at initialisation (variable "W" [dim/2], not trainable), as in the
// score-based generative modelling tutorial (Song et al.).
//
//   - t: [B] float32 (the project feeds t/T, in (0, 1])
//   - output: [B, dim]
func GaussianFourierProjection(scope *model.Scope, t *Node, dim int, scale float64) *Node {
	g := t.Graph()
	wVar := scope.WithInitializer(initializer.RandomNormalFn(scope, scale)).
		VariableWithShape("W", shapes.Make(dtypes.Float32, dim/2))
	wVar.SetTrainable(false)
	w := wVar.NodeValue(g)
	proj := MulScalar(Mul(ExpandAxes(t, -1), ExpandAxes(w, 0)), 2*math.Pi) // [B, dim/2]
	return Concatenate([]*Node{Sin(proj), Cos(proj)}, -1)
}
