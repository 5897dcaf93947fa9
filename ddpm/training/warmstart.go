package training

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/gomlx/gomlx/ml/model"
)

// WarmStart records where the initial weights of a warm-started run (recipe.Train.Init) came from.
type WarmStart struct {
	// Checkpoint is the step directory the weights were read from; Step its training step.
	Checkpoint string `json:"checkpoint"`
	Step       int64  `json:"step"`
	// Recipe is the name of the recipe that trained them; EMA whether they were its moving averages.
	Recipe string `json:"recipe"`
	EMA    bool   `json:"ema"`
}

// InitMismatchError is returned when the model named by recipe.Train.Init has another network or
// noise schedule than the recipe that starts from it.
type InitMismatchError struct {
	Init, Field, Saved, Asked string
}

func (e *InitMismatchError) Error() string {
	return fmt.Sprintf("init %s: its %s is %s, the recipe asks for %s: a warm start needs the same network and schedule",
		e.Init, e.Field, e.Saved, e.Asked)
}

// warmStart puts the network weights of the trained model at dir (a run directory, an exported
// model or one checkpoint: its EMA weights when it has them, else its raw weights) into store, under
// ModelScope at the same paths, before any graph is built: the layers then reuse them instead of
// initialising. Nothing else is copied (no optimiser state, no step count, no EMA).
func warmStart(dir string, r recipe.Recipe, store *model.Store, log io.Writer) (*WarmStart, error) {
	stepDir, skipped, err := ckpt.Resolve(dir)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	for _, s := range skipped {
		fmt.Fprintf(log, "init: skipping a damaged checkpoint: %v\n", s)
	}
	src := model.NewStore()
	var saved State
	if err := ckpt.Load(stepDir, src, &saved); err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	if !reflect.DeepEqual(saved.Recipe.Net, r.Net) {
		return nil, &InitMismatchError{Init: stepDir, Field: "network", Saved: compactJSON(saved.Recipe.Net), Asked: compactJSON(r.Net)}
	}
	if saved.Recipe.Schedule != r.Schedule {
		return nil, &InitMismatchError{Init: stepDir, Field: "schedule", Saved: saved.Recipe.Schedule.String(), Asked: r.Schedule.String()}
	}
	useEMA := HasEMA(src)
	weights, err := InferenceStore(src, useEMA)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", stepDir, err)
	}
	for v := range weights.IterVariables() {
		if _, err := store.CreateVariable(v.Path(), v.MustValue()); err != nil {
			return nil, fmt.Errorf("init %s: %s: %w", stepDir, v.Path(), err)
		}
	}
	ws := &WarmStart{Checkpoint: stepDir, Step: saved.Step, Recipe: saved.Recipe.Name, EMA: useEMA}
	kind := "raw"
	if useEMA {
		kind = "EMA"
	}
	fmt.Fprintf(log, "init: starting from the %s weights of %s (recipe %s, step %d); fresh optimiser and schedule\n",
		kind, stepDir, saved.Recipe.Name, saved.Step)
	return ws, nil
}

// compactJSON is v as one line of JSON (for messages).
func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
