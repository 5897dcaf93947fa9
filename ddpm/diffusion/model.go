package diffusion

import (
	"fmt"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// ScopeName is the scope, under a store's root, of a model's network variables; Scope is its
// absolute path. Training, checkpoints, EMA and the samplers all find the network there.
const (
	ScopeName = "model"
	Scope     = "/" + ScopeName
)

// Model is a noise-prediction network with its noise schedule.
type Model struct {
	Net      network.Config
	Schedule *schedule.Schedule
	// Conv chooses the convolution formulation (layers.Auto picks by backend).
	Conv layers.Formulation
}

// Conditional reports whether the network takes class labels.
func (m *Model) Conditional() bool { return m.Net.Conditional() }

// Epsilon is the network's noise prediction ε̂(x_t, t[, y]).
//
//   - xt: [B, 28, 28, 1]; t: [B] int32 in 1..T; labels: [B] int32 or nil (unconditional network)
//   - output: [B, 28, 28, 1]
func (m *Model) Epsilon(scope *model.Scope, xt, t, labels *Node) *Node {
	return m.Net.Apply(scope, xt, NormalizedTime(m.Schedule, t), labels, m.Conv)
}

// Loss is the ε-prediction objective of Ho et al. (L_simple): with t ~ U{1..T} and ε ~ N(0, I)
// drawn from rngState, it returns mean((ε̂(x_t, t[, y]) − ε)²) over all elements.
// For a conditional network, each label is replaced by the "no class" token with probability
// pUncond (label dropout), so one network learns both ε(x_t, t, y) and ε(x_t, t, ∅).
//
//   - x0: [B, 28, 28, 1] images in [−1, 1]; labels: [B] int32 (nil for unconditional)
//   - rngState: the graph.RNGStateShape state; the caller derives it from (seed, step)
//   - output: scalar float32 loss
func (m *Model) Loss(scope *model.Scope, x0, labels, rngState *Node, pUncond float64) *Node {
	batch := x0.Shape().Dim(0)
	rngState, t := RandomIntN(rngState, m.Schedule.T, shapes.Make(dtypes.Int32, batch))
	t = AddScalar(t, 1)
	rngState, eps := RandomNormal(rngState, x0.Shape())
	xt := AddNoise(m.Schedule, x0, t, eps)
	if m.Conditional() {
		if labels == nil {
			panic(fmt.Errorf("diffusion: a conditional model needs labels to train"))
		}
		if pUncond > 0 {
			var u *Node
			_, u = RandomUniform(rngState, shapes.Make(dtypes.Float32, batch))
			labels = DropLabels(labels, u, pUncond, m.Net.NullClass())
		}
	} else {
		labels = nil
	}
	epsHat := m.Epsilon(scope, xt, t, labels)
	return ReduceAllMean(Square(Sub(epsHat, eps)))
}

// DropLabels is the label dropout of classifier-free guidance training (the assignment's
// Algorithm 3): label i becomes the "no class" token null where u_i < pUncond, with u_i ~ U[0, 1)
// drawn per example, so each label is dropped with probability pUncond, independently.
//
//   - labels: [B] int32; u: [B] float32 in [0, 1)
//   - output: [B] int32
func DropLabels(labels, u *Node, pUncond float64, null int) *Node {
	g := labels.Graph()
	nullT := BroadcastToShape(Scalar(g, dtypes.Int32, null), labels.Shape())
	return Where(LessThan(u, Scalar(g, dtypes.Float32, pUncond)), nullT, labels)
}
