// Package diffusion is the graph side of DDPM: the closed-form forward process q(x_t | x_0), the
// ε-prediction loss, and reverse steps (DDPM ancestral, DDIM), each a pure function of the
// schedule's tables and of the network's prediction, in the spirit of diffusers' schedulers
// (`add_noise`, `step` returning the previous sample and the predicted x_0). Prior (host side,
// gonum) is the distribution a reverse chain starts from when ᾱ_T is not ≈ 0.
//
// Shapes: images are [B, H, W, C] float32; diffusion steps t are [B] int32 in 1..T; tables of a
// schedule.Schedule enter the graph as float32 constants indexed by t.
package diffusion

import (
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// table puts a float64 schedule table in the graph as a float32 constant [T+1].
func table(g *Graph, values []float64) *Node {
	f := make([]float32, len(values))
	for i, v := range values {
		f[i] = float32(v)
	}
	return Const(g, f)
}

// PerExample gathers values[t] (a float64 table indexed by t = 0..T) for each example, as float32
// shaped to broadcast over like: [B, 1, 1, 1].
func PerExample(values []float64, t *Node, like *Node) *Node {
	g := t.Graph()
	if t.DType() != dtypes.Int32 || t.Rank() != 1 {
		exceptions.Panicf("diffusion: t must be [B] int32, got %s", t.Shape())
	}
	v := Gather(table(g, values), ExpandAxes(t, -1)) // [B]
	dims := make([]int, like.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[0] = t.Shape().Dim(0)
	return Reshape(v, dims...)
}

// AddNoise samples q(x_t | x_0) in closed form: x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε.
//
//   - x0, eps: [B, H, W, C] float32
//   - t: [B] int32 in 1..T (0 returns x0)
//   - output: [B, H, W, C]
func AddNoise(s *schedule.Schedule, x0, t, eps *Node) *Node {
	a := PerExample(s.SqrtAlphaBar, t, x0)
	b := PerExample(s.SqrtOneMinusAlphaBar, t, x0)
	return Add(Mul(a, x0), Mul(b, eps))
}

// PredictX0 inverts AddNoise with the predicted noise: x̂_0 = (x_t − √(1−ᾱ_t)·ε̂) / √ᾱ_t.
func PredictX0(s *schedule.Schedule, xt, t, epsHat *Node) *Node {
	a := PerExample(s.SqrtAlphaBar, t, xt)
	b := PerExample(s.SqrtOneMinusAlphaBar, t, xt)
	return Div(Sub(xt, Mul(b, epsHat)), a)
}

// NormalizedTime is the network's time input t/T as float32 [B].
func NormalizedTime(s *schedule.Schedule, t *Node) *Node {
	return DivScalar(ConvertDType(t, dtypes.Float32), float64(s.T))
}
