// Package training trains a diffusion.Model with GoMLX (train.Trainer, train.Loop, Adam) and
// makes runs reproducible and resumable: the data order, t, ε and label dropout of global step s are
// functions of (seed, s) only; the learning rate is a function of the global step inside the graph;
// the optimiser state, EMA weights and loss history are in every checkpoint; checkpoints are
// atomic (package ckpt). A run killed at any point and resumed ends bit-identical, on the same
// backend, to an uninterrupted one.
package training

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
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
	// EpochEval, if set, evaluates the model at the end of every epoch (see Session.EpochEval);
	// app.EpochEvaluator builds one (FID/KID of samples) from Recipe.Train.EvalSamples.
	EpochEval func(ctx context.Context, epoch int, m *diffusion.Model, store *model.Store) (EpochEval, error)
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
	t := r.Train
	state := &State{Recipe: r}
	store, last, err := RunSession(ctx, Session{
		Dir: opts.Dir, Resume: opts.Resume, Backend: opts.Backend, Data: data, Log: log, StopAfter: opts.StopAfter,
		MetaFile: "recipe.json", Meta: r.JSON(), Label: r.Name,
		Seed: t.Seed, BatchSize: t.BatchSize, Epochs: t.Epochs, CheckpointEvery: t.CheckpointEvery,
		KeepCheckpoints: t.KeepCheckpoints, LR: t.LR, LRDecay: t.LRDecay, LRFloor: t.LRFloor,
		LRCosine: t.LRSchedule == "cosine", LRWarmup: int64(t.LRWarmup), ParamScope: ModelScope,
		EpochEval: epochEval(opts.EpochEval, m),
		Init:      warmStartFn(t.Init, r, state, log),
		ModelFn: func(scope *model.Scope, x0, labels, rng *Node) {
			train.AddMainLoss(m.Loss(scope.In(ModelScopeName), x0, labels, rng, t.PUncond))
			if t.EMADecay > 0 {
				train.AddPerStepUpdateGraphFn(scope, x0.Graph(), func(scope *model.Scope, g *Graph) {
					addEMAUpdate(g, scope.Store(), t.EMADecay)
				})
			}
		},
	}, state, func(saved *State) error {
		if err := checkCompatible(saved.Recipe, r); err != nil {
			return err
		}
		state.WarmStart = saved.WarmStart
		return nil
	})
	if store == nil {
		return nil, err
	}
	return &Result{State: *state, CheckpointDir: last, Store: store, Model: m}, err
}

// warmStartFn returns the Session.Init of a recipe with Train.Init (nil without), which records the
// source in state.
func warmStartFn(init string, r recipe.Recipe, state *State, log io.Writer) func(*model.Store) error {
	if init == "" {
		return nil
	}
	return func(store *model.Store) error {
		ws, err := warmStart(init, r, store, log)
		state.WarmStart = ws
		return err
	}
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

// epochEval adapts a model evaluation to the session's hook (nil stays nil).
func epochEval(f func(context.Context, int, *diffusion.Model, *model.Store) (EpochEval, error), m *diffusion.Model) EpochEvalFn {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, epoch int, store *model.Store) (EpochEval, error) {
		return f(ctx, epoch, m, store)
	}
}
