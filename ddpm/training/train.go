// Package training trains a diffusion.Model with GoMLX (train.Trainer, train.Loop, Adam) and
// makes runs reproducible and resumable: the data order, t, ε and label dropout of global step s are
// functions of (seed, s) only; the learning rate is a function of the global step inside the graph;
// the optimiser state, EMA weights and loss history are in every checkpoint; checkpoints are
// atomic (package ckpt). A run killed at any point and resumed ends bit-identical, on the same
// backend, to an uninterrupted one.
package training

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/progress"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// CheckpointsDir is the sub-directory of a run directory that holds its checkpoints.
const CheckpointsDir = ckpt.RunSubdir

// Options configures Run.
type Options struct {
	Recipe recipe.Recipe
	// Dir is the run directory: recipe.json and checkpoints/ are written there.
	Dir string
	// Resume continues from the newest intact checkpoint in Dir. Without it, a Dir that already
	// holds checkpoints is an error (nothing is overwritten).
	Resume bool
	// Backend to train on; nil opens the default (see package backend).
	Backend compute.Backend
	// Data is the training set; nil loads Recipe.Train.Dataset (fetching MNIST if missing).
	Data *mnist.Set
	// DataDir is the MNIST directory when Data is nil ("" resolves mnist.Dir("")).
	DataDir string
	// Log receives messages and the progress bar (os.Stdout if nil).
	Log io.Writer
	// StopAfter > 0 ends the session after that global step (with a checkpoint), to be resumed.
	StopAfter int64
	// Conv overrides the convolution formulation (default layers.Auto).
	Conv layers.Formulation
}

// Result is what Run leaves behind.
type Result struct {
	State         State
	CheckpointDir string       // the last checkpoint written or loaded
	Store         *model.Store // the training store (weights, EMA, optimiser state)
	Model         *diffusion.Model
}

// Run trains (or resumes) as configured. The context cancels between steps: the current step's
// checkpoint is written before returning ctx.Err().
func Run(ctx context.Context, opts Options) (*Result, error) {
	r := opts.Recipe
	if err := r.Validate(); err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = os.Stdout
	}
	ckDir := filepath.Join(opts.Dir, CheckpointsDir)
	if err := prepareRunDir(opts.Dir, r, opts.Resume); err != nil {
		return nil, err
	}
	sched, err := schedule.New(r.Schedule)
	if err != nil {
		return nil, err
	}
	m := &diffusion.Model{Net: r.Net, Schedule: sched, Conv: opts.Conv}

	data := opts.Data
	if data == nil {
		if data, err = LoadTrainingSet(ctx, r.Train, opts.DataDir, log); err != nil {
			return nil, err
		}
	}
	if data.N < r.Train.BatchSize {
		return nil, fmt.Errorf("training set %s has %d images, fewer than one batch (%d)", data.Name, data.N, r.Train.BatchSize)
	}
	b := opts.Backend
	if b == nil {
		var info backend.Info
		if b, info, err = backend.Open(""); err != nil {
			return nil, err
		}
		fmt.Fprintln(log, info)
	}

	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, r.Train.Seed)
	ds := &Batches{Set: data, Seed: r.Train.Seed, BatchSize: r.Train.BatchSize}
	state := State{Recipe: r, StepsPerEpoch: ds.StepsPerEpoch(), Backend: b.String()}
	state.TotalSteps = int64(r.Train.Epochs) * int64(state.StepsPerEpoch)
	lastCheckpoint := ""
	if opts.Resume {
		found, err := ckpt.Latest(ckDir)
		if err != nil {
			return nil, err
		}
		if found != nil {
			for _, skipped := range found.Skipped {
				fmt.Fprintf(log, "resume: skipping a damaged checkpoint: %v\n", skipped)
			}
			var saved State
			if err := ckpt.Load(found.Dir, store, &saved); err != nil {
				return nil, err
			}
			if err := checkCompatible(saved.Recipe, r); err != nil {
				return nil, err
			}
			state.Step, state.Losses, state.EpochLosses = saved.Step, saved.Losses, saved.EpochLosses
			state.TrainSeconds, state.Parameters = saved.TrainSeconds, saved.Parameters
			lastCheckpoint = found.Dir
			fmt.Fprintf(log, "resume: continuing from %s (step %d of %d, epoch %d)\n",
				found.Dir, state.Step, state.TotalSteps, state.Epoch())
		}
	}
	res := &Result{State: state, CheckpointDir: lastCheckpoint, Store: store, Model: m}
	if state.Done() {
		fmt.Fprintf(log, "training already complete (%d steps)\n", state.Step)
		return res, nil
	}
	writer, err := ckpt.NewWriter(ckDir, store, r.Train.KeepCheckpoints)
	if err != nil {
		return nil, err
	}
	err = loop(ctx, opts, m, b, store, ds, &state, writer, &lastCheckpoint, log)
	res.State, res.CheckpointDir = state, lastCheckpoint
	return res, err
}

// loop builds the trainer and runs the remaining steps with the hooks.
func loop(ctx context.Context, opts Options, m *diffusion.Model, b compute.Backend, store *model.Store, ds *Batches,
	state *State, writer *ckpt.Writer, lastCheckpoint *string, log io.Writer) error {
	r := opts.Recipe
	spe := int64(state.StepsPerEpoch)
	modelFn := func(scope *model.Scope, x0, labels, rng *Node) {
		g := x0.Graph()
		setLearningRate(scope, g, r.Train, spe)
		loss := m.Loss(scope.In(ModelScopeName), x0, labels, rng, r.Train.PUncond)
		train.AddMainLoss(loss)
		if r.Train.EMADecay > 0 {
			train.AddPerStepUpdateGraphFn(scope, g, func(scope *model.Scope, g *Graph) {
				addEMAUpdate(g, scope.Store(), r.Train.EMADecay)
			})
		}
	}
	trainer := train.NewTrainer(b, store, modelFn, nil, optimizer.Adam().LearningRate(r.Train.LR).Done(), nil, nil)
	trainLoop := train.NewLoop(trainer)
	if got := int64(trainLoop.LoopStep); got != state.Step {
		return fmt.Errorf("internal: GoMLX global step %d does not match the checkpoint state step %d", got, state.Step)
	}
	ds.Start = state.Step
	end := state.TotalSteps
	if opts.StopAfter > 0 && opts.StopAfter < end {
		end = opts.StopAfter
	}
	fmt.Fprintf(log, "training %s from step %d to %d of %d (%d steps per epoch, batch %d)\n",
		r.Name, state.Step, end, state.TotalSteps, spe, r.Train.BatchSize)
	bar := progress.New(log, "train "+r.Name, int(state.TotalSteps), "steps")
	sessionStart := time.Now()
	var stepStart time.Time
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
	trainLoop.OnStart("ddpm", 0, func(*train.Loop, train.Dataset) error {
		stepStart = time.Now()
		return nil
	})
	trainLoop.OnStep("ddpm", 0, func(_ *train.Loop, metrics []*tensors.Tensor) error {
		loss := tensors.ToScalar[float32](metrics[0])
		if !finite(loss) {
			inEpoch := int(state.Step % spe)
			return &NaNError{Step: state.Step + 1, Epoch: state.Epoch(), BatchInEpoch: inEpoch,
				FirstExample: inEpoch * r.Train.BatchSize, BatchSize: r.Train.BatchSize, Loss: loss,
				LastCheckpoint: *lastCheckpoint}
		}
		state.Step++
		state.Losses = append(state.Losses, loss)
		if state.Parameters == 0 { // the variables exist once the first step ran
			state.Parameters = countTrainable(store)
		}
		epochEnd := state.Step%spe == 0
		if epochEnd {
			var sum float64
			for _, l := range state.Losses[state.Step-spe:] {
				sum += float64(l)
			}
			state.EpochLosses = append(state.EpochLosses, sum/float64(spe))
		}
		bar.Update(int(state.Step), fmt.Sprintf("epoch %d/%d, loss %.4f", (state.Step-1)/spe+1, r.Train.Epochs, loss))
		stop := ctx.Err() != nil || state.Step >= end
		if epochEnd || stop || (r.Train.CheckpointEvery > 0 && state.Step%int64(r.Train.CheckpointEvery) == 0) {
			if err := save(); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil
	})
	_, err := trainLoop.RunSteps(ds, int(end-state.Step))
	bar.Finish(fmt.Sprintf("session %s", time.Since(sessionStart).Round(time.Second)))
	var nanErr *NaNError
	if errors.As(err, &nanErr) {
		return nanErr
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("training interrupted at step %d (checkpoint %s): %w", state.Step, *lastCheckpoint, ctx.Err())
	}
	return err
}

// setLearningRate sets Adam's learning rate in the graph to lr·max(floor, decay^epoch), where
// epoch = ⌊globalStep / stepsPerEpoch⌋ is read from the (not yet incremented) global step.
func setLearningRate(scope *model.Scope, g *Graph, t recipe.Train, stepsPerEpoch int64) {
	step := ConvertDType(optimizer.GetGlobalStepVar(scope).NodeValue(g), dtypes.Float64)
	epoch := Floor(DivScalar(step, float64(stepsPerEpoch)))
	factor := Max(Pow(Scalar(g, dtypes.Float64, t.LRDecay), epoch), Scalar(g, dtypes.Float64, t.LRFloor))
	lr := ConvertDType(MulScalar(factor, t.LR), dtypes.Float32)
	optimizer.LearningRateVar(scope, dtypes.Float32, t.LR).SetNodeValue(lr)
}

func countTrainable(store *model.Store) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable && len(v.Path()) > len(ModelScope) && v.Path()[:len(ModelScope)+1] == ModelScope+"/" {
			n += v.Shape().Size()
		}
	}
	return n
}

// prepareRunDir creates dir, refuses to start over existing checkpoints unless resuming, and
// checks that it can write there before any training time is spent.
func prepareRunDir(dir string, r recipe.Recipe, resume bool) error {
	if dir == "" {
		return errors.New("no run directory given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run directory %s cannot be created: %w", dir, err)
	}
	if !resume {
		if found, _ := ckpt.Latest(filepath.Join(dir, CheckpointsDir)); found != nil {
			return fmt.Errorf("run directory %s already holds a checkpoint (step %d): pass --resume to continue it, "+
				"or choose another --out", dir, found.Step)
		}
	}
	return WriteFileAtomic(filepath.Join(dir, "recipe.json"), r.JSON())
}

// WriteFileAtomic writes data to path through a temporary file, fsync and rename.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// LoadTrainingSet loads the recipe's training images (the first TrainExamples if > 0).
func LoadTrainingSet(ctx context.Context, t recipe.Train, dataDir string, log io.Writer) (*mnist.Set, error) {
	var set *mnist.Set
	var err error
	switch t.Dataset {
	case "mnist":
		set, err = mnist.EnsureAndLoad(ctx, mnist.Dir(dataDir), mnist.Train, log)
	case "fashion-mnist":
		set, err = mnist.LoadFashion("", mnist.Train)
	default:
		err = fmt.Errorf("unknown dataset %q: want mnist or fashion-mnist", t.Dataset)
	}
	if err != nil {
		return nil, err
	}
	if t.TrainExamples > 0 && t.TrainExamples < set.N {
		idx := make([]int, t.TrainExamples)
		for i := range idx {
			idx[i] = i
		}
		set = set.Subset(idx)
	}
	return set, nil
}
