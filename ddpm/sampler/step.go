package sampler

import (
	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// stepGraph builds one reverse step: inputs x_t [b,28,28,1], rng, t and t' (int32 scalars) and, for
// conditional models or classifier guidance, labels [b] int32; outputs x_t', x̂_0 and the new rng
// state. With Options.Corrector > 0 the step first moves x_t by that many Langevin corrector
// steps (diffusion.LangevinStep, with the guided score), then takes the predictor step from there.
//
// Classifier guidance (Dhariwal & Nichol 2021), with g = ∇ₓ log p(y | x_t, t) of the noisy
// classifier, taken by GoMLX's autodiff in this graph:
//
//	DDPM (Alg. 1): x_{t−1} = μ + s·σ_t²·g + σ_t·z, with σ_t² the variance of the step's noise
//	               (β_t or β̃_t; 0 at t = 1, where no noise is added, so the last step is unguided)
//	DDIM (Alg. 2): ε̂' = ε̂ − s·√(1−ᾱ_t)·g, then the DDIM step with ε̂' (x̂_0 included)
func (s *Sampler) stepGraph(b int, o Options) func(*model.Scope, []*Node) []*Node {
	return func(scope *model.Scope, in []*Node) []*Node {
		x, rng := in[0], in[1]
		t := BroadcastToDims(in[2], b)
		tPrev := BroadcastToDims(in[3], b)
		var labels, modelLabels *Node
		if len(in) > 4 {
			labels = in[4]
		}
		if s.model.Conditional() {
			modelLabels = labels
		}
		sched := s.model.Schedule
		guided := o.Guidance.Kind == "classifier" && o.Guidance.Scale != 0
		enter := reentrant(scope) // the network (and classifier or guide) run 1 + Corrector times
		// Predictor–corrector: the Langevin steps at t come first.
		for range o.Corrector {
			eps := s.epsilon(enter, x, t, modelLabels, o.Guidance)
			if guided { // the score of p(x_t | y): ε̂ − s·√(1−ᾱ_t)·g
				g := MulScalar(s.classifierGradient(enter(classifier.ScopeName), x, t, labels), o.Guidance.Scale)
				eps = Sub(eps, Mul(diffusion.PerExample(sched.SqrtOneMinusAlphaBar, t, x), g))
			}
			var z *Node
			rng, z = RandomNormal(rng, x.Shape())
			x = diffusion.LangevinStep(sched, x, t, eps, z, o.SNR)
		}
		eps := s.epsilon(enter, x, t, modelLabels, o.Guidance)
		var shift *Node // s·g, nil without classifier guidance
		if guided {
			shift = MulScalar(s.classifierGradient(enter(classifier.ScopeName), x, t, labels), o.Guidance.Scale)
		}
		rng, z := RandomNormal(rng, x.Shape())
		var prev, x0 *Node
		if o.Method == "ddim" {
			if shift != nil {
				eps = Sub(eps, Mul(diffusion.PerExample(sched.SqrtOneMinusAlphaBar, t, x), shift))
			}
			prev, x0 = diffusion.DDIMStep(sched, x, t, tPrev, eps, z, o.Eta, o.ClipX0)
		} else {
			prev, x0 = diffusion.DDPMStep(sched, x, t, eps, z, o.Variance, o.ClipX0)
			if shift != nil {
				prev = Add(prev, Mul(diffusion.PerExample(diffusion.StepVariances(sched, o.Variance), t, x), shift))
			}
		}
		return []*Node{prev, x0, rng}
	}
}

// reentrant returns a function that enters the sub-scope name of scope: with In the first time,
// with Shared after that, so that one graph can call the same network more than once.
func reentrant(scope *model.Scope) func(name string) *model.Scope {
	visited := map[string]bool{}
	return func(name string) *model.Scope {
		if visited[name] {
			return scope.Shared("%s", name)
		}
		visited[name] = true
		return scope.In("%s", name)
	}
}

// classifierGradient is g = ∇ₓ log p(y | x_t, t) of the attached noisy classifier (scope: its
// classifier.ScopeName), per example: the gradient used by the guided step.
func (s *Sampler) classifierGradient(scope *model.Scope, x, t, labels *Node) *Node {
	return s.clf.GradLogProb(scope, x, t, labels)
}

// epsilon is the guided noise prediction; enter enters the sub-scopes of the networks. Classifier-free
// guidance evaluates the conditional and unconditional predictions in one batched call of the
// network: ε̂ = (1+w)·ε(x,t,y) − w·ε(x,t,∅). With w = 0 it is ε(x,t,y) from the conditional batch
// alone, so that w = 0 samples equal conditional sampling bit for bit (the doubled batch would
// differ by float32 round-off) at half the cost. Autoguidance combines the model with the guide
// model the same way (autoguide.go); w = 0 skips the guide.
func (s *Sampler) epsilon(enter func(string) *model.Scope, x, t, labels *Node, g Guidance) *Node {
	m := s.model
	scope := enter(diffusion.ScopeName)
	if g.Kind == "auto" && g.Scale != 0 {
		return Guide(m.Epsilon(scope, x, t, labels), s.guide.Epsilon(enter(GuideScopeName), x, t, labels), g.Scale)
	}
	if g.Kind != "cfg" || g.Scale == 0 {
		return m.Epsilon(scope, x, t, labels)
	}
	b := x.Shape().Dim(0)
	null := BroadcastToDims(Scalar(x.Graph(), dtypes.Int32, m.Net.NullClass()), b)
	both := m.Epsilon(scope, Concatenate([]*Node{x, x}, 0), Concatenate([]*Node{t, t}, 0),
		Concatenate([]*Node{labels, null}, 0))
	return Guide(Slice(both, AxisRange(0, b)), Slice(both, AxisRange(b, 2*b)), g.Scale)
}

// Guide combines the conditional and unconditional noise predictions of classifier-free guidance
// with weight w: ε̂ = (1+w)·ε(x,t,y) − w·ε(x,t,∅), which is the assignment's
// ε(x,t,∅) + γ·(ε(x,t,y) − ε(x,t,∅)) with γ = 1 + w (Guidance.Gamma).
func Guide(cond, uncond *Node, w float64) *Node {
	return Sub(MulScalar(cond, 1+w), MulScalar(uncond, w))
}
