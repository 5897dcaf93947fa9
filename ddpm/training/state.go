package training

import (
	"fmt"
	"math"

	"github.com/ddpm-go/ddpm/ddpm/recipe"
)

// State is the training state kept in every checkpoint (state.json) beside GoMLX's variables.
type State struct {
	Recipe recipe.Recipe `json:"recipe"`
	Progress
	// Exported is "ema" or "raw" for a slim checkpoint written by app.Export that holds only
	// those network weights (no optimiser state: it cannot be resumed); "" for a training checkpoint.
	Exported string `json:"exported,omitempty"`
	// WarmStart says where the initial weights came from when the recipe has Train.Init (nil otherwise).
	WarmStart *WarmStart `json:"warm_start,omitempty"`
}

// NaNError reports a non-finite loss: training stopped at once and nothing was saved after the
// last good checkpoint.
type NaNError struct {
	Step           int64 // 1-based step whose loss was not finite
	Epoch          int   // 0-based epoch
	BatchInEpoch   int   // 0-based batch index within the epoch
	FirstExample   int   // position in the epoch's permutation of the batch's first example
	BatchSize      int   //
	Loss           float32
	LastCheckpoint string // "" if none was written yet
}

func (e *NaNError) Error() string {
	last := e.LastCheckpoint
	if last == "" {
		last = "none (no checkpoint was written yet)"
	}
	return fmt.Sprintf("training stopped: loss is %v at step %d (epoch %d, batch %d: examples %d..%d of the epoch's "+
		"permutation); nothing was saved after the last good checkpoint: %s. Lower the learning rate or "+
		"resume from that checkpoint", e.Loss, e.Step, e.Epoch, e.BatchInEpoch, e.FirstExample,
		e.FirstExample+e.BatchSize-1, last)
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// checkCompatible verifies that a checkpoint's recipe can be continued with r: everything that
// shapes the model, the data order, the noise or the learning rate must be equal; epochs (unless
// the learning rate follows a cosine over the run), checkpointing and sampling settings may change.
func checkCompatible(saved, r recipe.Recipe) error {
	type field struct {
		name      string
		old, new_ any
	}
	for _, f := range []field{
		{"net", saved.Net, r.Net},
		{"schedule", saved.Schedule, r.Schedule},
		{"dataset", saved.Train.Dataset, r.Train.Dataset},
		{"train_examples", saved.Train.TrainExamples, r.Train.TrainExamples},
		{"batch_size", saved.Train.BatchSize, r.Train.BatchSize},
		{"seed", saved.Train.Seed, r.Train.Seed},
		{"lr", saved.Train.LR, r.Train.LR},
		{"lr_decay", saved.Train.LRDecay, r.Train.LRDecay},
		{"lr_floor", saved.Train.LRFloor, r.Train.LRFloor},
		{"lr_schedule", saved.Train.LRSchedule, r.Train.LRSchedule},
		{"lr_warmup", saved.Train.LRWarmup, r.Train.LRWarmup},
		{"ema_decay", saved.Train.EMADecay, r.Train.EMADecay},
		{"p_uncond", saved.Train.PUncond, r.Train.PUncond},
		{"init", saved.Train.Init, r.Train.Init},
		{"epochs (the cosine schedule's length)", cosineEpochs(saved.Train), cosineEpochs(r.Train)},
	} {
		if fmt.Sprint(f.old) != fmt.Sprint(f.new_) {
			return &ResumeMismatchError{Field: f.name, Saved: fmt.Sprint(f.old), Asked: fmt.Sprint(f.new_)}
		}
	}
	return nil
}

// cosineEpochs is the number of epochs when it shapes the learning rate (a cosine schedule runs
// over all the steps), else 0: epochs may otherwise change on resume.
func cosineEpochs(t recipe.Train) int {
	if t.LRSchedule == "cosine" {
		return t.Epochs
	}
	return 0
}

// ResumeMismatchError is returned when a run is resumed with a setting that shapes the model, the
// data order or the noise other than the checkpoint's: start a new run or use the same value.
type ResumeMismatchError struct {
	Field        string // recipe field, e.g. "batch_size"
	Saved, Asked string // its value in the checkpoint and in this run
}

func (e *ResumeMismatchError) Error() string {
	return fmt.Sprintf("cannot resume: the checkpoint was trained with %s = %s, this run asks for %s", e.Field, e.Saved, e.Asked)
}
