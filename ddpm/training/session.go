package training

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/progress"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// Progress is the part of a checkpoint's state that a session maintains.
type Progress struct {
	Step          int64 `json:"step"` // completed optimisation steps (= GoMLX's global step)
	StepsPerEpoch int   `json:"steps_per_epoch"`
	TotalSteps    int64 `json:"total_steps"`
	// Losses holds the batch loss of every step (len == Step).
	Losses []float32 `json:"losses"`
	// EpochLosses holds the mean batch loss of every completed epoch.
	EpochLosses  []float64 `json:"epoch_losses"`
	Backend      string    `json:"backend"`       // backend.Identity of the session that started the run
	TrainSeconds float64   `json:"train_seconds"` // wall time of the optimisation steps, over all sessions
	Parameters   int       `json:"parameters"`    // trainable parameters under the session's ParamScope
	// EpochEvals holds the evaluation at the end of each epoch, when the session has an EpochEval.
	EpochEvals []EpochEval `json:"epoch_evals,omitempty"`
}

// EpochEval is an evaluation of the weights at the end of an epoch (e.g. FID and KID of samples).
type EpochEval struct {
	Epoch   int                `json:"epoch"` // 1-based: the number of completed epochs
	Step    int64              `json:"step"`
	N       int                `json:"n"`       // samples evaluated
	Sampler string             `json:"sampler"` // how they were drawn
	Metrics map[string]float64 `json:"metrics"` // e.g. "fid", "fid_floor", "kid", "score", "class_acc"
	// Tool describes how the metrics were computed (feature network, reference, floors).
	Tool string `json:"tool"`
}

// EpochEvalFn evaluates the weights in store at the end of an epoch (the session fills in Epoch
// and Step). It must be deterministic for resumed runs to match.
type EpochEvalFn func(ctx context.Context, epoch int, store *model.Store) (EpochEval, error)

// Epoch is the (0-based) epoch of the next step.
func (p *Progress) Epoch() int { return int(p.Step / int64(p.StepsPerEpoch)) }

// Done reports whether all epochs are complete.
func (p *Progress) Done() bool { return p.Step >= p.TotalSteps }

// TrainingProgress implements Checkpointed for states that embed Progress.
func (p *Progress) TrainingProgress() *Progress { return p }

// Checkpointed is a checkpoint state (saved as state.json) that embeds a Progress.
type Checkpointed interface{ TrainingProgress() *Progress }

// Session configures one deterministic, resumable training run of a GoMLX model on batches of
// images: the machinery shared by the diffusion model (Run) and the noisy classifier.
type Session struct {
	Dir     string          // run directory; checkpoints go to Dir/checkpoints
	Resume  bool            // continue from the newest intact checkpoint
	Backend compute.Backend // nil: backend.Open("")
	Data    *mnist.Set      // training images and labels
	Log     io.Writer
	// StopAfter > 0 ends the session after that global step (with a checkpoint), to be resumed.
	StopAfter int64
	// MetaFile and Meta: a description of the run written atomically into Dir before training
	// (e.g. "recipe.json"), which also proves the directory is writable before any work is done.
	MetaFile string
	Meta     []byte
	// Label names the run in messages and on the progress bar.
	Label string

	Seed            int64
	BatchSize       int
	Epochs          int
	CheckpointEvery int // steps (0: at the end of each epoch only)
	KeepCheckpoints int
	// LR·max(LRFloor, LRDecay^epoch) is Adam's learning rate (LRDecay = LRFloor = 1: constant);
	// with LRCosine, LR·(LRFloor + (1−LRFloor)·½(1+cos(π·step/TotalSteps))) instead; either times
	// min(1, (step+1)/LRWarmup) when LRWarmup > 0 (recipe.Train.LRFactor on the host).
	LR, LRDecay, LRFloor float64
	LRCosine             bool
	LRWarmup             int64
	// ParamScope is the scope whose trainable variables Progress.Parameters counts.
	ParamScope string
	// EpochEval, if set, evaluates the weights at the end of every epoch; the result is kept in
	// Progress.EpochEvals (and in the epoch's checkpoint). Its time is not counted as training time.
	EpochEval EpochEvalFn
	// ModelFn builds the training graph from x0 [B,28,28,1] float32, labels [B] int32 and the step's
	// RNG state (derived from (Seed, step)): it adds the loss with train.AddMainLoss and may register
	// per-step updates (EMA) with train.AddPerStepUpdateGraphFn.
	ModelFn func(scope *model.Scope, x0, labels, rng *Node)
	// Init, if set, is called on a fresh start (not when resuming a checkpoint) with the new, empty
	// store, before any graph is built: a warm start puts its initial weights there.
	Init func(store *model.Store) error
}

// RunSession trains as configured. state is the caller's checkpoint state: its Progress is
// maintained here; on resume, compatible is called with the newest intact checkpoint's state to
// refuse incompatible settings and to copy the caller's own fields (the Progress is copied here).
// It returns the training store and the last checkpoint directory written or loaded.
func RunSession[S Checkpointed](ctx context.Context, c Session, state S, compatible func(saved S) error) (*model.Store, string, error) {
	log := c.Log
	if log == nil {
		log = os.Stdout
	}
	if c.Data == nil || c.Data.N < c.BatchSize {
		return nil, "", fmt.Errorf("%s: the training set has fewer images than one batch (%d)", c.Label, c.BatchSize)
	}
	ckDir := filepath.Join(c.Dir, CheckpointsDir)
	if err := prepareRunDir(c.Dir, c.MetaFile, c.Meta, c.Resume); err != nil {
		return nil, "", err
	}
	b := c.Backend
	if b == nil {
		var info backend.Info
		var err error
		if b, info, err = backend.Open(""); err != nil {
			return nil, "", err
		}
		fmt.Fprintln(log, info)
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, c.Seed)
	ds := NewBatches(c.Data, c.Seed, c.BatchSize)
	c.Data = nil // ds holds the images (as bytes when possible): let the float32 set go
	p := state.TrainingProgress()
	*p = Progress{StepsPerEpoch: ds.StepsPerEpoch(), Backend: backend.Identity(b)}
	p.TotalSteps = int64(c.Epochs) * int64(p.StepsPerEpoch)
	lastCheckpoint := ""
	if c.Resume {
		found, err := ckpt.Latest(ckDir)
		if err != nil {
			return nil, "", err
		}
		if found != nil {
			for _, skipped := range found.Skipped {
				fmt.Fprintf(log, "resume: skipping a damaged checkpoint: %v\n", skipped)
			}
			saved := newLike(state)
			if err := ckpt.Load(found.Dir, store, saved); err != nil {
				return nil, "", err
			}
			if err := compatible(saved); err != nil {
				return nil, "", err
			}
			sp := saved.TrainingProgress()
			p.Step, p.Losses, p.EpochLosses = sp.Step, sp.Losses, sp.EpochLosses
			p.TrainSeconds, p.Parameters, p.EpochEvals = sp.TrainSeconds, sp.Parameters, sp.EpochEvals
			lastCheckpoint = found.Dir
			fmt.Fprintf(log, "resume: continuing from %s (step %d of %d, epoch %d)\n", found.Dir, p.Step, p.TotalSteps, p.Epoch())
		}
	}
	if lastCheckpoint == "" && c.Init != nil {
		if err := c.Init(store); err != nil {
			return nil, "", err
		}
	}
	if p.Done() {
		fmt.Fprintf(log, "training already complete (%d steps)\n", p.Step)
		return store, lastCheckpoint, nil
	}
	writer, err := ckpt.NewWriter(ckDir, store, c.KeepCheckpoints)
	if err != nil {
		return nil, "", err
	}
	err = c.loop(ctx, b, store, ds, state, writer, &lastCheckpoint, log)
	return store, lastCheckpoint, err
}

// newLike returns a pointer to a new zero value of the type state points to (S is a pointer type).
func newLike[S any](state S) S {
	return reflect.New(reflect.TypeOf(state).Elem()).Interface().(S)
}

// loop builds the trainer and runs the remaining steps with the hooks.
func (c Session) loop(ctx context.Context, b compute.Backend, store *model.Store, ds *Batches, state Checkpointed,
	writer *ckpt.Writer, lastCheckpoint *string, log io.Writer) error {
	p := state.TrainingProgress()
	spe := int64(p.StepsPerEpoch)
	modelFn := func(scope *model.Scope, x0, labels, rng *Node) {
		c.setLearningRate(scope, x0.Graph(), spe, p.TotalSteps)
		c.ModelFn(scope, x0, labels, rng)
	}
	trainer := train.NewTrainer(b, store, modelFn, nil, optimizer.Adam().LearningRate(c.LR).Done(), nil, nil)
	trainLoop := train.NewLoop(trainer)
	if got := int64(trainLoop.LoopStep); got != p.Step {
		return fmt.Errorf("internal: GoMLX global step %d does not match the checkpoint state step %d", got, p.Step)
	}
	ds.Start = p.Step
	end := p.TotalSteps
	if c.StopAfter > 0 && c.StopAfter < end {
		end = c.StopAfter
	}
	fmt.Fprintf(log, "training %s from step %d to %d of %d (%d steps per epoch, batch %d)\n",
		c.Label, p.Step, end, p.TotalSteps, spe, c.BatchSize)
	bar := progress.New(log, "train "+c.Label, int(p.TotalSteps), "steps").Resume(int(p.Step))
	sessionStart := time.Now()
	var stepStart time.Time
	save := func() error {
		p.TrainSeconds += time.Since(stepStart).Seconds()
		stepStart = time.Now()
		dir, err := writer.Save(p.Step, state)
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
			inEpoch := int(p.Step % spe)
			return &NaNError{Step: p.Step + 1, Epoch: p.Epoch(), BatchInEpoch: inEpoch,
				FirstExample: inEpoch * c.BatchSize, BatchSize: c.BatchSize, Loss: loss, LastCheckpoint: *lastCheckpoint}
		}
		p.Step++
		p.Losses = append(p.Losses, loss)
		if p.Parameters == 0 { // the variables exist once the first step ran
			p.Parameters = countTrainable(store, c.ParamScope)
		}
		epochEnd := p.Step%spe == 0
		if epochEnd {
			var sum float64
			for _, l := range p.Losses[p.Step-spe:] {
				sum += float64(l)
			}
			p.EpochLosses = append(p.EpochLosses, sum/float64(spe))
			if c.EpochEval != nil {
				evalStart := time.Now()
				epoch := int(p.Step / spe)
				ev, err := c.EpochEval(ctx, epoch, store)
				if err != nil {
					return fmt.Errorf("evaluating epoch %d: %w", epoch, err)
				}
				ev.Epoch, ev.Step = epoch, p.Step
				p.EpochEvals = append(p.EpochEvals, ev)
				stepStart = stepStart.Add(time.Since(evalStart)) // not training time
			}
		}
		bar.Update(int(p.Step), fmt.Sprintf("epoch %d/%d, loss %.4f", (p.Step-1)/spe+1, c.Epochs, loss))
		stop := ctx.Err() != nil || p.Step >= end
		if epochEnd || stop || (c.CheckpointEvery > 0 && p.Step%int64(c.CheckpointEvery) == 0) {
			if err := save(); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	_, err := trainLoop.RunSteps(ds, int(end-p.Step))
	bar.Finish(fmt.Sprintf("session %s", time.Since(sessionStart).Round(time.Second)))
	var nanErr *NaNError
	if errors.As(err, &nanErr) {
		return nanErr
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("training interrupted at step %d (checkpoint %s): %w", p.Step, *lastCheckpoint, ctx.Err())
	}
	return err
}

// setLearningRate sets Adam's learning rate in the graph as documented at Session.LR, read from the
// (not yet incremented) global step: the per-epoch schedule uses epoch = ⌊step / stepsPerEpoch⌋,
// the cosine one step / totalSteps.
func (c Session) setLearningRate(scope *model.Scope, g *Graph, stepsPerEpoch, totalSteps int64) {
	step := ConvertDType(optimizer.GetGlobalStepVar(scope).NodeValue(g), dtypes.Float64)
	scalar := func(v float64) *Node { return Scalar(g, dtypes.Float64, v) }
	var factor *Node
	if c.LRCosine {
		progress := DivScalar(Min(step, scalar(float64(totalSteps))), float64(totalSteps))
		cos := MulScalar(AddScalar(Cos(MulScalar(progress, math.Pi)), 1), 0.5)
		factor = AddScalar(MulScalar(cos, 1-c.LRFloor), c.LRFloor)
	} else {
		epoch := Floor(DivScalar(step, float64(stepsPerEpoch)))
		factor = Max(Pow(scalar(c.LRDecay), epoch), scalar(c.LRFloor))
	}
	if c.LRWarmup > 0 {
		factor = Mul(factor, Min(DivScalar(AddScalar(step, 1), float64(c.LRWarmup)), scalar(1)))
	}
	optimizer.LearningRateVar(scope, dtypes.Float32, c.LR).SetNodeValue(ConvertDType(MulScalar(factor, c.LR), dtypes.Float32))
}

func countTrainable(store *model.Store, scope string) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable && strings.HasPrefix(v.Path(), scope+"/") {
			n += v.Shape().Size()
		}
	}
	return n
}

// prepareRunDir creates dir, refuses to start over existing checkpoints unless resuming, and
// writes the run's description, which checks that the directory is writable before any work.
func prepareRunDir(dir, metaFile string, meta []byte, resume bool) error {
	if dir == "" {
		return errors.New("no run directory given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run directory %s cannot be created: %w", dir, err)
	}
	if !resume {
		if found, _ := ckpt.Latest(filepath.Join(dir, CheckpointsDir)); found != nil {
			return &RunExistsError{Dir: dir, Step: found.Step}
		}
	}
	if metaFile == "" {
		return nil
	}
	return atomicfile.WriteBytes(filepath.Join(dir, metaFile), meta)
}

// RunExistsError is returned when a new run is started in a directory that already holds a
// checkpoint: continue it (Options.Resume) or train elsewhere.
type RunExistsError struct {
	Dir  string
	Step int64
}

func (e *RunExistsError) Error() string {
	return fmt.Sprintf("run directory %s already holds a checkpoint (step %d): resume it or use another directory", e.Dir, e.Step)
}
