package training

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/gomlx/ml/model"
)

// tinyRecipe is a small network that trains in seconds on 2 cores.
func tinyRecipe() recipe.Recipe {
	r, _ := recipe.Get("quick")
	r.Name = "tiny"
	r.Net.ScoreNet.Channels = [4]int{32, 32, 32, 32}
	r.Net.ScoreNet.EmbedDim = 32
	r.Train.BatchSize = 32
	r.Train.Epochs = 2
	r.Train.LR = 3e-3
	r.Train.EMADecay = 0.9
	r.Train.CheckpointEvery = 4
	r.Train.KeepCheckpoints = 2
	return r
}

func TestTinyTrainingLossFalls(t *testing.T) {
	r := tinyRecipe()
	r.Train.Epochs = 1
	data := testutil.MNISTTrain(t, 32*80)
	res, err := Run(context.Background(), Options{Recipe: r, Dir: t.TempDir(), Backend: testutil.GoBackend(t), Data: data, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	l := res.State.Losses
	if len(l) != 80 || res.State.Step != 80 {
		t.Fatalf("got %d losses at step %d, want 80", len(l), res.State.Step)
	}
	mean := func(xs []float32) float64 {
		var s float64
		for _, x := range xs {
			s += float64(x)
		}
		return s / float64(len(xs))
	}
	first, last := mean(l[:10]), mean(l[len(l)-10:])
	t.Logf("loss: first 10 steps %.4f, last 10 steps %.4f", first, last)
	if !(last < 0.6*first) {
		t.Errorf("loss did not fall: first 10 steps %.4f, last 10 %.4f (want last < 0.6×first)", first, last)
	}
	if len(res.State.EpochLosses) != 1 || math.Abs(res.State.EpochLosses[0]-mean(l)) > 1e-6 {
		t.Errorf("epoch losses %v, want [%g]", res.State.EpochLosses, mean(l))
	}
	var saved State
	if err := ckpt.ReadState(res.CheckpointDir, &saved); err != nil || saved.Parameters != res.State.Parameters || saved.Parameters < 10000 {
		t.Errorf("checkpointed parameter count %d (err %v), want the network's %d", saved.Parameters, err, res.State.Parameters)
	}
	if !HasEMA(res.Store) {
		t.Errorf("no EMA weights in the store")
	}
}

// TestResumeIsBitIdentical trains 2 epochs straight, and again in three sessions stopped at
// arbitrary steps (mid-epoch), and compares every variable and the loss history bit for bit.
func TestResumeIsBitIdentical(t *testing.T) {
	r := tinyRecipe()
	data := testutil.MNISTTrain(t, 32*7) // 7 steps per epoch, 14 in all
	b := testutil.GoBackend(t)
	straight, err := Run(context.Background(), Options{Recipe: r, Dir: t.TempDir(), Backend: b, Data: data, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var resumed *Result
	for _, stop := range []int64{3, 9, 0} {
		resumed, err = Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: b, Data: data, Log: io.Discard,
			Resume: true, StopAfter: stop})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(straight.State.Losses, resumed.State.Losses) {
		t.Fatalf("loss histories differ:\nstraight %v\nresumed  %v", straight.State.Losses, resumed.State.Losses)
	}
	compareStores(t, straight.Store, resumed.Store)
}

// compareStores checks that the resumed store b holds every saved variable of a bit-identically,
// EMA weights and Adam state included.
func compareStores(t *testing.T, a, b *model.Store) {
	t.Helper()
	n := 0
	for _, path := range testutil.SameVariables(t, a, b, ckpt.MetricsScope) { // metrics: display-only, not saved
		if strings.HasPrefix(path, EMAScope) || strings.HasPrefix(path, "/AdamOptimizer/") {
			n++
		}
	}
	if n == 0 {
		t.Errorf("no EMA or Adam variables compared")
	}
}

func TestRefusesToOverwriteAndChecksCompatibility(t *testing.T) {
	r := tinyRecipe()
	data := testutil.MNISTTrain(t, 32*3)
	b := testutil.GoBackend(t)
	dir := t.TempDir()
	if _, err := Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: b, Data: data, Log: io.Discard, StopAfter: 2}); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: b, Data: data, Log: io.Discard})
	var exists *RunExistsError
	if !errors.As(err, &exists) || exists.Dir != dir || exists.Step != 2 {
		t.Errorf("a second run into the same directory: err = %v, want a *RunExistsError for %s at step 2", err, dir)
	}
	r2 := r
	r2.Train.BatchSize = 16
	_, err = Run(context.Background(), Options{Recipe: r2, Dir: dir, Backend: b, Data: data, Log: io.Discard, Resume: true})
	if err == nil || !strings.Contains(err.Error(), "batch_size = 32") {
		t.Errorf("resume with another batch size: err = %v, want an error naming batch_size", err)
	}
}

// TestNaNStopsTraining puts a NaN pixel in one training image: training must stop at the step
// that first uses it, name that step and the last good checkpoint, and write nothing after it.
func TestNaNStopsTraining(t *testing.T) {
	r := tinyRecipe()
	r.Train.CheckpointEvery = 1
	data := testutil.MNISTTrain(t, 32*4)
	const poisoned = 77
	data.Image(poisoned)[300] = float32(math.NaN())
	// The step that uses example 77: its position in epoch 0's permutation.
	wantStep := int64(slices.Index(Permutation(data.N, r.Train.Seed, 0), poisoned)/r.Train.BatchSize) + 1
	dir := t.TempDir()
	_, err := Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: testutil.GoBackend(t), Data: data, Log: io.Discard})
	var nanErr *NaNError
	if !errors.As(err, &nanErr) {
		t.Fatalf("err = %v, want a NaNError", err)
	}
	if nanErr.Step != wantStep {
		t.Errorf("NaN reported at step %d, want %d (the batch holding example %d)", nanErr.Step, wantStep, poisoned)
	}
	found, ferr := ckpt.Latest(filepath.Join(dir, CheckpointsDir))
	if wantStep == 1 {
		if found != nil || nanErr.LastCheckpoint != "" {
			t.Fatalf("NaN at step 1: checkpoint %+v / %q written, want none", found, nanErr.LastCheckpoint)
		}
		return
	}
	if ferr != nil || found == nil || found.Step != wantStep-1 || found.Dir != nanErr.LastCheckpoint {
		t.Fatalf("latest checkpoint %+v (%v), want step %d named in the error %q", found, ferr, wantStep-1, err)
	}
	if !strings.Contains(err.Error(), found.Dir) {
		t.Errorf("error %q does not name the last checkpoint %s", err, found.Dir)
	}
	var st State
	if err := ckpt.ReadState(found.Dir, &st); err != nil {
		t.Fatal(err)
	}
	if int64(len(st.Losses)) != wantStep-1 {
		t.Errorf("checkpoint holds %d losses, want %d", len(st.Losses), wantStep-1)
	}
}
