package sampler

import (
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// stepGraph builds one reverse step: inputs x_t [b,28,28,1], rng, t and t' (int32 scalars) and, for
// conditional models, labels [b] int32; outputs x_t', x̂_0 and the new rng state.
func (s *Sampler) stepGraph(b int, o Options) func(*model.Scope, []*Node) []*Node {
	return func(scope *model.Scope, in []*Node) []*Node {
		x, rng := in[0], in[1]
		t := BroadcastToDims(in[2], b)
		tPrev := BroadcastToDims(in[3], b)
		var labels *Node
		if len(in) > 4 {
			labels = in[4]
		}
		eps := s.epsilon(scope.In(training.ModelScopeName), x, t, labels, o.Guidance)
		rng, z := RandomNormal(rng, x.Shape())
		var prev, x0 *Node
		if o.Method == "ddim" {
			prev, x0 = diffusion.DDIMStep(s.model.Schedule, x, t, tPrev, eps, z, o.Eta, o.ClipX0)
		} else {
			prev, x0 = diffusion.DDPMStep(s.model.Schedule, x, t, eps, z, o.Variance, o.ClipX0)
		}
		return []*Node{prev, x0, rng}
	}
}

// epsilon is the guided noise prediction. Classifier-free guidance evaluates the conditional and
// unconditional predictions in one batched call of the network:
// ε̂ = (1+w)·ε(x,t,y) − w·ε(x,t,∅).
func (s *Sampler) epsilon(scope *model.Scope, x, t, labels *Node, g Guidance) *Node {
	m := s.model
	if g.Kind != "cfg" || g.Scale == 0 {
		return m.Epsilon(scope, x, t, labels)
	}
	b := x.Shape().Dim(0)
	null := BroadcastToDims(Scalar(x.Graph(), dtypes.Int32, m.Net.NullClass()), b)
	both := m.Epsilon(scope, Concatenate([]*Node{x, x}, 0), Concatenate([]*Node{t, t}, 0),
		Concatenate([]*Node{labels, null}, 0))
	cond := Slice(both, AxisRange(0, b))
	uncond := Slice(both, AxisRange(b, 2*b))
	return Sub(MulScalar(cond, 1+g.Scale), MulScalar(uncond, g.Scale))
}
