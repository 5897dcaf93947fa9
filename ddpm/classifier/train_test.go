package classifier

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

var quickSchedule = schedule.Config{Kind: schedule.Linear, Steps: 200, Beta1: 1e-4, BetaT: 0.1}

// smallSpec is a classifier that trains in well under a minute on 2 cores.
func smallSpec() Spec {
	return Spec{
		Net:      Config{Channels: [3]int{16, 32, 32}, EmbedDim: 32, FourierScale: 1, Groups: 4},
		Schedule: quickSchedule,
		Source:   "test",
		Train:    TrainConfig{Dataset: "mnist", Epochs: 3, BatchSize: 64, LR: 3e-3, Seed: 7, KeepCheckpoints: 2},
	}
}

var (
	smallOnce    sync.Once
	smallTrained *TrainResult
	smallErr     error
)

// trainSmall trains smallSpec once per test binary on 4,800 images (225 steps, about a minute).
func trainSmall(t testing.TB) *TrainResult {
	t.Helper()
	smallOnce.Do(func() {
		data, test := testutil.MNISTTrain(t, 4800), testutil.MNISTTest(t, 1000)
		smallTrained, smallErr = Train(context.Background(), TrainOptions{Spec: smallSpec(), Dir: t.TempDir(),
			Backend: testutil.GoBackend(t), Data: data, Test: test, Log: io.Discard})
	})
	if smallErr != nil {
		t.Fatal(smallErr)
	}
	return smallTrained
}

// TestTrainingAccuracyAboveChance: a short run must classify lightly noised test digits well
// above chance (10%), and fall towards chance at t = T where x_T carries almost no signal.
func TestTrainingAccuracyAboveChance(t *testing.T) {
	res := trainSmall(t)
	acc := res.State.TestAccuracy
	t.Logf("loss by epoch %v; test accuracy:\n%s", res.State.EpochLosses, FormatAccuracy(acc))
	if len(acc) != 4 || acc[0].T != 1 || acc[1].T != 50 || acc[2].T != 100 || acc[3].T != 200 {
		t.Fatalf("accuracy levels %+v, want t = 1, 50, 100, 200", acc)
	}
	if acc[0].Accuracy < 0.4 {
		t.Errorf("accuracy at t=1 is %.3f, want >= 0.4", acc[0].Accuracy)
	}
	if acc[3].Accuracy > 0.3 {
		t.Errorf("accuracy at t=T is %.3f: x_T should carry almost no class information", acc[3].Accuracy)
	}
	// The final checkpoint holds the accuracy, the spec and the weights.
	loaded, err := Load(filepath.Dir(filepath.Dir(res.CheckpointDir)))
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.State.TestAccuracy) != 4 || loaded.State.Step != res.State.Step ||
		loaded.Classifier.Schedule.T != 200 || loaded.State.Spec.Net != smallSpec().Net {
		t.Errorf("loaded state %+v does not match the run", loaded.State)
	}
	test := testutil.MNISTTest(t, 1000)
	again, err := loaded.Predictor(testutil.GoBackend(t)).Accuracy(test, []int{1}, evalSeed)
	if err != nil {
		t.Fatal(err)
	}
	if again[0] != acc[0] {
		t.Errorf("accuracy of the reloaded classifier %+v, want %+v", again[0], acc[0])
	}
}

func TestLoadRejectsDiffusionRunsAndMissingDirs(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, ErrNoClassifier) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: err = %v, want one that wraps ErrNoClassifier", err)
	}
	// A diffusion model's checkpoint (training.State, no classifier format).
	dir := t.TempDir()
	store := model.NewStore()
	if _, err := store.CreateVariable("/model/w", tensors.FromValue(float32(1))); err != nil {
		t.Fatal(err)
	}
	w, err := ckpt.NewWriter(filepath.Join(dir, training.CheckpointsDir), store, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Save(1, training.State{Progress: training.Progress{Step: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a noisy-classifier checkpoint") {
		t.Errorf("diffusion checkpoint: err = %v, want a refusal", err)
	}
}

// TestResumeIsBitIdentical: a run stopped after 4 of 6 steps (mid-epoch) and resumed ends with the same weights,
// losses and accuracy as an uninterrupted one (same seed, same backend); resuming with another
// batch size is refused.
func TestResumeIsBitIdentical(t *testing.T) {
	spec := smallSpec()
	spec.Net = Config{Channels: [3]int{4, 4, 4}, EmbedDim: 8, FourierScale: 1, Groups: 2}
	spec.Train.BatchSize, spec.Train.Epochs = 16, 2
	data, test := testutil.MNISTTrain(t, 48), testutil.MNISTTest(t, 40)
	b := testutil.GoBackend(t)
	run := func(dir string, resume bool, stop int64) *TrainResult {
		t.Helper()
		res, err := Train(context.Background(), TrainOptions{Spec: spec, Dir: dir, Resume: resume, Backend: b,
			Data: data, Test: test, Log: io.Discard, StopAfter: stop})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	whole := run(t.TempDir(), false, 0)
	dir := t.TempDir()
	if part := run(dir, false, 4); part.State.Step != 4 || part.Trained != nil {
		t.Fatalf("stopped session: step %d, trained %v", part.State.Step, part.Trained != nil)
	}
	resumed := run(dir, true, 0)
	if !slices.Equal(whole.State.Losses, resumed.State.Losses) || len(whole.State.Losses) != 6 {
		t.Errorf("losses %v (whole) vs %v (resumed)", whole.State.Losses, resumed.State.Losses)
	}
	if !slices.Equal(whole.State.TestAccuracy, resumed.State.TestAccuracy) {
		t.Errorf("accuracy %v (whole) vs %v (resumed)", whole.State.TestAccuracy, resumed.State.TestAccuracy)
	}
	n := 0
	for v := range whole.Trained.Store.IterVariables() {
		w := resumed.Trained.Store.GetVariable(v.Path())
		if w == nil || !slices.Equal(tensors.MustCopyFlatData[float32](v.MustValue()), tensors.MustCopyFlatData[float32](w.MustValue())) {
			t.Errorf("%s differs after resume", v.Path())
		}
		n++
	}
	if n == 0 {
		t.Fatal("no weights compared")
	}
	spec.Train.BatchSize = 8
	_, err := Train(context.Background(), TrainOptions{Spec: spec, Dir: dir, Resume: true, Backend: b, Data: data, Test: test, Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "cannot resume") {
		t.Errorf("resume with another batch size: err = %v", err)
	}
	_, err = Train(context.Background(), TrainOptions{Spec: spec, Dir: dir, Backend: b, Data: data, Test: test, Log: io.Discard})
	var exists *training.RunExistsError
	if !errors.As(err, &exists) || exists.Dir != dir {
		t.Errorf("a second run into the same directory: err = %v, want a *training.RunExistsError", err)
	}
}
