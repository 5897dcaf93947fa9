package figures

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

// Eval is one evaluation of a model's samples against the MNIST test set.
type Eval struct {
	Model    string  `json:"model"`    // recipe name
	Epoch    int     `json:"epoch"`    // completed epochs of the evaluated weights
	Step     int64   `json:"step"`     // training step of the evaluated weights
	Guidance float64 `json:"guidance"` // classifier-free guidance weight w (0: none)
	N        int     `json:"n"`        // samples
	Sampler  string  `json:"sampler"`  // how they were drawn
	Seed     int64   `json:"seed"`
	FID      float64 `json:"fid"`
	KID      float64 `json:"kid"`
	KIDStd   float64 `json:"kid_std"`
	// FIDFloor and KIDFloor are the values of N real MNIST training images: the best a generator
	// can get at this N.
	FIDFloor float64 `json:"fid_floor"`
	KIDFloor float64 `json:"kid_floor"`
	Score    float64 `json:"score"` // classifier score (Inception-Score-like), 1..10
	// Accuracy is the fraction of class-conditional samples the classifier assigns to their
	// requested class (NaN, stored as -1, for unconditional samples).
	Accuracy float64 `json:"accuracy"`
	Tool     string  `json:"tool"`
	// Seconds is the wall time of sampling and measuring (not drawn, not compared).
	Seconds float64 `json:"-"`
}

// HasAccuracy reports whether the evaluation measured class accuracy.
func (v Eval) HasAccuracy() bool { return v.Accuracy >= 0 }

// evalCacheFile is written in a model's run directory.
const evalCacheFile = "figures-evals.json"

type evalCache struct {
	path    string
	entries map[string]Eval
}

func loadEvalCache(dir string) *evalCache {
	c := &evalCache{path: filepath.Join(dir, evalCacheFile), entries: map[string]Eval{}}
	if data, err := os.ReadFile(c.path); err == nil {
		if json.Unmarshal(data, &c.entries) != nil {
			c.entries = map[string]Eval{}
		}
	}
	return c
}

func (c *evalCache) save() error {
	data, err := json.MarshalIndent(c.entries, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteBytes(c.path, append(data, '\n'))
}

// Evaluate draws e.Settings.EvalN samples of m with the evaluation sampler (class labels cycling
// 0..9 for a conditional model, guided with weight w when w ≠ 0: w = −1 is the unconditional
// prediction, the assignment's γ = 0) and measures FID, KID, the
// classifier score and class accuracy, each beside its real-data floor. Results are cached in the
// run directory (figures-evals.json; for a shipped model, in RunsDir/shipped/<recipe name>), keyed
// by everything that determines them.
func (e *Env) Evaluate(ctx context.Context, m *Model, w float64) (Eval, error) {
	o := e.Settings.Eval
	if w != 0 {
		o.Guidance = sampler.Guidance{Kind: "cfg", Scale: w}
	}
	return e.EvaluateWith(ctx, m, o, e.Settings.EvalN)
}

// EvaluateWith is Evaluate with explicit sampler options and number of samples (cached the same
// way). Class labels cycle 0..9 when the model is conditional or the guidance is a classifier's.
func (e *Env) EvaluateWith(ctx context.Context, m *Model, o sampler.Options, n int) (Eval, error) {
	ref, err := e.Reference(ctx)
	if err != nil {
		return Eval{}, fmt.Errorf("%w: %v", ErrNoEvaluation, err)
	}
	key := fmt.Sprintf("%s|step=%d|n=%d|%s|seed=%d|%s", m.Recipe.Name, m.State.Step, n, o.String(), o.Seed, ref.Tool())
	cacheDir := m.Dir
	if m.Shipped { // shipped directories are read-only material: their evaluations are cached under RunsDir
		cacheDir = filepath.Join(e.RunsDir, "shipped", m.Recipe.Name)
		key += fmt.Sprintf("|%s|params=%d", describeNet(m.Recipe), m.Parameters())
	}
	cache := loadEvalCache(cacheDir)
	cacheable := o.Guidance.Kind != "classifier" // the key does not identify the classifier's weights
	if v, ok := cache.entries[key]; ok && cacheable {
		return v, nil
	}
	start := time.Now()
	labels := sampler.BalancedLabels(m.Model, n)
	if o.Guidance.Kind == "classifier" {
		labels = sampler.CycleClasses(n, classifier.NumClasses)
	}
	fmt.Fprintf(e.Log, "evaluate %s at step %d: %d samples (%s)\n", m.Recipe.Name, m.State.Step, n, o.String())
	res, err := m.Sampler.Sample(ctx, n, labels, o, e.Log)
	if err != nil {
		return Eval{}, err
	}
	v, err := e.Measure(ctx, m, res, o)
	if err != nil {
		return Eval{}, err
	}
	v.Seconds = time.Since(start).Seconds()
	cache.entries[key] = v
	if cacheable {
		if err := cache.save(); err != nil {
			fmt.Fprintf(e.Log, "warning: evaluation not cached: %v\n", err)
		}
	}
	return v, nil
}

// Measure measures samples drawn from m with options o (not cached): FID, KID and the classifier
// score against the MNIST test set, class accuracy for requested labels, and the real-data floors
// at the same N.
func (e *Env) Measure(ctx context.Context, m *Model, res *sampler.Result, o sampler.Options) (Eval, error) {
	ref, err := e.Reference(ctx)
	if err != nil {
		return Eval{}, fmt.Errorf("%w: %v", ErrNoEvaluation, err)
	}
	meas, err := ref.Measure(ctx, res.Images, res.N, res.Labels)
	if err != nil {
		return Eval{}, err
	}
	v := Eval{Model: m.Recipe.Name, Epoch: int(m.State.Step / int64(max(1, m.State.StepsPerEpoch))), Step: m.State.Step,
		Guidance: o.Guidance.Scale, N: res.N, Sampler: o.String(), Seed: o.Seed, FID: meas.FID.FID, KID: meas.KID.Mean,
		KIDStd: meas.KID.Std, Score: meas.Score, Accuracy: -1, Tool: ref.Tool(), Seconds: res.Seconds}
	if !math.IsNaN(meas.Accuracy) {
		v.Accuracy = meas.Accuracy
	}
	if meas.Floor != nil {
		v.FIDFloor, v.KIDFloor = meas.Floor.FID, meas.Floor.KID
	}
	return v, nil
}

// EpochEvals evaluates the model at the end of every epoch (from its kept checkpoints; cached).
// Epochs whose checkpoint is gone and whose evaluation is not cached are skipped with a message.
// A model trained with end-of-epoch evaluations (recipe eval_samples, e.g. the shipped models,
// whose slim checkpoints hold only the final weights) reports those instead.
func (e *Env) EpochEvals(ctx context.Context, m *Model) ([]Eval, error) {
	if recorded := m.State.EpochEvals; len(recorded) > 0 {
		return recordedEvals(m.Recipe.Name, recorded), nil
	}
	var out []Eval
	var skipped []string
	for epoch := 1; epoch <= m.Epochs(); epoch++ {
		at, err := e.AtEpoch(m, epoch)
		if errors.Is(err, fs.ErrNotExist) {
			skipped = append(skipped, fmt.Sprint(epoch))
			continue
		}
		if err != nil {
			return nil, err
		}
		v, err := e.Evaluate(ctx, at, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(e.Log, "%s: no weights kept for epoch(s) %s: not evaluated\n", m.Recipe.Name, strings.Join(skipped, ", "))
	}
	return out, nil
}

// GuidanceEvals evaluates a class-conditional model at each guidance weight of the settings.
func (e *Env) GuidanceEvals(ctx context.Context, m *Model) ([]Eval, error) {
	if !m.Model.Conditional() {
		return nil, fmt.Errorf("%s is not class-conditional: no guidance sweep", m.Recipe.Name)
	}
	var out []Eval
	for _, w := range e.Settings.GuidanceSweep {
		v, err := e.Evaluate(ctx, m, w)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// recordedEvals converts the end-of-epoch evaluations kept in a training state.
func recordedEvals(model string, recorded []training.EpochEval) []Eval {
	out := make([]Eval, 0, len(recorded))
	for _, r := range recorded {
		v := Eval{Model: model, Epoch: r.Epoch, Step: r.Step, N: r.N, Sampler: r.Sampler,
			FID: r.Metrics["fid"], FIDFloor: r.Metrics["fid_floor"], KID: r.Metrics["kid"], KIDFloor: r.Metrics["kid_floor"],
			Score: r.Metrics["score"], Accuracy: -1, Tool: r.Tool}
		if acc, ok := r.Metrics["class_acc"]; ok {
			v.Accuracy = acc
		}
		out = append(out, v)
	}
	return out
}
