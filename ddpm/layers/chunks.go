package layers

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// ChunkMinBatch is the smallest sub-batch BatchChunks makes.
const ChunkMinBatch = 16

// BatchChunks returns the number of independent sub-batches a network is built for on GoMLX's
// pure-Go backend: 2 for batches of at least 2·ChunkMinBatch, else 1.
//
// That backend runs each element-wise op on one core, and runs independent ops concurrently
// (ddpm/backend): two sub-batches make two independent chains of ops, so both cores work all the
// time instead of only in the matrix products (the ScoreNet's forward pass at batch 100 takes ~97
// ms instead of ~151 ms on 2 cores; four sub-batches were slower there). The rule depends on the
// batch size alone, never on the machine, so results stay reproducible across machines. The
// networks treat examples independently and the gradients are sums over the sub-batches, so the
// results equal those of the whole batch to float32 round-off (scorenet's TestChunkedBatchAgrees),
// though not bit for bit (the matrix kernels pick their blocking by size). Accelerators (the Stock
// formulation) are given whole batches.
func BatchChunks(batch int) int {
	if batch >= 2*ChunkMinBatch {
		return 2
	}
	return 1
}

// InBatchChunks builds a network once per sub-batch (BatchChunks(batch) of them) and concatenates
// the results on axis 0. fn gets a scope whose record of visited sub-scopes is fresh (so the
// sub-batches share every variable) and the range of its sub-batch on the batch axis, for Slice.
// With a single chunk fn gets scope itself and the whole batch.
func InBatchChunks(scope *model.Scope, batch int, fn func(scope *model.Scope, part SliceAxisSpec) *Node) *Node {
	chunks := BatchChunks(batch)
	if chunks == 1 {
		return fn(scope, AxisRange())
	}
	outs := make([]*Node, chunks)
	for i := range chunks {
		outs[i] = fn(scope.ResetVisited(), AxisRange(i*batch/chunks, (i+1)*batch/chunks))
	}
	return Concatenate(outs, 0)
}
