package scorenet

import (
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

func benchTrainStep(b *testing.B, batch int) {
	backend := goBackend(b)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	cfg := Default()
	trainer := train.NewTrainer(backend, store, func(scope *model.Scope, x, tt *Node) *Node {
		return cfg.Apply(scope, x, tt, nil, layers.Auto)
	}, loss.MeanSquaredError, optimizer.Adam().LearningRate(1e-3).Done(), nil, nil)
	mk := func() train.Batch {
		x := tensors.FromFlatDataAndDimensions(make([]float32, batch*28*28), batch, 28, 28, 1)
		tt := tensors.FromFlatDataAndDimensions(make([]float32, batch), batch)
		y := tensors.FromFlatDataAndDimensions(make([]float32, batch*28*28), batch, 28, 28, 1)
		return train.Batch{Inputs: []*tensors.Tensor{x, tt}, Labels: []*tensors.Tensor{y}}
	}
	for range 2 {
		if _, err := trainer.TrainStep(mk()); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		batchData := mk()
		b.StartTimer()
		if _, err := trainer.TrainStep(batchData); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTrainStepB100(b *testing.B) { benchTrainStep(b, 100) }
