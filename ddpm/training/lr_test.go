package training

import (
	"errors"
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// TestLearningRateSchedule runs the in-graph learning rate at chosen steps of a 100-step run (10
// steps per epoch) and compares it with values written out by hand from the documented formulas,
// and with recipe.Train.LRFactor (the host-side twin).
func TestLearningRateSchedule(t *testing.T) {
	const spe, total = 10, 100
	cos := func(s float64) float64 { return 0.5 * (1 + math.Cos(math.Pi*s/total)) }
	for _, tc := range []struct {
		name string
		tr   recipe.Train
		want map[int64]float64 // step → learning rate
	}{
		{"constant", recipe.Train{LR: 2e-3, LRDecay: 1, LRFloor: 1},
			map[int64]float64{0: 2e-3, 55: 2e-3, 99: 2e-3}},
		{"per epoch with floor", recipe.Train{LR: 1e-2, LRDecay: 0.5, LRFloor: 0.2},
			map[int64]float64{0: 1e-2, 9: 1e-2, 10: 5e-3, 25: 2.5e-3, 30: 2e-3, 99: 2e-3}},
		{"warm-up then constant", recipe.Train{LR: 4e-3, LRDecay: 1, LRFloor: 1, LRWarmup: 4},
			map[int64]float64{0: 1e-3, 1: 2e-3, 2: 3e-3, 3: 4e-3, 50: 4e-3}},
		{"cosine to zero", recipe.Train{LR: 1e-3, LRFloor: 0, LRSchedule: "cosine"},
			map[int64]float64{0: 1e-3, 25: 1e-3 * cos(25), 50: 5e-4, 99: 1e-3 * cos(99), 100: 0, 150: 0}},
		{"cosine to a floor, with warm-up", recipe.Train{LR: 1e-3, LRFloor: 0.1, LRSchedule: "cosine", LRWarmup: 10},
			map[int64]float64{0: 1e-4 * (0.1 + 0.9*cos(0)), 4: 5e-4 * (0.1 + 0.9*cos(4)), 9: 1e-3 * (0.1 + 0.9*cos(9)),
				50: 1e-3 * 0.55, 100: 1e-4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Session{LR: tc.tr.LR, LRDecay: tc.tr.LRDecay, LRFloor: tc.tr.LRFloor,
				LRCosine: tc.tr.LRSchedule == "cosine", LRWarmup: int64(tc.tr.LRWarmup)}
			for step, want := range tc.want {
				store := model.NewStore()
				optimizer.GetGlobalStepVar(store).MustSetValue(tensors.FromValue(step))
				exec, err := model.NewExec(testutil.GoBackend(t), store, func(scope *model.Scope, g *Graph) *Node {
					c.setLearningRate(scope, g, spe, total)
					return optimizer.LearningRateVar(scope, dtypes.Float32, c.LR).NodeValue(g)
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Call()
				if err != nil {
					t.Fatal(err)
				}
				got := float64(tensors.ToScalar[float32](out[0]))
				if math.Abs(got-want) > 1e-6*want+1e-12 {
					t.Errorf("step %d: learning rate %g, want %g", step, got, want)
				}
				if host := tc.tr.LR * tc.tr.LRFactor(step, spe, total); math.Abs(host-want) > 1e-12 {
					t.Errorf("step %d: recipe.Train.LRFactor gives %g, want %g", step, host, want)
				}
			}
		})
	}
}

// TestResumeCompatibility: a resumed run may change its epochs unless the learning rate follows a
// cosine over the run's steps; the schedule itself may not change.
func TestResumeCompatibility(t *testing.T) {
	base, _ := recipe.Get("quick")
	base.Train.LRSchedule, base.Train.LRWarmup = "", 0 // per epoch
	cosine := base
	cosine.Train.LRSchedule, cosine.Train.LRWarmup = "cosine", 10
	for _, tc := range []struct {
		name      string
		saved     recipe.Recipe
		change    func(r *recipe.Recipe)
		wantField string // "" = compatible
	}{
		{"more epochs, per-epoch schedule", base, func(r *recipe.Recipe) { r.Train.Epochs++ }, ""},
		{"more epochs, cosine", cosine, func(r *recipe.Recipe) { r.Train.Epochs++ }, "epochs (the cosine schedule's length)"},
		{"cosine added", base, func(r *recipe.Recipe) { r.Train.LRSchedule = "cosine" }, "lr_schedule"},
		{"warm-up changed", cosine, func(r *recipe.Recipe) { r.Train.LRWarmup = 20 }, "lr_warmup"},
		{"sampler changed", cosine, func(r *recipe.Recipe) { r.Sample.Steps = 10; r.Sample.Guidance = "none" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.saved
			tc.change(&r)
			err := checkCompatible(tc.saved, r)
			var mismatch *ResumeMismatchError
			switch {
			case tc.wantField == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantField != "" && (!errors.As(err, &mismatch) || mismatch.Field != tc.wantField):
				t.Errorf("error %v, want a ResumeMismatchError on %s", err, tc.wantField)
			}
		})
	}
}
