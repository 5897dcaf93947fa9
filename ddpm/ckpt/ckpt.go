// Package ckpt stores training checkpoints atomically and verifies them on load.
//
// GoMLX's checkpoint.Handler (v0.28.2) writes its .json and .bin files in place, without fsync or
// rename, so a crash during Save leaves a half-written "latest" checkpoint that the next load would
// pick. Here GoMLX still serialises the variables, but into a staging directory; this package then
// adds the run's own state (state.json), fsyncs every file, writes a MANIFEST.json with the size
// and sha256 of each file, and renames the staging directory to its final name step-NNNNNNNN (an
// atomic operation on POSIX file systems), then fsyncs the parent. A checkpoint directory either
// exists complete and verified, or not at all; loading re-checks every size and hash and falls
// back to the newest intact checkpoint, saying which one was skipped and why.
//
// Layout of a checkpoint directory:
//
//	<dir>/step-00001200/checkpoint-n…-step-00001200.{json,bin}   (GoMLX)
//	<dir>/step-00001200/state.json                             (training state of this package's caller)
//	<dir>/step-00001200/MANIFEST.json                          (written last)
package ckpt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ddpm-go/ddpm/internal/atomicfile"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
)

const (
	manifestName = "MANIFEST.json"
	stateName    = "state.json"
	stepPrefix   = "step-"
	stagingName  = ".staging"
	formatName   = "ddpm-checkpoint"
	formatVer    = 1
)

// MetricsScope holds GoMLX's training metrics, which are not saved.
const MetricsScope = "/metrics"

// ErrCorrupt is wrapped by every verification failure.
var ErrCorrupt = errors.New("corrupt checkpoint")

// Manifest lists the files of a checkpoint with their sizes and sha256.
type Manifest struct {
	Format  string               `json:"format"`
	Version int                  `json:"version"`
	Step    int64                `json:"step"`
	Files   map[string]FileEntry `json:"files"`
}

// FileEntry is one file of a Manifest.
type FileEntry struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Writer saves checkpoints of one model.Store into dir.
type Writer struct {
	dir     string
	store   *model.Store
	handler *checkpoint.Handler
	keep    int
}

// NewWriter prepares dir for saving checkpoints of store, keeping the newest `keep` (>= 1).
// A staging directory left by an interrupted save is discarded.
func NewWriter(dir string, store *model.Store, keep int) (*Writer, error) {
	if keep < 1 {
		return nil, fmt.Errorf("ckpt: keep = %d, must be >= 1", keep)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ckpt: creating checkpoint directory: %w", err)
	}
	staging := filepath.Join(dir, stagingName)
	if err := os.RemoveAll(staging); err != nil {
		return nil, fmt.Errorf("ckpt: removing the staging directory of an interrupted save: %w", err)
	}
	if err := os.Mkdir(staging, 0o755); err != nil {
		return nil, fmt.Errorf("ckpt: %w", err)
	}
	// An empty directory: GoMLX loads nothing and only attaches for saving.
	h, err := checkpoint.Build(store).Dir(staging).Keep(-1).WithCompression(checkpoint.BinUncompressed).Done()
	if err != nil {
		return nil, fmt.Errorf("ckpt: %w", err)
	}
	return &Writer{dir: dir, store: store, handler: h, keep: keep}, nil
}

// Dir is the checkpoint directory.
func (w *Writer) Dir() string { return w.dir }

// Save writes the store's variables and state (any JSON-serialisable value) as the checkpoint of
// the given step, atomically, then removes checkpoints beyond the newest `keep`. It returns the
// final directory.
func (w *Writer) Save(step int64, state any) (string, error) {
	staging := filepath.Join(w.dir, stagingName)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return "", fmt.Errorf("ckpt: %w", err)
	}
	// GoMLX's trainer keeps display-only metrics (a moving-average loss) in variables named with a
	// per-trainer UUID; they are not model state and would pile up across resumed sessions.
	for v := range w.store.IterVariables() {
		if strings.HasPrefix(v.Path(), MetricsScope+"/") {
			w.handler.ExcludeVarsFromSaving(v)
		}
	}
	if err := w.handler.Save(); err != nil {
		return "", fmt.Errorf("ckpt: GoMLX save into %s: %w", staging, err)
	}
	stateJSON, err := json.MarshalIndent(state, "", " ")
	if err != nil {
		return "", fmt.Errorf("ckpt: encoding state: %w", err)
	}
	if err := writeFileSync(filepath.Join(staging, stateName), stateJSON); err != nil {
		return "", err
	}
	m := Manifest{Format: formatName, Version: formatVer, Step: step, Files: map[string]FileEntry{}}
	entries, err := os.ReadDir(staging)
	if err != nil {
		return "", fmt.Errorf("ckpt: %w", err)
	}
	for _, e := range entries {
		p := filepath.Join(staging, e.Name())
		if err := syncFile(p); err != nil {
			return "", err
		}
		fe, err := hashFile(p)
		if err != nil {
			return "", err
		}
		m.Files[e.Name()] = fe
	}
	mJSON, _ := json.MarshalIndent(m, "", " ")
	if err := writeFileSync(filepath.Join(staging, manifestName), mJSON); err != nil {
		return "", err
	}
	if err := syncDir(staging); err != nil {
		return "", err
	}
	if pause := os.Getenv(PauseEnv); pause != "" {
		faultInjectionPause(pause, step)
	}
	final := filepath.Join(w.dir, StepDirName(step))
	if err := os.RemoveAll(final); err != nil { // a previous save of the same step (e.g. re-run)
		return "", fmt.Errorf("ckpt: %w", err)
	}
	if err := os.Rename(staging, final); err != nil {
		return "", fmt.Errorf("ckpt: publishing %s: %w", final, err)
	}
	if err := syncDir(w.dir); err != nil {
		return "", err
	}
	return final, w.prune()
}

// PauseEnv names a fault-injection switch for crash tests: when set to a duration (e.g. "2s"),
// Save announces "ckpt: staged step N" on stderr and sleeps that long after writing every file but
// before publishing the checkpoint, so a test can kill the process in the middle of a save.
const PauseEnv = "DDPM_TEST_CHECKPOINT_PAUSE"

func faultInjectionPause(pause string, step int64) {
	d, err := time.ParseDuration(pause)
	if err != nil {
		return
	}
	fmt.Fprintf(os.Stderr, "ckpt: staged step %d\n", step)
	time.Sleep(d)
}

// StepDirName is the directory name of a step's checkpoint.
func StepDirName(step int64) string { return fmt.Sprintf("%s%08d", stepPrefix, step) }

// prune removes all but the newest `keep` step directories (intact or not).
func (w *Writer) prune() error {
	steps, err := listSteps(w.dir)
	if err != nil {
		return err
	}
	for i := 0; i+w.keep < len(steps); i++ {
		if err := os.RemoveAll(filepath.Join(w.dir, StepDirName(steps[i]))); err != nil {
			return fmt.Errorf("ckpt: removing old checkpoint: %w", err)
		}
	}
	return nil
}

// listSteps returns the steps of the step-* directories in dir, ascending.
func listSteps(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ckpt: listing %s: %w", dir, err)
	}
	var steps []int64
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), stepPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		if s, err := strconv.ParseInt(name, 10, 64); err == nil {
			steps = append(steps, s)
		}
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	return steps, nil
}

func hashFile(path string) (FileEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileEntry{}, fmt.Errorf("ckpt: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileEntry{}, fmt.Errorf("ckpt: reading %s: %w", path, err)
	}
	return FileEntry{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// writeFileSync writes data to path, fsynced (atomically, though the staging directory is what
// makes a checkpoint atomic).
func writeFileSync(path string, data []byte) error {
	if err := atomicfile.WriteBytes(path, data); err != nil {
		return fmt.Errorf("ckpt: %w", err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("ckpt: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("ckpt: syncing %s: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory (package atomicfile).
func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("ckpt: syncing directory %s: %w", dir, err)
	}
	return nil
}
