// Package rng owns every random stream of the project: each draw is a function of (seed, purpose,
// index), never of process history, so the same seed on the same backend gives the same numbers
// and a resumed run continues exactly where an interrupted one stopped. The purposes are listed
// here, in one place, so no two users share a stream by accident.
package rng

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Purpose separates the random streams derived from one seed.
type Purpose uint64

// The purposes. Values are part of the reproducibility contract: changing one changes results.
const (
	DataOrder      Purpose = iota + 1   // the permutation of each training epoch (index: epoch)
	StepNoise                           // t, ε and label dropout of each training step (index: step)
	Sampling                            // sampler noise (index: batch chunk)
	ClassifierEval Purpose = 0x636c6173 // noisy-classifier evaluation noise ("clas"; index: t<<32 | chunk)
	PriorMixture   Purpose = 0x70726d78 // the classes of a mixture prior's x_T draws ("prmx"; index: batch chunk)
)

// splitmix64 is a bijective 64-bit mixer (Steele et al.), used to derive independent seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// StreamSeed derives the two 64-bit words of a PCG stream from (seed, purpose, index).
func StreamSeed(seed int64, purpose Purpose, index int64) (uint64, uint64) {
	a := splitmix64(uint64(seed) ^ splitmix64(uint64(purpose)))
	b := splitmix64(a ^ splitmix64(uint64(index)+0x632be59bd9b4e019))
	return a, b
}

// GraphState is the graph RNG state (graph.RNGStateShape, [3]uint64) for (seed, purpose, index),
// the input of graph.RandomNormal and friends inside a compiled step.
func GraphState(seed int64, purpose Purpose, index int64) *tensors.Tensor {
	a, b := StreamSeed(seed, purpose, index)
	state := []uint64{a, b, splitmix64(a + b)}
	return tensors.FromFlatDataAndDimensions(state, graph.RNGStateShape.Dimensions...)
}

// PCG is a host-side generator for (seed, purpose, index).
func PCG(seed int64, purpose Purpose, index int64) *rand.PCG {
	return rand.NewPCG(StreamSeed(seed, purpose, index))
}
