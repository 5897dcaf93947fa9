package layers

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
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
// How the training op is computed, for the Go backend's sake (see GroupNormSwishCF for the costs
// of its ops): with y seen as the matrix [C, N], N = B·H·W,
//
//   - statistics: Σy and Σy² per channel as dot products (against a row of ones, and a batched
//     y·y), then mean and biased variance in float64 (E[y²] − E[y]²);
//   - z = A·y + S per channel (A = gamma/σ, S = beta − A·mean) as one matrix product
//     [diag(A) | S]·[y; 1], which runs on all cores, instead of broadcasting ops on one;
//   - GELU(z) = z·Φ(z) with GoMLX's fused GELU (also on all cores).
//
// The gradient reuses z and GELU(z): dGELU/dz = Φ(z) + z·φ(z) with Φ(z) = GELU(z)/z (½ where
// z = 0) and φ(z) = exp(−z²/2)/√(2π), whose scaled arguments −z/2 and z/√(2π) are more rows of
// the same matrix product; then the BatchNorm backward dy = A·dz + E·y + F (per-channel E, F from
// Σdz and Σdz·y, dot products again) is one more product [diag(A) | diag(E) | F]·[dz; y; 1].
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
		dy, dGamma, dBeta := st.backward(Reshape(v, c, n))
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

	y, yOnes       *Node // [C, N] and [C+1, N]: y, and y with a row of ones
	z, gelu        *Node // [C, N]
	mean, variance *Node // float64 [C], biased variance
	rstd, scale    *Node // float64 [C]: 1/σ and A = gamma/σ
	offset         *Node // float64 [C]: S = beta − A·mean
}

// rowSums returns Σ over the last axis of x [C, N] as float64 [C].
func (st *bnGelu) rowSums(x *Node) *Node {
	ones := Ones(x.Graph(), shapes.Make(st.dtype, st.n))
	return ConvertDType(Dot(x, ones).General([]int{1}, nil, []int{0}, nil), dtypes.Float64)
}

// rowDots returns Σ over the last axis of x·y (both [C, N]) as float64 [C].
func (st *bnGelu) rowDots(x, y *Node) *Node {
	x3, y3 := Reshape(x, st.c, 1, st.n), Reshape(y, st.c, 1, st.n)
	s := Dot(x3, y3).General([]int{2}, []int{0}, []int{2}, []int{0}) // [C, 1, 1]
	return ConvertDType(Reshape(s, st.c), dtypes.Float64)
}

// diag returns the float64 vector v [C] as the diagonal matrix [C, C] of st.dtype.
func (st *bnGelu) diag(v *Node) *Node {
	row := BroadcastToDims(InsertAxes(v, 0), st.c, st.c)
	return ConvertDType(Where(Diagonal(v.Graph(), st.c), row, ZerosLike(row)), st.dtype)
}

// column returns the float64 vector v [C] as the column [C, 1] of st.dtype.
func (st *bnGelu) column(v *Node) *Node { return ConvertDType(InsertAxes(v, -1), st.dtype) }

func (st *bnGelu) forward(y, gamma, beta *Node) *Node {
	g := y.Graph()
	n := float64(st.n)
	ym := Reshape(y, st.c, st.n)
	st.mean = DivScalar(st.rowSums(ym), n)
	st.variance = Max(Sub(DivScalar(st.rowDots(ym, ym), n), Square(st.mean)), ZerosLike(st.mean))
	st.rstd = Div(OnesLike(st.variance), Sqrt(AddScalar(st.variance, BatchNormEpsilon)))
	st.scale = Mul(ConvertDType(gamma, dtypes.Float64), st.rstd)
	st.offset = Sub(ConvertDType(beta, dtypes.Float64), Mul(st.scale, st.mean))
	st.y = ym
	st.yOnes = Concatenate([]*Node{ym, Ones(g, shapes.Make(st.dtype, 1, st.n))}, 0)
	st.z = st.affine(1)
	st.gelu = activation.Gelu(st.z)
	return st.gelu
}

// affine returns k·(A·y + S) [C, N] for the per-channel A = st.scale and S = st.offset, as the
// product [diag(k·A) | k·S]·[y; 1].
func (st *bnGelu) affine(k float64) *Node {
	coef := Concatenate([]*Node{st.diag(MulScalar(st.scale, k)), st.column(MulScalar(st.offset, k))}, 1)
	return Dot(coef, st.yOnes).General([]int{1}, nil, []int{0}, nil)
}

// backward returns the gradients of y ([C, N]), gamma and beta from v = dL/d(output) [C, N].
func (st *bnGelu) backward(v *Node) (dy, dGamma, dBeta *Node) {
	g := v.Graph()
	n := float64(st.n)
	// dGELU/dz = Φ(z) + z·φ(z): Φ = GELU(z)/z (½ at z = 0), z·φ(z) = (z/√(2π))·exp((−z/2)·z).
	half := Scalar(g, st.dtype, 0.5)
	zero := ZerosLike(st.z)
	phi := Where(Equal(st.z, zero), BroadcastToShape(half, st.z.Shape()), Div(st.gelu, st.z))
	e := Exp(Mul(st.affine(-0.5), st.z))
	dz := Mul(v, Add(phi, Mul(st.affine(1/math.Sqrt(2*math.Pi)), e)))
	// BatchNorm backward with ẑ = (y − mean)·rstd: Σdz·ẑ = rstd·(Σdz·y − mean·Σdz).
	sDz := st.rowSums(dz)
	sDzZhat := Mul(st.rstd, Sub(st.rowDots(dz, st.y), Mul(st.mean, sDz)))
	dGamma = ConvertDType(sDzZhat, st.dtype)
	dBeta = ConvertDType(sDz, st.dtype)
	// dy = A·(dz − Σdz/n − ẑ·Σ(dz·ẑ)/n) = A·dz + E·y + F.
	coefY := Neg(DivScalar(Mul(Mul(st.scale, st.rstd), sDzZhat), n))                         // E
	coefConst := Sub(Neg(DivScalar(Mul(st.scale, sDz), n)), Mul(coefY, st.mean))             // F
	coef := Concatenate([]*Node{st.diag(st.scale), st.diag(coefY), st.column(coefConst)}, 1) // [C, 2C+1]
	dy = Dot(coef, Concatenate([]*Node{dz, st.yOnes}, 0)).General([]int{1}, nil, []int{0}, nil)
	return dy, dGamma, dBeta
}
