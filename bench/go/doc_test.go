// Package gobench holds measurements of GoMLX's pure-Go backend (v0.28.2, compute v0.1.2) that
// guided the channels-first formulation of the ScoreNet (package layers): the cost per element of
// single ops (TestOpCost, TestTranscendentalCost, TestSwishVariants), of the matrix products of
// the U-Net's layers (TestMatmulShapes), of each layer forward and backward (TestLayerCost) and
// of the parallel op executor (TestNodeOverhead). They print tables instead of asserting, and
// run only when asked:
//
//	GOBENCH=1 GOEXPERIMENT=simd go test -v -run Test ./bench/go/
//
// On a machine shared with other jobs, compare figures from the same run only.
package gobench

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// skipUnlessMeasuring skips a measurement unless $GOBENCH is set.
func skipUnlessMeasuring(t *testing.T) {
	t.Helper()
	if os.Getenv("GOBENCH") == "" {
		t.Skip("measurement: set GOBENCH=1 to run")
	}
}

// normalTensor is a vector of n values drawn from N(0, std²) with a fixed seed.
func normalTensor(n int, std float64) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64() * std)
	}
	return tensors.FromFlatDataAndDimensions(data, n)
}
