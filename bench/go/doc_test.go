// Package gobench holds measurements of GoMLX's pure-Go backend (v0.28.2, compute v0.1.2) that
// guided the channels-first formulation of the ScoreNet (package layers): the cost per element of
// single ops (BenchmarkOpCost, BenchmarkTranscendentalCost, BenchmarkSwishVariants), of the
// matrix products of the U-Net's layers (BenchmarkMatmulShapes), of each layer forward and backward
// (BenchmarkLayerCost) and of the parallel op executor (BenchmarkNodeOverhead). Each times its own
// repetitions and prints a table, once (they skip the framework's N > 1 rounds):
//
//	GOEXPERIMENT=simd go test -run '^$' -bench . -benchtime 1x ./bench/go/
//
// On a machine shared with other jobs, compare figures from the same run only.
package gobench

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"
)

// normalTensor is a vector of n values drawn from N(0, std²) with a fixed seed.
func normalTensor(n int, std float64) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64() * std)
	}
	return tensors.FromFlatDataAndDimensions(data, n)
}
