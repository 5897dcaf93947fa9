package app

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/training"
)

// EpochsDir is the sub-directory of an exported model that holds slim snapshots of its weights at
// the end of chosen epochs (epochs/epoch-01, epochs/epoch-05, ...): each one is itself an exported
// model (LoadTrained, `ddpm sample --model`), for the per-epoch sample grids of the course.
const EpochsDir = "epochs"

// EpochDirName is the name of epoch e's snapshot under EpochsDir.
func EpochDirName(e int) string { return fmt.Sprintf("epoch-%02d", e) }

var epochDirRe = regexp.MustCompile(`^epoch-(\d+)$`)

// EpochSnapshot is one epoch's snapshot of an exported model.
type EpochSnapshot struct {
	Epoch int    // number of completed epochs
	Dir   string // the snapshot, a model directory
}

// ExportEpochs writes outDir/epochs/epoch-NN for every epoch in epochs: a slim export (Export) of
// the run's checkpoint written at the end of that epoch, at step epoch × steps per epoch. The run
// must have kept those checkpoints (train with --keep larger than the number of epochs); a missing
// one is an error that names the epoch and its step, and nothing is written in that case. Call it
// before Export: it refuses an outDir that already holds a model.
func ExportEpochs(runDir, outDir string, epochs []int, preferEMA bool) ([]EpochSnapshot, error) {
	latest, err := resolveCheckpoint(runDir)
	if err != nil {
		return nil, err
	}
	var state training.State
	if err := ckpt.ReadState(latest, &state); err != nil {
		return nil, err
	}
	if state.StepsPerEpoch <= 0 {
		return nil, fmt.Errorf("%s: steps_per_epoch is %d in its state", latest, state.StepsPerEpoch)
	}
	ckptDir := filepath.Dir(latest)
	sources := make([]string, len(epochs))
	for i, e := range epochs {
		step := int64(e) * int64(state.StepsPerEpoch)
		if e < 1 || step > state.Step {
			return nil, fmt.Errorf("epoch %d is outside the run %s (1..%d epochs done)", e, runDir, state.Step/int64(state.StepsPerEpoch))
		}
		sources[i] = filepath.Join(ckptDir, ckpt.StepDirName(step))
		if _, err := ckpt.Verify(sources[i]); err != nil {
			return nil, fmt.Errorf("no intact checkpoint for the end of epoch %d (step %d) in %s: train with --keep "+
				"larger than the number of epochs to keep every epoch's checkpoint: %w", e, step, ckptDir, err)
		}
	}
	if found, _ := ckpt.Latest(filepath.Join(outDir, training.CheckpointsDir)); found != nil {
		return nil, fmt.Errorf("%s already holds a model (step %d): choose an empty directory", outDir, found.Step)
	}
	var out []EpochSnapshot
	for i, e := range epochs {
		dir := filepath.Join(outDir, EpochsDir, EpochDirName(e))
		if _, err := Export(sources[i], dir, preferEMA); err != nil {
			return out, fmt.Errorf("epoch %d: %w", e, err)
		}
		out = append(out, EpochSnapshot{Epoch: e, Dir: dir})
	}
	return out, nil
}

// EpochSnapshots lists the epoch snapshots of an exported model, by epoch; none is not an error.
func EpochSnapshots(modelDir string) ([]EpochSnapshot, error) {
	entries, err := os.ReadDir(filepath.Join(modelDir, EpochsDir))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []EpochSnapshot
	for _, d := range entries {
		m := epochDirRe.FindStringSubmatch(d.Name())
		if !d.IsDir() || m == nil {
			continue
		}
		e, _ := strconv.Atoi(m[1])
		out = append(out, EpochSnapshot{Epoch: e, Dir: filepath.Join(modelDir, EpochsDir, d.Name())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Epoch < out[j].Epoch })
	return out, nil
}
