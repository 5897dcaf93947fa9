package figures

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/fid/mnistcnn"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
)

// ShippedDir is where trained run directories may be committed, relative to the repository
// root: models/<recipe name>/checkpoints/... A model found there is loaded, not trained.
const ShippedDir = "models"

// FIDWeightsEnv names an environment variable that points the evaluation at another copy of the
// feature network (a directory written by `ddpm fid-train --out DIR`) instead of the shipped one.
const FIDWeightsEnv = "DDPM_FID_WEIGHTS"

// Env is what every figure and notebook cell needs: the backend, the mode and its settings, and
// where runs and data live.
type Env struct {
	Mode     Mode
	Settings Settings
	Backend  compute.Backend
	Info     backend.Info
	// Root is the repository root ("" if not found: runs then go under the working directory).
	Root string
	// RunsDir holds one run directory per model: <Root>/runs/report-<mode> by default (shared by the
	// notebooks and the figures command; `ddpm train` and `ddpm run` use runs/<recipe>).
	RunsDir string
	// Width > 0 is the only U-Net width whose shipped models stand for seed 000's D = 128 (WidthEnv;
	// 0: the widest shipped pair, see substitutes).
	Width int
	// DataDir is the MNIST directory ("" resolves mnist.Dir("")).
	DataDir string
	// Log receives progress bars and messages (os.Stdout if nil).
	Log io.Writer
	// Adjust, when set, changes every recipe after the mode's choices (tests use it to shrink
	// the runs further).
	Adjust func(r *recipe.Recipe)

	ref    *fid.Reference
	refErr error
	models map[string]*Model
}

// NewEnv opens the default backend (package backend: $GOMLX_BACKEND, else XLA where a PJRT plugin
// is installed, else the pure-Go backend) and returns the environment of a mode. $DDPM_NOTEBOOK_WIDTH
// (WidthEnv), when set, chooses the width of the shipped U-Net models; an invalid value is an error.
func NewEnv(mode Mode, log io.Writer) (*Env, error) {
	return NewEnvWith(mode, "", log)
}

// NewEnvWith is NewEnv with an explicit backend configuration ("" for the default).
func NewEnvWith(mode Mode, backendConfig string, log io.Writer) (*Env, error) {
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, err
	}
	if log == nil {
		log = os.Stdout
	}
	width, err := ParseWidth(os.Getenv(WidthEnv))
	if err != nil {
		return nil, err
	}
	b, info, err := backend.Open(backendConfig)
	if err != nil {
		return nil, err
	}
	e := &Env{Mode: mode, Settings: SettingsFor(mode), Backend: b, Info: info, Log: log, Width: width,
		models: map[string]*Model{}}
	if info.Name == "go" {
		// Batches of 64 are ~3× faster per image than 250 on the pure-Go backend (cache-sized).
		e.Settings.Sample.BatchSize, e.Settings.Eval.BatchSize = 64, 64
	}
	if wd, err := os.Getwd(); err == nil {
		if root, ok := mnist.RepoRoot(wd); ok {
			e.Root = root
		}
	}
	e.RunsDir = filepath.Join(e.Root, "runs", "report-"+string(mode))
	return e, nil
}

// MustEnv is NewEnv for notebooks: it panics on error.
func MustEnv(mode Mode) *Env {
	e, err := NewEnv(mode, nil)
	if err != nil {
		panic(err)
	}
	return e
}

// Recipe is the recipe of a model in this environment's mode (with Adjust applied).
func (e *Env) Recipe(name string) (recipe.Recipe, error) {
	r, err := Recipe(name, e.Mode)
	if err != nil {
		return r, err
	}
	if e.Adjust != nil {
		e.Adjust(&r)
		if err := r.Validate(); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Model is a trained model ready to sample, with its training history.
type Model struct {
	Name   string
	Recipe recipe.Recipe
	// Dir is the run directory (under RunsDir, or the shipped one).
	Dir     string
	Shipped bool
	// Stale, for a shipped model, says how its recipe differs from today's recipe of the same
	// name (a model trained before the recipe changed); "" when it matches.
	Stale string
	State training.State
	Model *diffusion.Model
	// Store holds the inference weights (EMA when the run kept an average).
	Store *model.Store
	EMA   bool
	// Sampler draws images from the model (compiled graphs are cached in it).
	Sampler *sampler.Sampler
}

// RunDir is the run directory of a model in this environment (whether or not it exists yet).
func (e *Env) RunDir(name string) (string, error) {
	r, err := e.Recipe(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(e.RunsDir, r.Name), nil
}

// Train returns the named model. Shipped checkpoints are preferred: models/<recipe name> of this
// mode, else models/<full recipe name> (a model trained with the seed recipe, e.g. on a GPU, is
// then shown even in quick mode: sampling it on the CPU takes seconds). Without them the model is
// trained in RunsDir/<recipe name>, continuing or reusing whatever an earlier run left there
// (training.Run with Resume: a finished run is only loaded). Models are cached in the Env.
func (e *Env) Train(ctx context.Context, name string) (*Model, error) {
	return e.train(ctx, name, true)
}

// TrainAsRecipe is Train without substitutes: only a model shipped under this mode's own recipe
// name (models/<recipe name>) is loaded, else the recipe is trained. Experiments that compare two
// recipes at the same training budget use it (in quick mode both are then trained for the quick
// budget; Train would put the shipped full-length model beside a quick one).
func (e *Env) TrainAsRecipe(ctx context.Context, name string) (*Model, error) {
	return e.train(ctx, name, false)
}

func (e *Env) train(ctx context.Context, name string, substitute bool) (*Model, error) {
	key := name
	if !substitute {
		key += " (as recipe)"
	}
	if m, ok := e.models[key]; ok {
		return m, nil
	}
	r, err := e.Recipe(name)
	if err != nil {
		return nil, err
	}
	candidates := []recipe.Recipe{r}
	if substitute {
		full, err := Recipe(name, Full)
		if err != nil {
			return nil, err
		}
		candidates = append(candidates, e.substitutes(full)...)
	}
	m := &Model{Name: name, Recipe: r}
	shipped, stale := e.chooseShipped(candidates)
	if shipped != "" {
		tr, err := app.LoadTrained(shipped, true)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(e.Log, "%s: loaded the shipped checkpoint %s (recipe %s, step %d, EMA weights: %v)\n", name,
			e.Rel(tr.Checkpoint), tr.State.Recipe.Name, tr.State.Step, tr.EMA)
		m.Recipe = tr.State.Recipe
		m.Dir, m.Shipped, m.State, m.Model, m.Store, m.EMA = shipped, true, tr.State, tr.Model, tr.Store, tr.EMA
		m.Stale = stale
		if stale != "" {
			fmt.Fprintf(e.Log, "%s: %s\n", name, stale)
		}
	} else {
		if substitute && e.Width > 0 && r.Net.Arch == network.UNet {
			fmt.Fprintf(e.Log, "%s: no shipped model of width D = %d (%s): training %s\n", name, e.Width, WidthEnv, r.Name)
		}
		m.Dir = filepath.Join(e.RunsDir, r.Name)
		res, err := training.Run(ctx, training.Options{Recipe: r, Dir: m.Dir, Resume: true, Backend: e.Backend,
			DataDir: e.DataDir, Log: relWriter{e.Log, e.Root}})
		if err != nil {
			return nil, err
		}
		m.EMA = training.HasEMA(res.Store)
		if m.Store, err = training.InferenceStore(res.Store, m.EMA); err != nil {
			return nil, err
		}
		m.State, m.Model = res.State, res.Model
	}
	m.Sampler = sampler.New(e.Backend, m.Store, m.Model)
	e.models[key] = m
	return m, nil
}

// Epochs returns the number of completed epochs of the model.
func (m *Model) Epochs() int { return len(m.State.EpochLosses) }

// EpochCheckpoint returns the checkpoint directory written at the end of epoch (1-based), or an
// error wrapping fs.ErrNotExist when it was not kept.
func (m *Model) EpochCheckpoint(epoch int) (string, error) {
	// An exported model keeps its epochs as snapshots (ddpm export --epochs); a run directory keeps
	// the checkpoint written at the end of the epoch (ddpm train --keep).
	snapshot := filepath.Join(m.Dir, app.EpochsDir, app.EpochDirName(epoch))
	if dir, _, err := ckpt.Resolve(snapshot); err == nil {
		return dir, nil
	}
	step := int64(epoch) * int64(m.State.StepsPerEpoch)
	dir := filepath.Join(m.Dir, training.CheckpointsDir, ckpt.StepDirName(step))
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.json")); err != nil {
		return "", fmt.Errorf("%s: no weights of epoch %d: neither %s (ddpm export --epochs) nor the checkpoint of step %d in %s: %w",
			m.Recipe.Name, epoch, snapshot, step, dir, fs.ErrNotExist)
	}
	return dir, nil
}

// AtEpoch returns the model as it was at the end of epoch (1-based), from its checkpoint.
func (e *Env) AtEpoch(m *Model, epoch int) (*Model, error) {
	if epoch == m.Epochs() && m.State.Step == int64(epoch)*int64(m.State.StepsPerEpoch) {
		return m, nil
	}
	dir, err := m.EpochCheckpoint(epoch)
	if err != nil {
		return nil, err
	}
	tr, err := app.LoadTrained(dir, true)
	if err != nil {
		return nil, err
	}
	return &Model{Name: m.Name, Recipe: m.Recipe, Dir: m.Dir, Shipped: m.Shipped, State: tr.State, Model: tr.Model,
		Store: tr.Store, EMA: tr.EMA, Sampler: sampler.New(e.Backend, tr.Store, tr.Model)}, nil
}

// Sample draws n images with options o (labels: nil, or n classes); progress goes to the Env's log.
func (e *Env) Sample(ctx context.Context, m *Model, n int, labels []int, o sampler.Options) (*sampler.Result, error) {
	return m.Sampler.Sample(ctx, n, labels, o, e.Log)
}

// Reference returns the FID/KID reference of the evaluation (the shipped MNIST feature network,
// or $DDPM_FID_WEIGHTS, measured on the MNIST test set; cached under data/fid), loaded once.
func (e *Env) Reference(ctx context.Context) (*fid.Reference, error) {
	if e.ref != nil || e.refErr != nil {
		return e.ref, e.refErr
	}
	var net *mnistcnn.Network
	var err error
	if dir := os.Getenv(FIDWeightsEnv); dir != "" {
		net, err = mnistcnn.LoadNetwork(e.Backend, dir)
	} else {
		net, err = mnistcnn.DefaultNetwork(e.Backend)
	}
	if err != nil {
		e.refErr = fmt.Errorf("the FID feature network is not available: %w", err)
		return nil, e.refErr
	}
	dataDir := mnist.Dir(e.DataDir)
	e.ref, e.refErr = fid.NewReference(ctx, net, dataDir, fid.CacheDir(dataDir), e.Log)
	return e.ref, e.refErr
}

// ErrNoEvaluation is wrapped by the errors of figures that need the FID network when it is missing.
var ErrNoEvaluation = errors.New("evaluation unavailable")

// Rel returns path relative to the repository root when it is inside it (for messages and
// notebook outputs that do not depend on where the checkout is).
func (e *Env) Rel(path string) string {
	if e.Root == "" {
		return path
	}
	if r, err := filepath.Rel(e.Root, path); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return r
	}
	return path
}

// relWriter shortens the repository root out of the paths in log messages.
type relWriter struct {
	w    io.Writer
	root string
}

func (r relWriter) Write(p []byte) (int, error) {
	if r.root == "" {
		return r.w.Write(p)
	}
	if _, err := r.w.Write([]byte(strings.ReplaceAll(string(p), r.root+string(filepath.Separator), ""))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Parameters counts the trainable network weights of a model (its inference store, less the fixed
// Fourier frequencies).
func (m *Model) Parameters() int {
	if m.State.Parameters > 0 {
		return m.State.Parameters
	}
	n := 0
	for v := range m.Store.IterVariables() {
		if !strings.HasSuffix(v.Path(), "/fourier/W") {
			n += v.Shape().Size()
		}
	}
	return n
}

// Background is context.Background(), for notebook cells.
func Background() context.Context { return context.Background() }
