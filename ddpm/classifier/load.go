package classifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/rng"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Trained is a classifier loaded for inference.
type Trained struct {
	Classifier *Classifier
	// Store holds only the classifier's weights, under Scope (not trainable).
	Store      *model.Store
	State      State
	Checkpoint string
}

// Load loads the newest intact checkpoint of a classifier run directory (or a checkpoints or step
// directory). A diffusion model's directory is rejected with an error saying so.
func Load(dir string) (*Trained, error) {
	stepDir, err := resolveCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	var state State
	if err := ckpt.ReadState(stepDir, &state); err != nil {
		return nil, err
	}
	if state.Format != Format {
		return nil, fmt.Errorf("%s is not a noisy-classifier checkpoint (format %q; a diffusion model's run directory "+
			"is not a classifier): %w", stepDir, state.Format, ErrNoClassifier)
	}
	full := model.NewStore()
	if err := ckpt.Load(stepDir, full, &state); err != nil {
		return nil, err
	}
	if err := state.Spec.Net.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", stepDir, err)
	}
	sched, err := schedule.New(state.Spec.Schedule)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stepDir, err)
	}
	return inference(&Classifier{Net: state.Spec.Net, Schedule: sched}, full, state, stepDir)
}

// inference copies the classifier's weights of a training store into a new store.
func inference(c *Classifier, src *model.Store, state State, checkpoint string) (*Trained, error) {
	dst, n, err := training.CopyScope(src, Scope, nil)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no classifier weights under %s", checkpoint, Scope)
	}
	return &Trained{Classifier: c, Store: dst, State: state, Checkpoint: checkpoint}, nil
}

// resolveCheckpoint returns the step directory to load from dir (see ckpt.Resolve), warning about
// damaged checkpoints it skipped.
func resolveCheckpoint(dir string) (string, error) {
	stepDir, skipped, err := ckpt.Resolve(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("classifier directory %s does not exist: %w", dir, ErrNoClassifier)
	}
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "warning: skipping a damaged checkpoint: %v\n", s)
	}
	return stepDir, err
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// PredictBatch is the largest number of images a Predictor evaluates per call.
const PredictBatch = 500

// Predictor runs a trained classifier on images held on the host.
type Predictor struct {
	c    *Classifier
	exec *model.Exec
}

// Predictor compiles the classifier on backend b (once per Trained and backend, on first use).
func (tr *Trained) Predictor(b compute.Backend) *Predictor {
	c := tr.Classifier
	exec := model.MustNewExec(b, tr.Store, func(scope *model.Scope, x0, t, rng *Node) *Node {
		batch := x0.Shape().Dim(0)
		tt := BroadcastToDims(t, batch)
		_, eps := RandomNormal(rng, x0.Shape())
		xt := diffusion.AddNoise(c.Schedule, x0, tt, eps)
		return Softmax(c.Logits(scope.In(ScopeName), xt, tt))
	})
	return &Predictor{c: c, exec: exec}
}

// Probabilities returns p(y | x_t, t), n×10 row-major, of the n images x0 (n×28×28 in [−1, 1])
// noised to diffusion step t (1..T) with ε from (seed, t, batch index): deterministic.
func (p *Predictor) Probabilities(x0 []float32, n, t int, seed int64) ([]float32, error) {
	const pixels = scorenet.ImageSize * scorenet.ImageSize
	if n < 1 || len(x0) != n*pixels {
		return nil, fmt.Errorf("classifier: %d values for %d images of 28×28", len(x0), n)
	}
	if err := p.c.Schedule.CheckStep(t); err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	out := make([]float32, 0, n*NumClasses)
	size := min(n, PredictBatch) // one compiled graph per size: n < PredictBatch, or PredictBatch
	batch := make([]float32, size*pixels)
	for chunk := 0; chunk*size < n; chunk++ {
		lo, hi := chunk*size, min(n, (chunk+1)*size)
		clear(batch[copy(batch, x0[lo*pixels:hi*pixels]):]) // the last batch is padded with zeros
		outs, err := p.exec.Call(tensors.FromFlatDataAndDimensions(batch, size, scorenet.ImageSize, scorenet.ImageSize, 1),
			tensors.FromScalar(int32(t)), rng.GraphState(seed, rng.ClassifierEval, int64(t)<<32|int64(chunk)))
		if err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
		out = append(out, tensors.MustCopyFlatData[float32](outs[0])[:(hi-lo)*NumClasses]...)
		outs[0].MustFinalizeAll()
	}
	return out, nil
}

// Predict returns the most probable class of each image at step t (see Probabilities).
func (p *Predictor) Predict(x0 []float32, n, t int, seed int64) ([]int, error) {
	probs, err := p.Probabilities(x0, n, t, seed)
	if err != nil {
		return nil, err
	}
	classes := make([]int, n)
	for i := range classes {
		row := probs[i*NumClasses : (i+1)*NumClasses]
		for k, v := range row {
			if v > row[classes[i]] {
				classes[i] = k
			}
		}
	}
	return classes, nil
}

// Accuracy is the fraction of set's images classified correctly at each step of steps.
func (p *Predictor) Accuracy(set *mnist.Set, steps []int, seed int64) ([]LevelAccuracy, error) {
	acc := make([]LevelAccuracy, 0, len(steps))
	for _, t := range steps {
		pred, err := p.Predict(set.Images, set.N, t, seed)
		if err != nil {
			return nil, err
		}
		correct := 0
		for i, y := range pred {
			if y == set.Labels[i] {
				correct++
			}
		}
		acc = append(acc, LevelAccuracy{T: t, Accuracy: float64(correct) / float64(set.N), N: set.N})
	}
	return acc, nil
}
