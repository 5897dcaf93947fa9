package classifier

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
)

// Format marks a noisy-classifier checkpoint (State.Format), so that a diffusion model's run
// directory is not mistaken for one.
const Format = "ddpm-noisy-classifier"

// TrainConfig holds the optimisation settings of a classifier run.
type TrainConfig struct {
	// Dataset is "mnist" or "fashion-mnist" (take the diffusion model's).
	Dataset string `json:"dataset"`
	// TrainExamples > 0 trains on the first TrainExamples images only; 0 = all 60,000.
	TrainExamples int     `json:"train_examples"`
	Epochs        int     `json:"epochs"`
	BatchSize     int     `json:"batch_size"`
	LR            float64 `json:"lr"` // Adam's learning rate (constant)
	// Seed determines the initial weights, the data order (training.Permutation) and every t and
	// ε (rng.GraphState of each step).
	Seed int64 `json:"seed"`
	// CheckpointEvery saves every N steps (0: at the end of each epoch only).
	CheckpointEvery int `json:"checkpoint_every"`
	KeepCheckpoints int `json:"keep_checkpoints"`
}

// DefaultTrain is the default optimisation of `ddpm train-classifier`.
func DefaultTrain() TrainConfig {
	return TrainConfig{Dataset: "mnist", Epochs: 3, BatchSize: 128, LR: 2e-3, Seed: 1, KeepCheckpoints: 2}
}

// Spec is everything that defines a classifier run; it is stored in every checkpoint.
type Spec struct {
	Net Config `json:"net"`
	// Schedule is the noise schedule of the diffusion model(s) the classifier will guide.
	Schedule schedule.Config `json:"schedule"`
	// Source says where Schedule came from, e.g. "recipe quick" or "model runs/quick/checkpoints/step-00000282".
	Source string      `json:"source"`
	Train  TrainConfig `json:"train"`
}

// SpecFromRecipe is the default classifier for a diffusion recipe: its schedule and dataset.
func SpecFromRecipe(r recipe.Recipe, source string) Spec {
	t := DefaultTrain()
	t.Dataset = r.Train.Dataset
	return Spec{Net: Default(), Schedule: r.Schedule, Source: source, Train: t}
}

// Validate reports the first invalid setting.
func (s Spec) Validate() error {
	if err := s.Net.Validate(); err != nil {
		return err
	}
	if _, err := schedule.New(s.Schedule); err != nil {
		return fmt.Errorf("classifier: %w", err)
	}
	t := s.Train
	switch {
	case t.Dataset != "mnist" && t.Dataset != "fashion-mnist":
		return fmt.Errorf("classifier: dataset %q: want mnist or fashion-mnist", t.Dataset)
	case t.TrainExamples < 0:
		return fmt.Errorf("classifier: train examples %d: must be >= 0 (0 = all)", t.TrainExamples)
	case t.Epochs < 1:
		return fmt.Errorf("classifier: epochs %d: must be >= 1", t.Epochs)
	case t.BatchSize < 1:
		return fmt.Errorf("classifier: batch size %d: must be >= 1", t.BatchSize)
	case !(t.LR > 0) || t.LR > 10:
		return fmt.Errorf("classifier: learning rate %g: must be in (0, 10]", t.LR)
	case t.CheckpointEvery < 0:
		return fmt.Errorf("classifier: checkpoint every %d: must be >= 0", t.CheckpointEvery)
	case t.KeepCheckpoints < 1:
		return fmt.Errorf("classifier: keep checkpoints %d: must be >= 1", t.KeepCheckpoints)
	}
	return nil
}

// LevelAccuracy is the test accuracy of the classifier on x_t at one diffusion step.
type LevelAccuracy struct {
	T        int     `json:"t"`
	Accuracy float64 `json:"accuracy"`
	N        int     `json:"n"`
}

// State is the training state kept in every checkpoint (state.json).
type State struct {
	Format string `json:"format"`
	Spec   Spec   `json:"spec"`
	training.Progress
	// TestAccuracy is measured on the test split when training completes (see EvalSteps).
	TestAccuracy []LevelAccuracy `json:"test_accuracy,omitempty"`
}

// EvalSteps are the diffusion steps of the accuracy report: 1, T/4, T/2 and T.
func EvalSteps(T int) []int {
	var steps []int
	for _, t := range []int{1, T / 4, T / 2, T} {
		if t >= 1 && (len(steps) == 0 || t > steps[len(steps)-1]) {
			steps = append(steps, t)
		}
	}
	return steps
}

// evalSeed is the seed of the evaluation noise (fixed, so accuracies of different runs compare).
const evalSeed = 20211

// TrainOptions configures Train.
type TrainOptions struct {
	Spec Spec
	// Dir is the run directory: classifier.json and checkpoints/ are written there.
	Dir string
	// Resume continues from the newest intact checkpoint in Dir; without it a Dir holding
	// checkpoints is an error.
	Resume bool
	// Backend to train on; nil opens the default (see package backend).
	Backend compute.Backend
	// Data is the training set; nil loads Spec.Train.Dataset (the first TrainExamples images).
	Data *mnist.Set
	// Test is the set of the accuracy report; nil loads the dataset's test split.
	Test    *mnist.Set
	DataDir string
	// Log receives messages and the progress bar (os.Stdout if nil).
	Log io.Writer
	// StopAfter > 0 ends the session after that global step (with a checkpoint).
	StopAfter int64
	// Conv overrides the convolution formulation (default layers.Auto).
	Conv layers.Formulation
}

// TrainResult is what Train leaves behind.
type TrainResult struct {
	State         State
	CheckpointDir string
	// Trained holds the classifier for inference (nil if the session stopped before the end).
	Trained *Trained
}

// Train trains (or resumes) a noisy classifier; when the last epoch completes it measures the
// test accuracy at EvalSteps and stores it in the final checkpoint's state.
func Train(ctx context.Context, o TrainOptions) (*TrainResult, error) {
	spec := o.Spec
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = os.Stdout
	}
	sched := schedule.MustNew(spec.Schedule)
	clf := &Classifier{Net: spec.Net, Schedule: sched, Conv: o.Conv}
	data := o.Data
	var err error
	if data == nil {
		if data, err = training.LoadTrainingSet(ctx, recipe.Train{Dataset: spec.Train.Dataset,
			TrainExamples: spec.Train.TrainExamples}, o.DataDir, log); err != nil {
			return nil, err
		}
	}
	b := o.Backend
	if b == nil {
		var info backend.Info
		if b, info, err = backend.Open(""); err != nil {
			return nil, err
		}
		fmt.Fprintln(log, info)
	}
	t := spec.Train
	state := &State{Format: Format, Spec: spec}
	store, last, err := training.RunSession(ctx, training.Session{
		Dir: o.Dir, Resume: o.Resume, Backend: b, Data: data, Log: log, StopAfter: o.StopAfter,
		MetaFile: "classifier.json", Meta: mustJSON(spec), Label: "noisy classifier (" + spec.Schedule.String() + ")",
		Seed: t.Seed, BatchSize: t.BatchSize, Epochs: t.Epochs, CheckpointEvery: t.CheckpointEvery,
		KeepCheckpoints: t.KeepCheckpoints, LR: t.LR, LRDecay: 1, LRFloor: 1, ParamScope: Scope,
		ModelFn: func(scope *model.Scope, x0, labels, rng *Node) {
			train.AddMainLoss(clf.Loss(scope.In(ScopeName), x0, labels, rng))
		},
	}, state, func(saved *State) error {
		if err := checkCompatible(*saved, spec); err != nil {
			return err
		}
		state.TestAccuracy = saved.TestAccuracy
		return nil
	})
	res := &TrainResult{State: *state, CheckpointDir: last}
	if err != nil {
		return res, err
	}
	if !state.Done() { // StopAfter
		return res, nil
	}
	trained, err := inference(clf, store, *state, res.CheckpointDir)
	if err != nil {
		return nil, err
	}
	res.Trained = trained
	if state.TestAccuracy == nil {
		test := o.Test
		if test == nil {
			if test, err = loadTestSet(ctx, spec.Train.Dataset, o.DataDir, log); err != nil {
				return nil, err
			}
		}
		acc, err := trained.Predictor(b).Accuracy(test, EvalSteps(sched.T), evalSeed)
		if err != nil {
			return nil, err
		}
		state.TestAccuracy = acc
		// Record the accuracy in the final checkpoint (its weights are unchanged).
		writer, err := ckpt.NewWriter(filepath.Join(o.Dir, training.CheckpointsDir), store, t.KeepCheckpoints)
		if err != nil {
			return nil, err
		}
		if res.CheckpointDir, err = writer.Save(state.Step, state); err != nil {
			return nil, err
		}
		res.State, trained.State, trained.Checkpoint = *state, *state, res.CheckpointDir
	}
	return res, nil
}

// FormatAccuracy is a small text table of accuracies by noise level.
func FormatAccuracy(acc []LevelAccuracy) string {
	var sb strings.Builder
	for _, a := range acc {
		fmt.Fprintf(&sb, "  t = %4d: %6.2f%% of %d\n", a.T, 100*a.Accuracy, a.N)
	}
	return sb.String()
}

// checkCompatible verifies that a checkpoint can be continued with spec: only the number of
// epochs and the checkpointing may change.
func checkCompatible(saved State, spec Spec) error {
	if saved.Format != Format {
		return fmt.Errorf("cannot resume: the checkpoint is not a noisy classifier (format %q)", saved.Format)
	}
	a, b := saved.Spec, spec
	for _, s := range []*Spec{&a, &b} {
		s.Source, s.Train.Epochs, s.Train.CheckpointEvery, s.Train.KeepCheckpoints = "", 0, 0, 0
	}
	if string(mustJSON(a)) != string(mustJSON(b)) {
		return &training.ResumeMismatchError{Field: "spec", Saved: string(mustJSON(a)), Asked: string(mustJSON(b))}
	}
	return nil
}

// loadTestSet loads the test split of a dataset.
func loadTestSet(ctx context.Context, dataset, dataDir string, log io.Writer) (*mnist.Set, error) {
	switch dataset {
	case "mnist":
		return mnist.EnsureAndLoad(ctx, mnist.Dir(dataDir), mnist.Test, log)
	case "fashion-mnist":
		return mnist.LoadFashion("", mnist.Test)
	}
	return nil, fmt.Errorf("unknown dataset %q: want mnist or fashion-mnist", dataset)
}
