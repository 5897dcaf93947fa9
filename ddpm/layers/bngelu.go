package layers

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// BatchNormGeluCF computes GELU(BatchNorm(y + bias)) on channels-first activations y [C, B,
// spatial...] with bias [C] (or nil): the U-Net's "convolution bias, BN, GELU" tail, with the
// variables and semantics of BatchNorm (channel axis 0) followed by the exact GELU. In training
// mode it is one op with a hand-written gradient; in inference mode (running averages) it is the
// bias, BatchNorm then GELU, unchanged.
//
// In training the bias is cancelled by the batch mean: it only moves the running mean, and its
// gradient is exactly zero (autodiff through y + bias gives round-off), so y + bias is never
// computed.
//
// How the training op is computed (see GroupNormSwishCF for the costs of the Go backend's ops),
// with y seen as [C, 1, N], N = B·H·W:
//
//   - statistics: Σy and Σy² per channel (ReduceSum of y and of y·y), then mean and biased
//     variance in float64 (E[y²] − E[y]²);
//   - z = A·y + S per channel (A = gamma/σ, S = beta − A·mean), broadcasting A and S;
//   - GELU(z) = z·Φ(z) with GoMLX's fused GELU (on all cores).
//
// The gradient reuses z and GELU(z): dGELU/dz = Φ(z) + z·φ(z) with Φ(z) = GELU(z)/z (½ where
// z = 0, instead of recomputing Erf) and φ(z) = exp(−z²/2)/√(2π); then the BatchNorm backward
// dy = A·dz + E·y + F with per-channel E, F from the row sums Σdz and Σdz·y.
func BatchNormGeluCF(scope *model.Scope, y, bias *Node) *Node {
	if y.Rank() < 2 || (bias != nil && (bias.Rank() != 1 || bias.Shape().Dim(0) != y.Shape().Dim(0))) {
		exceptions.Panicf("BatchNormGeluCF: want y [C, B, spatial...] and bias [C] or nil, got %s and %v", y.Shape(), bias)
	}
	g := y.Graph()
	dims := y.Shape().Dimensions
	c := dims[0]
	if !scope.IsTraining(g) {
		if bias != nil {
			perChannel := make([]int, len(dims)) // [C, 1, 1, ...]
			for i := range perChannel {
				perChannel[i] = 1
			}
			perChannel[0] = c
			y = Add(y, Reshape(bias, perChannel...))
		}
		return activation.Gelu(BatchNorm(scope, y, 0))
	}
	n := y.Shape().Size() / c
	if n < 2 {
		exceptions.Panicf("BatchNormGeluCF: training needs more than one value per channel, got y %s", y.Shape())
	}
	gamma, beta := GroupNormParams(scope, g, c)
	runMean, runVar := batchNormRunning(scope, c)

	st := &bnGelu{c: c, n: n, dtype: y.DType()}
	out := CustomGradient([]*Node{y, gamma, beta}, func(in []*Node) *Node {
		return Reshape(st.forward(in[0], in[1], in[2]), dims...)
	}, func(v *Node) []*Node {
		dy, dGamma, dBeta := st.backward(Reshape(v, c, 1, n))
		return []*Node{Reshape(dy, dims...), dGamma, dBeta}
	})
	// Running averages, as BatchNorm: running ← (1−m)·running + m·batch, the variance unbiased.
	m := BatchNormMomentum
	mean := ConvertDType(StopGradient(st.mean), st.dtype)
	if bias != nil {
		mean = Add(mean, StopGradient(bias))
	}
	variance := ConvertDType(StopGradient(st.variance), st.dtype)
	runMean.SetNodeValue(Add(MulScalar(runMean.NodeValue(g), 1-m), MulScalar(mean, m)))
	unbiased := MulScalar(variance, float64(n)/float64(n-1))
	runVar.SetNodeValue(Add(MulScalar(runVar.NodeValue(g), 1-m), MulScalar(unbiased, m)))
	return out
}

// bnGelu holds the forward pass's nodes that the backward pass reuses.
type bnGelu struct {
	c, n  int
	dtype dtypes.DType

	y3             *Node // [C, 1, N]
	z, gelu        *Node // [C, 1, N]
	mean, variance *Node // float64 [C], biased variance
	rstd, scale    *Node // float64 [C]: 1/σ and A = gamma/σ
}

// rowSums returns Σ over the last axis of x [C, 1, N] as float64 [C].
func (st *bnGelu) rowSums(x *Node) *Node {
	return ConvertDType(Reshape(ReduceSum(x, 2), st.c), dtypes.Float64)
}

// rowDots returns Σ over the last axis of x·y (both [C, 1, N]) as float64 [C].
func (st *bnGelu) rowDots(x, y *Node) *Node {
	return ConvertDType(Reshape(ReduceSum(Mul(x, y), 2), st.c), dtypes.Float64)
}

// perChannel turns a float64 [C] coefficient into [C, 1, 1] of st.dtype.
func (st *bnGelu) perChannel(v *Node) *Node { return ConvertDType(Reshape(v, st.c, 1, 1), st.dtype) }

func (st *bnGelu) forward(y, gamma, beta *Node) *Node {
	n := float64(st.n)
	st.y3 = Reshape(y, st.c, 1, st.n)
	st.mean = DivScalar(st.rowSums(st.y3), n)
	st.variance = Max(Sub(DivScalar(st.rowDots(st.y3, st.y3), n), Square(st.mean)), ZerosLike(st.mean))
	st.rstd = Div(OnesLike(st.variance), Sqrt(AddScalar(st.variance, BatchNormEpsilon)))
	st.scale = Mul(ConvertDType(gamma, dtypes.Float64), st.rstd)
	offset := Sub(ConvertDType(beta, dtypes.Float64), Mul(st.scale, st.mean))
	st.z = Add(Mul(st.y3, st.perChannel(st.scale)), st.perChannel(offset))
	st.gelu = activation.Gelu(st.z)
	return st.gelu
}

// backward returns the gradients of y ([C, 1, N]), gamma and beta from v = dL/d(output) [C, 1, N].
func (st *bnGelu) backward(v *Node) (dy, dGamma, dBeta *Node) {
	g := v.Graph()
	n := float64(st.n)
	// dGELU/dz = Φ(z) + z·φ(z): Φ = GELU(z)/z (½ at z = 0), z·φ(z) = z·exp(−z²/2)/√(2π).
	half := BroadcastToShape(Scalar(g, st.dtype, 0.5), st.z.Shape())
	phi := Where(Equal(st.z, ZerosLike(st.z)), half, Div(st.gelu, st.z))
	zPhi := MulScalar(Mul(st.z, Exp(Mul(MulScalar(st.z, -0.5), st.z))), 1/math.Sqrt(2*math.Pi))
	dz := Mul(v, Add(phi, zPhi))
	// BatchNorm backward with ẑ = (y − mean)·rstd: Σdz·ẑ = rstd·(Σdz·y − mean·Σdz).
	sDz := st.rowSums(dz)
	sDzZhat := Mul(st.rstd, Sub(st.rowDots(dz, st.y3), Mul(st.mean, sDz)))
	dGamma = ConvertDType(sDzZhat, st.dtype)
	dBeta = ConvertDType(sDz, st.dtype)
	// dy = A·(dz − Σdz/n − ẑ·Σ(dz·ẑ)/n) = A·dz + E·y + F.
	coefY := Neg(DivScalar(Mul(Mul(st.scale, st.rstd), sDzZhat), n))             // E
	coefConst := Sub(Neg(DivScalar(Mul(st.scale, sDz), n)), Mul(coefY, st.mean)) // F
	dy = Add(Add(Mul(dz, st.perChannel(st.scale)), Mul(st.y3, st.perChannel(coefY))), st.perChannel(coefConst))
	return dy, dGamma, dBeta
}
