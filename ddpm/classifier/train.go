package classifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/progress"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
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
	// ε (training.DerivedRNGState of each step).
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
	Format        string    `json:"format"`
	Spec          Spec      `json:"spec"`
	Step          int64     `json:"step"`
	StepsPerEpoch int       `json:"steps_per_epoch"`
	TotalSteps    int64     `json:"total_steps"`
	Losses        []float32 `json:"losses"` // batch loss of every step
	EpochLosses   []float64 `json:"epoch_losses"`
	// TestAccuracy is measured on the test split when training completes (see EvalSteps).
	TestAccuracy []LevelAccuracy `json:"test_accuracy,omitempty"`
	Backend      string          `json:"backend"`
	TrainSeconds float64         `json:"train_seconds"`
	Parameters   int             `json:"parameters"`
}

// Done reports whether all epochs are complete.
func (s *State) Done() bool { return s.Step >= s.TotalSteps }

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
	if o.Dir == "" {
		return nil, errors.New("classifier: no run directory given")
	}
	ckDir := filepath.Join(o.Dir, training.CheckpointsDir)
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("run directory %s cannot be created: %w", o.Dir, err)
	}
	found, err := ckpt.Latest(ckDir)
	if err != nil && o.Resume {
		return nil, err
	}
	if found != nil && !o.Resume {
		return nil, fmt.Errorf("run directory %s already holds a checkpoint (step %d): pass --resume to continue it, "+
			"or choose another --out", o.Dir, found.Step)
	}
	sched := schedule.MustNew(spec.Schedule)
	clf := &Classifier{Net: spec.Net, Schedule: sched, Conv: o.Conv}
	data := o.Data
	if data == nil {
		if data, err = training.LoadTrainingSet(ctx, recipe.Train{Dataset: spec.Train.Dataset,
			TrainExamples: spec.Train.TrainExamples}, o.DataDir, log); err != nil {
			return nil, err
		}
	}
	if data.N < spec.Train.BatchSize {
		return nil, fmt.Errorf("training set %s has %d images, fewer than one batch (%d)", data.Name, data.N, spec.Train.BatchSize)
	}
	b := o.Backend
	if b == nil {
		var info backend.Info
		if b, info, err = backend.Open(""); err != nil {
			return nil, err
		}
		fmt.Fprintln(log, info)
	}

	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, spec.Train.Seed)
	ds := &training.Batches{Set: data, Seed: spec.Train.Seed, BatchSize: spec.Train.BatchSize}
	state := State{Format: Format, Spec: spec, StepsPerEpoch: ds.StepsPerEpoch(), Backend: b.String()}
	state.TotalSteps = int64(spec.Train.Epochs) * int64(state.StepsPerEpoch)
	res := &TrainResult{}
	if found != nil {
		for _, skipped := range found.Skipped {
			fmt.Fprintf(log, "resume: skipping a damaged checkpoint: %v\n", skipped)
		}
		var saved State
		if err := ckpt.Load(found.Dir, store, &saved); err != nil {
			return nil, err
		}
		if err := checkCompatible(saved, spec); err != nil {
			return nil, err
		}
		state.Step, state.Losses, state.EpochLosses = saved.Step, saved.Losses, saved.EpochLosses
		state.TrainSeconds, state.Parameters, state.TestAccuracy = saved.TrainSeconds, saved.Parameters, saved.TestAccuracy
		res.CheckpointDir = found.Dir
		fmt.Fprintf(log, "resume: continuing from %s (step %d of %d)\n", found.Dir, state.Step, state.TotalSteps)
	}
	if err := training.WriteFileAtomic(filepath.Join(o.Dir, "classifier.json"), mustJSON(spec)); err != nil {
		return nil, err
	}
	writer, err := ckpt.NewWriter(ckDir, store, spec.Train.KeepCheckpoints)
	if err != nil {
		return nil, err
	}
	if !state.Done() {
		if err := trainLoop(ctx, o, clf, b, store, ds, &state, writer, &res.CheckpointDir, log); err != nil {
			res.State = state
			return res, err
		}
	}
	res.State = state
	if !state.Done() { // StopAfter
		return res, nil
	}
	trained, err := inference(clf, store, state, res.CheckpointDir)
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
		if res.CheckpointDir, err = writer.Save(state.Step, state); err != nil {
			return nil, err
		}
		res.State, trained.State, trained.Checkpoint = state, state, res.CheckpointDir
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

// trainLoop runs the remaining steps with checkpoints and a progress bar.
func trainLoop(ctx context.Context, o TrainOptions, clf *Classifier, b compute.Backend, store *model.Store,
	ds *training.Batches, state *State, writer *ckpt.Writer, lastCheckpoint *string, log io.Writer) error {
	t := o.Spec.Train
	spe := int64(state.StepsPerEpoch)
	modelFn := func(scope *model.Scope, x0, labels, rng *Node) {
		train.AddMainLoss(clf.Loss(scope.In(ScopeName), x0, labels, rng))
	}
	trainer := train.NewTrainer(b, store, modelFn, nil, optimizer.Adam().LearningRate(t.LR).Done(), nil, nil)
	loop := train.NewLoop(trainer)
	if got := int64(loop.LoopStep); got != state.Step {
		return fmt.Errorf("internal: GoMLX global step %d does not match the checkpoint state step %d", got, state.Step)
	}
	ds.Start = state.Step
	end := state.TotalSteps
	if o.StopAfter > 0 && o.StopAfter < end {
		end = o.StopAfter
	}
	fmt.Fprintf(log, "training the noisy classifier (%s, %s) from step %d to %d of %d (%d steps per epoch, batch %d)\n",
		o.Spec.Schedule, ds.Set.Name, state.Step, end, state.TotalSteps, spe, t.BatchSize)
	bar := progress.New(log, "train-classifier", int(state.TotalSteps), "steps")
	stepStart := time.Now()
	save := func() error {
		state.TrainSeconds += time.Since(stepStart).Seconds()
		stepStart = time.Now()
		dir, err := writer.Save(state.Step, state)
		if err != nil {
			return err
		}
		*lastCheckpoint = dir
		return nil
	}
	loop.OnStart("classifier", 0, func(*train.Loop, train.Dataset) error {
		stepStart = time.Now()
		return nil
	})
	loop.OnStep("classifier", 0, func(_ *train.Loop, metrics []*tensors.Tensor) error {
		loss := tensors.ToScalar[float32](metrics[0])
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
			return fmt.Errorf("classifier training stopped: loss is %v at step %d; last checkpoint: %q "+
				"(lower the learning rate)", loss, state.Step+1, *lastCheckpoint)
		}
		state.Step++
		state.Losses = append(state.Losses, loss)
		epochEnd := state.Step%spe == 0
		if epochEnd {
			var sum float64
			for _, l := range state.Losses[state.Step-spe:] {
				sum += float64(l)
			}
			state.EpochLosses = append(state.EpochLosses, sum/float64(spe))
		}
		bar.Update(int(state.Step), fmt.Sprintf("epoch %d/%d, loss %.4f", (state.Step-1)/spe+1, t.Epochs, loss))
		stop := ctx.Err() != nil || state.Step >= end
		if epochEnd || stop || (t.CheckpointEvery > 0 && state.Step%int64(t.CheckpointEvery) == 0) {
			if err := save(); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	_, err := loop.RunSteps(ds, int(end-state.Step))
	bar.Finish("")
	if state.Parameters == 0 {
		state.Parameters = countTrainable(store)
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("classifier training interrupted at step %d (checkpoint %s): %w", state.Step, *lastCheckpoint, ctx.Err())
	}
	return err
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
		return fmt.Errorf("cannot resume: the checkpoint was trained with %s, this run asks for %s "+
			"(start a new run directory with --out, or use the same settings)", mustJSON(a), mustJSON(b))
	}
	return nil
}

func countTrainable(store *model.Store) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable && strings.HasPrefix(v.Path(), Scope+"/") {
			n += v.Shape().Size()
		}
	}
	return n
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
