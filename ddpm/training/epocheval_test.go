package training

import (
	"context"
	"io"
	"math"
	"reflect"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestEpochEvalsAreRecordedAndResumed: the end-of-epoch evaluation runs once per epoch on the
// epoch's weights, is stored with the history, and a run stopped mid-way and resumed records the
// same evaluations as an uninterrupted one.
func TestEpochEvalsAreRecordedAndResumed(t *testing.T) {
	r := tinyRecipe()
	r.Train.Epochs = 3
	data := testutil.MNISTTrain(t, 32*3) // 3 steps per epoch
	b := testutil.GoBackend(t)
	var calls []int
	eval := func(_ context.Context, epoch int, m *diffusion.Model, store *model.Store) (EpochEval, error) {
		calls = append(calls, epoch)
		var sum float64
		for _, x := range tensors.MustCopyFlatData[float32](store.GetVariable(ModelScope + "/tconv1/biases").MustValue()) {
			sum += float64(x)
		}
		return EpochEval{N: 1, Sampler: "none", Metrics: map[string]float64{"bias_sum": sum}, Tool: "sum of the last bias"}, nil
	}
	straight, err := Run(context.Background(), Options{Recipe: r, Dir: t.TempDir(), Backend: b, Data: data, Log: io.Discard, EpochEval: eval})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(calls, []int{1, 2, 3}) || len(straight.State.EpochEvals) != 3 {
		t.Fatalf("evaluations at epochs %v, recorded %d; want 1, 2, 3", calls, len(straight.State.EpochEvals))
	}
	for i, e := range straight.State.EpochEvals {
		if e.Epoch != i+1 || e.Step != int64(3*(i+1)) || math.IsNaN(e.Metrics["bias_sum"]) || e.Tool == "" {
			t.Errorf("evaluation %d: %+v", i, e)
		}
		if i > 0 && e.Metrics["bias_sum"] == straight.State.EpochEvals[i-1].Metrics["bias_sum"] {
			t.Errorf("evaluations %d and %d saw the same weights (bias sum %g): not each epoch's", i, i+1, e.Metrics["bias_sum"])
		}
	}
	dir := t.TempDir()
	calls = nil
	for _, stop := range []int64{4, 0} {
		if _, err := Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: b, Data: data, Log: io.Discard,
			Resume: true, StopAfter: stop, EpochEval: eval}); err != nil {
			t.Fatal(err)
		}
	}
	resumed, err := Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: b, Data: data, Log: io.Discard, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(straight.State.EpochEvals, resumed.State.EpochEvals) {
		t.Errorf("evaluations differ after resuming:\n%+v\n%+v", straight.State.EpochEvals, resumed.State.EpochEvals)
	}
}
