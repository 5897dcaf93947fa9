package layers

import (
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestBatchNormModes checks PyTorch's BatchNorm2d semantics on a hand-computed example: training
// normalises with the batch mean and biased variance and moves the running averages by momentum
// 0.1 toward the mean and the unbiased variance; inference normalises with the running averages.
func TestBatchNormModes(t *testing.T) {
	backend := testutil.GoBackend(t)
	// x [4, 1, 1, 2]: channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3);
	// channel 1 holds 10 four times (var 0).
	x := tensors.FromFlatDataAndDimensions([]float32{1, 10, 2, 10, 3, 10, 4, 10}, 4, 1, 1, 2)
	store := model.NewStore()
	call := func(training bool) []float32 {
		out, err := model.CallOnce(backend, store, func(scope *model.Scope, x *Node) *Node {
			scope.Store().SetTraining(x.Graph(), training)
			return BatchNorm(scope, x, 3)
		}, x)
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out)
	}
	near := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4 {
				t.Errorf("%s = %v, want %v", what, got, want)
				return
			}
		}
	}
	s := float32(1 / math.Sqrt(1.25+BatchNormEpsilon))
	near("training output", call(true), []float32{-1.5 * s, 0, -0.5 * s, 0, 0.5 * s, 0, 1.5 * s, 0})
	values := func(name string) []float32 {
		return tensors.MustCopyFlatData[float32](store.GetVariable("/" + name).MustValue())
	}
	near("running_mean", values("running_mean"), []float32{0.25, 1})
	near("running_var", values("running_var"), []float32{0.9 + 0.1*5.0/3, 0.9})
	// Inference: (x − running_mean)/√(running_var + ε).
	m, v := values("running_mean"), values("running_var")
	inv0, inv1 := float32(1/math.Sqrt(float64(v[0])+BatchNormEpsilon)), float32(1/math.Sqrt(float64(v[1])+BatchNormEpsilon))
	near("inference output", call(false), []float32{(1 - m[0]) * inv0, (10 - m[1]) * inv1, (2 - m[0]) * inv0,
		(10 - m[1]) * inv1, (3 - m[0]) * inv0, (10 - m[1]) * inv1, (4 - m[0]) * inv0, (10 - m[1]) * inv1})
	near("running_mean after inference", values("running_mean"), []float32{0.25, 1})
}
