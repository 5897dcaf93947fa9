package training

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

const (
	// ModelScopeName and ModelScope name where a diffusion model's network variables live (owned
	// by package diffusion, repeated here for the training code).
	ModelScopeName = diffusion.ScopeName
	ModelScope     = diffusion.Scope
	// EMAScope mirrors ModelScope with the exponential moving averages of the trainable weights.
	EMAScope = "/ema"
)

// EMADecayAt is the EMA decay used at (1-based) step n: min(decay, (n−1)/(n+9)). At n = 1 it is 0,
// so the average starts at the first updated weights rather than being pulled toward the random
// initial ones; it reaches 0.9 at n = 91 and 0.99 at n = 991 (the warm-up of TensorFlow's
// ExponentialMovingAverage with num_updates, shifted by one step).
func EMADecayAt(decay float64, n int64) float64 {
	return min(decay, float64(n-1)/float64(n+9))
}

// addEMAUpdate updates, after the optimizer step, ema ← d·ema + (1−d)·w for every trainable
// variable of the model, with d = EMADecayAt(decay, globalStep).
func addEMAUpdate(g *Graph, store *model.Store, decay float64) {
	n := ConvertDType(optimizer.GetGlobalStepVar(store).NodeValue(g), dtypes.Float32) // incremented: 1-based
	d := Min(Div(SubScalar(n, 1), AddScalar(n, 9)), Scalar(g, dtypes.Float32, decay))
	var weights []*model.Variable
	for v := range store.IterVariables() {
		if v.Trainable && strings.HasPrefix(v.Path(), ModelScope+"/") && v.InUseByGraph(g) {
			weights = append(weights, v)
		}
	}
	for _, v := range weights {
		ema := store.VariableWithShape(EMAScope+v.Path(), v.Shape(), Zeros)
		ema.SetTrainable(false)
		w := v.NodeValue(g) // the value after this step's optimizer update
		ema.SetNodeValue(Add(Mul(d, ema.NodeValue(g)), Mul(OneMinus(d), w)))
	}
}

// ErrNoEMA is returned when EMA weights are asked of a model trained without them.
var ErrNoEMA = errors.New("no EMA weights in this model (it was trained with ema_decay = 0): use the raw weights")

// InferenceStore copies the network weights of a training store into a new store holding only
// ModelScope: with useEMA, each weight's moving average where one exists (an error if the store has
// no EMA at all), else the raw weights. Network constants without an average (the Fourier
// frequencies) are copied as they are.
func InferenceStore(src *model.Store, useEMA bool) (*model.Store, error) {
	if useEMA && !HasEMA(src) {
		return nil, ErrNoEMA
	}
	dst, n, err := CopyScope(src, ModelScope, func(v *model.Variable) *tensors.Tensor {
		if ema := src.GetVariable(EMAScope + v.Path()); useEMA && ema != nil {
			return ema.MustValue()
		}
		return v.MustValue()
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("the store has no network weights under %s", ModelScope)
	}
	return dst, nil
}

// CopyScope copies the variables of src under scope (an absolute scope such as ModelScope) into a
// new store, at the same paths and not trainable, and returns it with the number of variables
// copied. The value of each copy is a local clone of pick(v), or of v's own value if pick is nil.
func CopyScope(src *model.Store, scope string, pick func(v *model.Variable) *tensors.Tensor) (*model.Store, int, error) {
	dst := model.NewStore()
	n := 0
	for v := range src.IterVariables() {
		if !strings.HasPrefix(v.Path(), scope+"/") {
			continue
		}
		value := v.MustValue()
		if pick != nil {
			value = pick(v)
		}
		clone, err := value.LocalClone()
		if err != nil {
			return nil, 0, fmt.Errorf("copying %s: %w", v.Path(), err)
		}
		nv, err := dst.CreateVariable(v.Path(), clone)
		if err != nil {
			return nil, 0, err
		}
		nv.SetTrainable(false)
		n++
	}
	return dst, n, nil
}

// HasEMA reports whether the store holds EMA weights.
func HasEMA(store *model.Store) bool {
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Path(), EMAScope+"/") {
			return true
		}
	}
	return false
}
