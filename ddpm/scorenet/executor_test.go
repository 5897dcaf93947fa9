package scorenet

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// trainSteps runs steps Adam steps of the default ScoreNet (batch 32: two sub-batches, see
// layers.BatchChunks; seeded weights and batches) on a new Go backend with the given
// configuration and returns the trained store.
func trainSteps(t *testing.T, backendConfig string, steps int) *model.Store {
	t.Helper()
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(7))
	cfg := Default()
	trainer := train.NewTrainer(testutil.NewGoBackend(t, backendConfig), store,
		func(scope *model.Scope, x, tt *Node) *Node { return cfg.Apply(scope, x, tt, nil, layers.Auto) },
		loss.MeanSquaredError, optimizer.Adam().LearningRate(1e-3).Done(), nil, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	for range steps {
		x, tt, y := benchBatch(rng, 32)
		if _, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x, tt}, Labels: []*tensors.Tensor{y}}); err != nil {
			t.Fatalf("%s: %v", backendConfig, err)
		}
	}
	return store
}

// The project runs the Go backend with parallel op execution (testutil.GoBackendConfig, i.e.
// backend.GoOptions). Running independent ops concurrently must not change a single bit: the same
// training steps give the same weights and Adam moments as sequential execution.
func TestParallelExecutionIsBitIdentical(t *testing.T) {
	if !strings.Contains(testutil.GoBackendConfig, "ops_parallel") {
		t.Fatalf("the project's Go backend configuration %q does not run ops in parallel: this test compares "+
			"parallel against sequential execution", testutil.GoBackendConfig)
	}
	want := trainSteps(t, "ops_sequential", 3)
	got := trainSteps(t, testutil.GoBackendConfig, 3)
	same := testutil.SameVariables(t, want, got, "/metrics")
	t.Logf("%d variables bit-identical", len(same))
	if len(same) < 100 { // the network's parameter tensors and Adam's two moments of each (122 in all)
		t.Fatalf("only %d variables compared equal: %v", len(same), same)
	}
}
