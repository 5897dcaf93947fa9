package training

import (
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
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

// TestEMAUpdate runs the in-graph update on known values: ema' = d·ema + (1−d)·w, with the decay
// of the documented warm-up written out by hand (not computed by EMADecayAt, the code under test's
// twin): d = 0 at step 1 (the average starts at the weights), 4/14 at step 5, 0.99 at step 5000.
func TestEMAUpdate(t *testing.T) {
	for n, d := range map[int64]float64{1: 0, 5: 4.0 / 14, 5000: 0.99} {
		store := model.NewStore()
		w := store.VariableWithValue(ModelScope+"/w", []float32{1, -2, 4})
		ema := store.VariableWithValue(EMAScope+ModelScope+"/w", []float32{0.5, 0.5, 0.5})
		ema.SetTrainable(false)
		optimizer.GetGlobalStepVar(store).MustSetValue(tensors.FromValue(n))
		exec, err := model.NewExec(testutil.GoBackend(t), store, func(scope *model.Scope, g *Graph) {
			_ = w.NodeValue(g) // in use by the graph, as after an optimizer step
			addEMAUpdate(g, store, 0.99)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.Call(); err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](ema.MustValue())
		for i, wi := range []float64{1, -2, 4} {
			want := d*0.5 + (1-d)*wi
			if math.Abs(float64(got[i])-want) > 1e-6 {
				t.Errorf("n=%d: ema[%d] = %g, want %g (d = %g)", n, i, got[i], want, d)
			}
		}
	}
}
