package layers

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// GroupNormSwishCF computes swish(GroupNorm(y + d)) on channels-first activations, with a
// hand-written gradient: the U-Net's "+ time projection, GroupNorm, swish" step.
//
//   - y: [C, B, H, W] (a convolution's output; any spatial layout, e.g. PhaseSplit)
//   - d: [B, C], a per-example channel offset (the time projection), or nil
//   - gamma, beta: [C], GroupNorm's scale and offset
//   - output: shaped as y
//
// GroupNorm normalises z = y + d over (C/groups channels, H, W) per example and group (biased
// variance, eps as PyTorch), then u = gamma·ẑ + beta, and swish(u) = u·sigmoid(u).
//
// How it is computed, for the Go backend's sake (GoMLX v0.28.16, compute v0.1.14: same-shape
// and per-row broadcasting ops and reductions run SIMD kernels at ~1 ns per element, Exp too,
// while a batched DotGeneral with a one- or two-element contraction goes to the backend's "small"
// matrix kernel at ~5× that cost, so none is used here any more):
//
//   - Statistics: per (c, b) sums Σy and Σy² over H·W (ReduceSum of y and of y·y). Everything
//     after that is [C, B]-sized, in float64: channel means and variances of y (E[y²] - E[y]²,
//     float64 on float32 sums of H·W ≤ 676 values), then the group statistics of z = y + d. d is
//     never added to y: it only shifts the per-channel offset.
//   - u is then a per-(c, b) affine map of y: u = A·y + S, A = gamma/σ, S = beta + A·(d - μ),
//     a Mul and an Add broadcasting A and S along the row.
//   - swish(u) = u·σ(u) with σ(u) = 1/(1 + exp(-u)): one Exp, then same-shape ops. The affine
//     map produces -u directly, so no Neg pass.
//
// The gradient reuses u, σ(u) and the (c, b) statistics: du from the swish derivative
// σ·(1 + u·(1 - σ)), two more row sums Σdu and Σdu·y, and the GroupNorm backward
// dy = A·du + E·y + F with [C, B] coefficients E, F; the gradients of d, gamma and beta are
// [C, B]-sized reductions of those sums.
func GroupNormSwishCF(y, d, gamma, beta *Node, groups int, eps float64) *Node {
	if y.Rank() < 3 {
		exceptions.Panicf("GroupNormSwishCF: want y [C, B, spatial...], got %s", y.Shape())
	}
	dims := y.Shape().Dimensions
	c, b := dims[0], dims[1]
	hw := y.Shape().Size() / (c * b)
	if groups < 1 || c%groups != 0 {
		exceptions.Panicf("GroupNormSwishCF: %d channels cannot be split into %d groups", c, groups)
	}
	if d != nil {
		if err := d.Shape().CheckDims(b, c); err != nil {
			exceptions.Panicf("GroupNormSwishCF: d must be [B=%d, C=%d]: %v", b, c, err)
		}
	}
	st := &gnSwish{c: c, b: b, hw: hw, groups: groups, eps: eps, dtype: y.DType()}
	inputs := []*Node{y, gamma, beta}
	if d != nil {
		inputs = append(inputs, d)
	}
	return CustomGradient(inputs, func(in []*Node) *Node {
		var dIn *Node
		if len(in) > 3 {
			dIn = in[3]
		}
		return Reshape(st.forward(in[0], dIn, in[1], in[2]), dims...)
	}, func(v *Node) []*Node {
		dy, dGamma, dBeta, dd := st.backward(Reshape(v, c*b, 1, hw))
		grads := []*Node{Reshape(dy, dims...), dGamma, dBeta}
		if d != nil {
			grads = append(grads, dd)
		}
		return grads
	})
}

// gnSwish holds the forward pass's nodes that the backward pass reuses.
type gnSwish struct {
	c, b, hw, groups int
	eps              float64
	dtype            dtypes.DType

	y3, negU, negSigmoid     *Node // [C·B, 1, H·W]: y, -u = -(A·y + S), -σ(u)
	scaleRow                 *Node // [C·B, 1, 1]: A
	s1, mu, rstd, dT, gamma2 *Node // float64 statistics: [C, B] and group-broadcast [G, C/G, B]
	hasD                     bool
}

// rowSums returns Σ over the last axis of x [C·B, 1, H·W] as float64 [C, B].
func (st *gnSwish) rowSums(x *Node) *Node {
	return Reshape(ConvertDType(ReduceSum(x, 2), dtypes.Float64), st.c, st.b)
}

// rowDots returns Σ over the last axis of x·y (both [C·B, 1, H·W]) as float64 [C, B].
func (st *gnSwish) rowDots(x, y *Node) *Node {
	return Reshape(ConvertDType(ReduceSum(Mul(x, y), 2), dtypes.Float64), st.c, st.b)
}

// groupMean averages x [C, B] over the channels of each group: [G, 1, B].
func (st *gnSwish) groupMean(x *Node) *Node {
	return ReduceAndKeep(Reshape(x, st.groups, st.c/st.groups, st.b), ReduceMean, 1)
}

// perRow turns a float64 [G, C/G, B] (or broadcastable) coefficient into [C·B, 1, 1] of st.dtype.
func (st *gnSwish) perRow(x *Node) *Node {
	x = BroadcastToDims(x, st.groups, st.c/st.groups, st.b)
	return ConvertDType(Reshape(x, st.c*st.b, 1, 1), st.dtype)
}

func (st *gnSwish) forward(y, d, gamma, beta *Node) *Node {
	cg := st.c / st.groups
	n := float64(st.hw)
	st.y3 = Reshape(y, st.c*st.b, 1, st.hw)
	st.s1 = st.rowSums(st.y3)
	s2 := st.rowDots(st.y3, st.y3)
	mean := DivScalar(st.s1, n)                                           // channel means of y
	variance := Max(Sub(DivScalar(s2, n), Square(mean)), ZerosLike(mean)) // channel variances of y
	st.dT = ZerosLike(mean)
	if d != nil {
		st.hasD = true
		st.dT = Transpose(ConvertDType(d, dtypes.Float64), 0, 1) // [C, B]
	}
	mz := Add(mean, st.dT) // channel means of z = y + d
	st.mu = st.groupMean(mz)
	dev := Sub(Reshape(mz, st.groups, cg, st.b), st.mu)
	groupVar := Add(st.groupMean(variance), ReduceAndKeep(Square(dev), ReduceMean, 1))
	st.rstd = Div(OnesLike(groupVar), Sqrt(AddScalar(groupVar, st.eps))) // [G, 1, B]
	st.gamma2 = Reshape(ConvertDType(gamma, dtypes.Float64), st.groups, cg, 1)
	beta2 := Reshape(ConvertDType(beta, dtypes.Float64), st.groups, cg, 1)
	scale := Mul(st.gamma2, st.rstd)                                                  // A: [G, C/G, B]
	offset := Add(beta2, Mul(scale, Sub(Reshape(st.dT, st.groups, cg, st.b), st.mu))) // S
	st.scaleRow = st.perRow(scale)
	// -u straight from the affine map (no Neg pass); -σ(u) = -1/(1 + exp(-u)) (exp(-u) = +Inf for
	// u < -88 gives 0, not NaN); swish(u) = u·σ(u) = (-u)·(-σ(u)).
	st.negU = Add(Mul(st.y3, Neg(st.scaleRow)), st.perRow(Neg(offset)))
	st.negSigmoid = Div(Scalar(y.Graph(), st.dtype, -1), AddScalar(Exp(st.negU), 1))
	return Mul(st.negU, st.negSigmoid)
}

// backward returns the gradients of y ([C·B, 1, H·W]), gamma, beta and d from v = dL/d(output).
func (st *gnSwish) backward(v *Node) (dy, dGamma, dBeta, dd *Node) {
	cg := st.c / st.groups
	n := float64(st.hw) * float64(cg)
	// d swish/du = σ·(1 + u - u·σ) = (-σ)·((-u) + (-u)(-σ) - 1).
	du := Mul(v, Mul(st.negSigmoid, AddScalar(Add(st.negU, Mul(st.negU, st.negSigmoid)), -1)))
	sDu := st.rowSums(du)         // Σ dL/du     [C, B]
	sDuY := st.rowDots(du, st.y3) // Σ dL/du · y [C, B]
	grouped := func(x *Node) *Node { return Reshape(x, st.groups, cg, st.b) }
	centre := Sub(grouped(st.dT), st.mu) // d - μ: ẑ = (y + d - μ)·rstd
	// Σ dL/du · ẑ per (c, b).
	sDuZ := Mul(st.rstd, Add(grouped(sDuY), Mul(centre, grouped(sDu))))
	dGamma = ConvertDType(ReduceSum(Reshape(sDuZ, st.c, st.b), 1), st.dtype)
	dBeta = ConvertDType(ReduceSum(sDu, 1), st.dtype)
	// dz = rstd·(γ·du - mean_g(γ·du) - ẑ·mean_g(γ·du·ẑ)) = A·du + E·y + F.
	m1 := DivScalar(ReduceAndKeep(Mul(st.gamma2, grouped(sDu)), ReduceSum, 1), n)
	m2 := DivScalar(ReduceAndKeep(Mul(st.gamma2, sDuZ), ReduceSum, 1), n)
	coefY := Neg(Mul(Square(st.rstd), m2))                 // E [G, 1, B]
	coefConst := Sub(Mul(coefY, centre), Mul(st.rstd, m1)) // F [G, C/G, B]
	dy = Add(Add(Mul(du, st.scaleRow), Mul(st.y3, st.perRow(coefY))), st.perRow(coefConst))
	if st.hasD {
		// dL/dd = Σ_hw dz = A·Σdu + E·Σy + F·H·W.
		scale := Mul(st.gamma2, st.rstd)
		sum := Add(Add(Mul(scale, grouped(sDu)), Mul(coefY, grouped(st.s1))), MulScalar(coefConst, float64(st.hw)))
		dd = ConvertDType(Transpose(Reshape(sum, st.c, st.b), 0, 1), st.dtype)
	}
	return
}
