package training

import (
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

func TestEMADecayWarmup(t *testing.T) {
	for _, tc := range []struct {
		decay float64
		n     int64
		want  float64
	}{
		{0.999, 1, 0}, {0.999, 2, 1.0 / 11}, {0.999, 91, 0.9}, {0.999, 991, 0.99}, {0.999, 1_000_000, 0.999}, {0.5, 100, 0.5},
	} {
		if got := EMADecayAt(tc.decay, tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("EMADecayAt(%g, %d) = %g, want %g", tc.decay, tc.n, got, tc.want)
		}
	}
}

// TestEMAUpdate trains a small linear model with GoMLX's trainer and Adam, with the EMA update
// registered as Run registers it, and records the raw weights after every step. After each step n
// the EMA must equal the float64 recursion ema_0 = 0, ema_n = d_n·ema_{n−1} + (1−d_n)·w_n with the
// documented warm-up decay d_n = min(decay, (n−1)/(n+9)), computed here from the recorded weights
// w_n (the weights after step n's optimizer update). 60 steps with decay 0.8 cover the warm-up
// (d_n < 0.8 up to n = 40) and the constant decay after it.
func TestEMAUpdate(t *testing.T) {
	const decay, steps = 0.8, 60
	store := model.NewStore()
	target := []float32{1, -2, 4, 0.5}
	trainer := train.NewTrainer(testutil.GoBackend(t), store, func(scope *model.Scope, x *Node) {
		w := scope.In(ModelScopeName).VariableWithValue("w", []float32{0, 0, 0, 0})
		train.AddMainLoss(ReduceAllMean(Square(Sub(w.NodeValue(x.Graph()), x))))
		train.AddPerStepUpdateGraphFn(scope, x.Graph(), func(scope *model.Scope, g *Graph) {
			addEMAUpdate(g, scope.Store(), decay)
		})
	}, nil, optimizer.Adam().LearningRate(0.05).Done(), nil, nil)
	want := make([]float64, len(target)) // ema_0 = 0
	var moved float64
	for n := 1; n <= steps; n++ {
		x := make([]float32, len(target)) // a moving target: the weights keep changing
		for i, v := range target {
			x[i] = v * float32(1+0.5*math.Sin(0.3*float64(n+i)))
		}
		if _, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, len(x))}}); err != nil {
			t.Fatal(err)
		}
		w := tensors.MustCopyFlatData[float32](store.GetVariable(ModelScope + "/w").MustValue())
		ema := store.GetVariable(EMAScope + ModelScope + "/w")
		if ema == nil {
			t.Fatalf("step %d: no EMA variable at %s", n, EMAScope+ModelScope+"/w")
		}
		got := tensors.MustCopyFlatData[float32](ema.MustValue())
		d := min(decay, float64(n-1)/float64(n+9))
		for i := range want {
			want[i] = d*want[i] + (1-d)*float64(w[i])
			moved = max(moved, math.Abs(float64(w[i])-want[i]))
			if math.Abs(float64(got[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
				t.Fatalf("step %d: ema[%d] = %.7g, want %.7g (d = %g, raw weight %g)", n, i, got[i], want[i], d, w[i])
			}
		}
	}
	t.Logf("after %d steps: raw weights and EMA up to %.3g apart", steps, moved)
	if moved < 0.1 { // the average must differ from the raw weights, or the test proves little
		t.Fatalf("the EMA never differed from the raw weights by more than %g", moved)
	}
}
