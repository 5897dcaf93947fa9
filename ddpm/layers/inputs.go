package layers

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// CheckDenoiserInputs panics with a message naming the network (a graph-building error, reported
// by the exec that builds it) unless the inputs of a noise-prediction network are well formed:
// x [B, size, size, 1] float32, t [B] float32, and labels [B] int32 exactly when numClasses > 0
// (label numClasses is "no class"). It returns B.
func CheckDenoiserInputs(network string, x, t, labels *Node, size, numClasses int) (batch int) {
	if err := x.Shape().Check(dtypes.Float32, x.Shape().Dim(0), size, size, 1); err != nil {
		exceptions.Panicf("%s: x must be [B, %d, %d, 1] float32: %v", network, size, size, err)
	}
	batch = x.Shape().Dim(0)
	if err := t.Shape().Check(dtypes.Float32, batch); err != nil {
		exceptions.Panicf("%s: t must be [B=%d] float32: %v", network, batch, err)
	}
	switch {
	case numClasses > 0 && labels == nil:
		exceptions.Panicf("%s: the network is class-conditional (%d classes) but no labels were given "+
			"(use label %d for \"no class\")", network, numClasses, numClasses)
	case numClasses == 0 && labels != nil:
		exceptions.Panicf("%s: labels given to an unconditional network (num_classes = 0)", network)
	case labels != nil:
		if err := labels.Shape().Check(dtypes.Int32, batch); err != nil {
			exceptions.Panicf("%s: labels must be [B] int32: %v", network, err)
		}
	}
	return batch
}
