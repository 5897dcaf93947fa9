// Package app is the application layer above the libraries (ddpm/... and fid): it strings them
// together for the command line and the notebooks. It loads a trained model from a run or
// checkpoint directory, runs the main job (train, sample, evaluate, write figures and a report),
// exports and checks shipped models, evaluates samples with the fid package and benchmarks.
// Imports run one way: cmd → app (and figures) → ddpm/..., fid; no library imports app.
package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// Trained is a model loaded for sampling.
type Trained struct {
	Model *diffusion.Model
	// Store holds only the network weights under training.ModelScope (EMA or raw).
	Store *model.Store
	State training.State
	// Checkpoint is the checkpoint directory the weights came from.
	Checkpoint string
	// EMA tells whether Store holds the EMA weights.
	EMA bool
}

// LoadTrained loads the newest intact checkpoint of a run directory (or a checkpoint directory
// itself). preferEMA selects the moving-average weights when the model has them (Trained.EMA says
// which weights were loaded); otherwise the raw weights are used.
func LoadTrained(dir string, preferEMA bool) (*Trained, error) {
	stepDir, err := resolveCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	full := model.NewStore()
	var state training.State
	if err := ckpt.Load(stepDir, full, &state); err != nil {
		return nil, err
	}
	sched, err := schedule.New(state.Recipe.Schedule)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stepDir, err)
	}
	useEMA := preferEMA && training.HasEMA(full)
	store, err := training.InferenceStore(full, useEMA)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stepDir, err)
	}
	return &Trained{
		Model: &diffusion.Model{Net: state.Recipe.Net, Schedule: sched},
		Store: store, State: state, Checkpoint: stepDir, EMA: useEMA || state.Exported == "ema",
	}, nil
}

// Export writes a slim checkpoint of a trained model into outDir/checkpoints: only the network
// weights (the EMA ones when preferEMA and available) and the training state (recipe, loss
// history), about 4 bytes per parameter, for shipping in the repository. It loads like any run
// directory (LoadTrained, `ddpm sample --model`), but cannot be resumed.
func Export(runDir, outDir string, preferEMA bool) (string, error) {
	t, err := LoadTrained(runDir, preferEMA)
	if err != nil {
		return "", err
	}
	if t.State.Exported != "" {
		return "", fmt.Errorf("%s is already an exported model", runDir)
	}
	t.State.Exported = map[bool]string{true: "ema", false: "raw"}[t.EMA]
	// A run trained with --hidden before runs were named after their width ships under its name.
	t.State.Recipe = recipe.Relabel(t.State.Recipe)
	if found, _ := ckpt.Latest(filepath.Join(outDir, training.CheckpointsDir)); found != nil {
		return "", fmt.Errorf("%s already holds a model (step %d): choose an empty directory", outDir, found.Step)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", outDir, err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(outDir, "recipe.json"), t.State.Recipe.JSON()); err != nil {
		return "", err
	}
	// GoMLX names checkpoint files after the store's global step: record it for readable names.
	optimizer.GetGlobalStepVar(t.Store).MustSetValue(tensors.FromValue(t.State.Step))
	w, err := ckpt.NewWriter(filepath.Join(outDir, training.CheckpointsDir), t.Store, 1)
	if err != nil {
		return "", err
	}
	return w.Save(t.State.Step, t.State)
}

// resolveCheckpoint returns the step directory to load from dir (see ckpt.Resolve), warning about
// damaged checkpoints it skipped.
func resolveCheckpoint(dir string) (string, error) {
	stepDir, skipped, err := ckpt.Resolve(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &MissingModelError{Dir: dir, Err: err}
	}
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "warning: skipping a damaged checkpoint: %v\n", s)
	}
	return stepDir, err
}

// CheckWritable verifies, before any long computation, that a file can be created at path (its
// directory is created if needed; nothing is left behind).
func CheckWritable(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// MissingModelError is returned when a model directory does not exist; it wraps fs.ErrNotExist.
type MissingModelError struct {
	Dir string
	Err error
}

func (e *MissingModelError) Error() string {
	return fmt.Sprintf("model directory %s does not exist", e.Dir)
}
func (e *MissingModelError) Unwrap() error { return e.Err }
