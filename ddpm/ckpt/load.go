package ckpt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
)

// Verify checks a checkpoint directory against its manifest: every listed file present with the
// recorded size and sha256, and no checkpoint file missing from the list. Errors wrap ErrCorrupt
// and name the file.
func Verify(stepDir string) (*Manifest, error) {
	mPath := filepath.Join(stepDir, manifestName)
	data, err := os.ReadFile(mPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s is missing (the save did not complete)", ErrCorrupt, mPath)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, mPath, err)
	}
	if m.Format != formatName || m.Version != formatVer {
		return nil, fmt.Errorf("%w: %s: format %q version %d, want %q version %d",
			ErrCorrupt, mPath, m.Format, m.Version, formatName, formatVer)
	}
	if len(m.Files) == 0 {
		return nil, fmt.Errorf("%w: %s lists no files", ErrCorrupt, mPath)
	}
	for _, name := range slices.Sorted(maps.Keys(m.Files)) {
		want := m.Files[name]
		p := filepath.Join(stepDir, name)
		got, err := hashFile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, p, err)
		}
		if got.Size != want.Size {
			return nil, fmt.Errorf("%w: %s has %d bytes, the manifest records %d (truncated or overwritten)",
				ErrCorrupt, p, got.Size, want.Size)
		}
		if got.SHA256 != want.SHA256 {
			return nil, fmt.Errorf("%w: %s sha256 %s, the manifest records %s (the file was modified or damaged)",
				ErrCorrupt, p, got.SHA256, want.SHA256)
		}
	}
	if _, ok := m.Files[stateName]; !ok {
		return nil, fmt.Errorf("%w: %s does not list %s", ErrCorrupt, mPath, stateName)
	}
	return &m, nil
}

// Found describes a checkpoint chosen by Latest.
type Found struct {
	Dir  string
	Step int64
	// Skipped lists newer checkpoints that failed verification, with the reason, newest first.
	Skipped []error
}

// Latest returns the newest checkpoint in dir that verifies. With no checkpoint at all it returns
// (nil, nil); when every checkpoint is corrupt it returns an error listing why each was rejected.
func Latest(dir string) (*Found, error) {
	steps, err := listSteps(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	found := &Found{}
	for i := len(steps) - 1; i >= 0; i-- {
		d := filepath.Join(dir, StepDirName(steps[i]))
		m, err := Verify(d)
		if err != nil {
			found.Skipped = append(found.Skipped, err)
			continue
		}
		if m.Step != steps[i] {
			found.Skipped = append(found.Skipped, fmt.Errorf("%w: %s: manifest step %d does not match the directory name",
				ErrCorrupt, d, m.Step))
			continue
		}
		found.Dir, found.Step = d, steps[i]
		return found, nil
	}
	if len(found.Skipped) > 0 {
		return nil, fmt.Errorf("no intact checkpoint in %s: %w", dir, errors.Join(found.Skipped...))
	}
	return nil, nil
}

// Load verifies stepDir, loads its variables into store (immediately, so the values are in the
// store before any graph is built) and decodes its state.json into state (may be nil).
func Load(stepDir string, store *model.Store, state any) error {
	if _, err := Verify(stepDir); err != nil {
		return err
	}
	if state != nil {
		if err := ReadState(stepDir, state); err != nil {
			return err
		}
	}
	if _, err := checkpoint.Load(store).Dir(stepDir).Immediate().Done(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, stepDir, err)
	}
	return nil
}

// ReadState decodes a checkpoint's state.json into state (the manifest is not re-checked).
func ReadState(stepDir string, state any) error {
	p := filepath.Join(stepDir, stateName)
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("ckpt: %w", err)
	}
	if err := json.Unmarshal(data, state); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, p, err)
	}
	return nil
}

// RunSubdir is the sub-directory of a run directory that holds its checkpoints.
const RunSubdir = "checkpoints"

// Resolve finds the checkpoint to load from dir, which may be a run directory (checkpoints in
// RunSubdir), a checkpoints directory, or one step directory. It returns the newest intact step
// directory, and the newer damaged ones that were skipped with the reason. A missing dir is an error
// wrapping fs.ErrNotExist.
func Resolve(dir string) (stepDir string, skipped []error, err error) {
	if _, err := os.Stat(dir); err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, manifestName)); err == nil {
		return dir, nil, nil
	}
	for _, d := range []string{filepath.Join(dir, RunSubdir), dir} {
		found, err := Latest(d)
		if err != nil {
			return "", nil, err
		}
		if found != nil {
			return found.Dir, found.Skipped, nil
		}
	}
	return "", nil, fmt.Errorf("no checkpoint in %s (looked for %s/step-*/ and step-*/)", dir, RunSubdir)
}
