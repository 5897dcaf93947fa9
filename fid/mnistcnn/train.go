package mnistcnn

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/progress"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// TrainOptions configures [Train]. The zero value gives the recipe of the shipped weights except
// for Seed (the shipped weights use Seed 1).
type TrainOptions struct {
	Seed      int64   // parameter initialisation and data order (training.Permutation)
	Epochs    int     // passes over the 60k training images; 0 means DefaultTrainEpochs
	BatchSize int     // 0 means 100
	LR        float64 // Adam's peak learning rate; 0 means 1e-3 (cosine decay to 0 over the run)
	MaxSteps  int64   // > 0 stops after that many steps (tests, timing); the schedule is unchanged
	Command   string  // the command line, recorded in the manifest
	Backend   string  // the backend description, recorded in the manifest
	Log       io.Writer
}

// DefaultTrainEpochs is the number of epochs of the shipped weights.
const DefaultTrainEpochs = 6

func (o *TrainOptions) defaults() {
	if o.Epochs == 0 {
		o.Epochs = DefaultTrainEpochs
	}
	if o.BatchSize == 0 {
		o.BatchSize = 100
	}
	if o.LR == 0 {
		o.LR = 1e-3
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Train trains mnist-cnn-v1 on trainSet with GoMLX (train.Trainer, Adam, softmax cross-entropy,
// no augmentation) and returns the trained network with its test and training accuracy in the
// manifest. Everything random is a function of Seed: the initial weights (the store's
// ParamInitialSeed) and the data order (training.Permutation(N, Seed, epoch); the last partial
// batch of an epoch is dropped). On one backend the same options give the same weights bit for
// bit, hence the same [Network.Hash].
func Train(ctx context.Context, b compute.Backend, trainSet, testSet *mnist.Set, o TrainOptions) (*Network, error) {
	o.defaults()
	switch {
	case o.Seed == 0:
		return nil, fmt.Errorf("fid: Train: seed 0 means a random seed in GoMLX; use a fixed seed ≠ 0")
	case o.Epochs < 1 || o.BatchSize < 1 || !(o.LR > 0):
		return nil, fmt.Errorf("fid: Train: epochs %d, batch size %d, learning rate %g: must be positive", o.Epochs, o.BatchSize, o.LR)
	case trainSet.Height != fid.ImageSize || trainSet.Width != fid.ImageSize:
		return nil, fmt.Errorf("fid: Train: %s has %d×%d images, want 28×28", trainSet.Name, trainSet.Height, trainSet.Width)
	case trainSet.N < o.BatchSize:
		return nil, fmt.Errorf("fid: Train: %s has %d images, fewer than one batch (%d)", trainSet.Name, trainSet.N, o.BatchSize)
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, o.Seed)
	spe := trainSet.N / o.BatchSize
	total := int64(o.Epochs) * int64(spe)
	steps := total
	if o.MaxSteps > 0 && o.MaxSteps < steps {
		steps = o.MaxSteps
	}
	modelFn := func(scope *model.Scope, x *graph.Node) *graph.Node {
		cosineLR(scope, x.Graph(), o.LR, total)
		_, logits := cnnGraph(scope, x)
		return logits
	}
	trainer := train.NewTrainer(b, store, modelFn, loss.SparseCategoricalCrossEntropyLogits,
		optimizer.Adam().LearningRate(o.LR).Done(), nil, nil)

	fmt.Fprintf(o.Log, "training %s (%d parameters) on %s: seed %d, %d epochs × %d steps of %d images, Adam lr %g with cosine decay\n",
		NetworkName, NumParameters(), trainSet.Name, o.Seed, o.Epochs, spe, o.BatchSize, o.LR)
	bar := progress.New(o.Log, "train "+NetworkName, int(steps), "steps")
	start := time.Now()
	var perm []int
	var lossSum float64
	for step := int64(0); step < steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fid: Train interrupted at step %d: %w", step, err)
		}
		epoch := int(step / int64(spe))
		if step%int64(spe) == 0 {
			perm = training.Permutation(trainSet.N, o.Seed, epoch)
			lossSum = 0
		}
		first := int(step%int64(spe)) * o.BatchSize
		images := make([]float32, o.BatchSize*fid.ImagePixels)
		labels := make([]int32, o.BatchSize)
		for i, idx := range perm[first : first+o.BatchSize] {
			copy(images[i*fid.ImagePixels:(i+1)*fid.ImagePixels], trainSet.Image(idx))
			labels[i] = int32(trainSet.Labels[idx])
		}
		metrics, err := trainer.TrainStep(train.Batch{
			Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, o.BatchSize, fid.ImageSize, fid.ImageSize)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, o.BatchSize, 1)},
		})
		if err != nil {
			return nil, fmt.Errorf("fid: Train step %d: %w", step, err)
		}
		l := tensors.ToScalar[float32](metrics[0])
		if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
			return nil, fmt.Errorf("fid: Train: loss is %v at step %d", l, step)
		}
		lossSum += float64(l)
		inEpoch := step%int64(spe) + 1
		bar.Update(int(step+1), fmt.Sprintf("epoch %d/%d, mean loss %.4f", epoch+1, o.Epochs, lossSum/float64(inEpoch)))
	}
	seconds := time.Since(start).Seconds()
	bar.Finish(fmt.Sprintf("%.0fs", seconds))

	info := TrainInfo{
		Command: o.Command, Seed: o.Seed, Epochs: o.Epochs, BatchSize: o.BatchSize, LearningRate: o.LR,
		Schedule: "Adam, lr cosine-decayed from the peak to 0 over all steps, softmax cross-entropy, no augmentation",
		Steps:    steps, Data: fmt.Sprintf("%s (%d images), order training.Permutation(N, seed, epoch)", trainSet.Name, trainSet.N),
		Backend: o.Backend, Seconds: math.Round(seconds), GoVersion: runtime.Version(),
	}
	net, err := networkFromStore(b, store, info)
	if err != nil {
		return nil, err
	}
	if testSet != nil {
		if net.manifest.Training.TestAccuracy, err = net.Accuracy(testSet); err != nil {
			return nil, err
		}
	}
	if net.manifest.Training.TrainAccuracy, err = net.Accuracy(trainSet); err != nil {
		return nil, err
	}
	return net, nil
}

// cosineLR sets Adam's learning rate in the graph to lr·½(1+cos(π·step/total)), with step the
// (not yet incremented) global step.
func cosineLR(scope *model.Scope, g *graph.Graph, lr float64, total int64) {
	step := graph.ConvertDType(optimizer.GetGlobalStepVar(scope).NodeValue(g), dtypes.Float64)
	frac := graph.MinScalar(graph.DivScalar(step, float64(total)), 1)
	factor := graph.MulScalar(graph.OnePlus(graph.Cos(graph.MulScalar(frac, math.Pi))), 0.5)
	optimizer.LearningRateVar(scope, dtypes.Float32, lr).SetNodeValue(graph.ConvertDType(graph.MulScalar(factor, lr), dtypes.Float32))
}

// Accuracy returns the fraction of set's images whose predicted class is their label.
func (n *Network) Accuracy(set *mnist.Set) (float64, error) {
	if set.Height != fid.ImageSize || set.Width != fid.ImageSize || set.N < 1 {
		return 0, fmt.Errorf("fid: Accuracy: %s has %d images of %d×%d, want ≥ 1 of 28×28", set.Name, set.N, set.Height, set.Width)
	}
	probs, err := n.Probabilities(set.Images, set.N)
	if err != nil {
		return 0, err
	}
	return fid.Accuracy(probs, set.Labels), nil
}
