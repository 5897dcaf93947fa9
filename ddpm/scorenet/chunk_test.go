package scorenet

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestChunkedBatchAgrees checks the Go-backend network built for 2 sub-batches (batch 40) against
// the same network applied to 5 slices of 8 examples (each built whole): outputs and every gradient
// agree to float32 round-off, for a class-conditional network (labels are split with the images).
func TestChunkedBatchAgrees(t *testing.T) {
	const batch, slice = 40, 8
	if layers.BatchChunks(batch) < 2 || layers.BatchChunks(slice) != 1 {
		t.Fatalf("test sizes do not exercise chunking: BatchChunks(%d) = %d, BatchChunks(%d) = %d",
			batch, layers.BatchChunks(batch), slice, layers.BatchChunks(slice))
	}
	rng := rand.New(rand.NewPCG(9, 10))
	x, tt, target := benchBatch(rng, batch)
	labelData := make([]int32, batch)
	for i := range labelData {
		labelData[i] = int32(rng.IntN(11))
	}
	labels := tensors.FromFlatDataAndDimensions(labelData, batch)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(5))
	cfg := Default()
	cfg.NumClasses = 10
	backend := goBackend(t)
	var names []string // trainable variables, in the order of the gradients
	run := func(chunked bool) []*tensors.Tensor {
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, x, tt, labels, target *Node) []*Node {
			var out *Node
			if chunked {
				out = cfg.Apply(scope, x, tt, labels, layers.Patches)
			} else {
				parts := make([]*Node, 0, batch/slice)
				for lo := 0; lo < batch; lo += slice {
					r := AxisRange(lo, lo+slice)
					parts = append(parts, cfg.Apply(scope.ResetVisited(), Slice(x, r), Slice(tt, r), Slice(labels, r), layers.Patches))
				}
				out = Concatenate(parts, 0)
			}
			loss := ReduceAllMean(Square(Sub(out, target)))
			grads, paths := testutil.TrainableGradients(store, loss)
			names = paths
			return append([]*Node{out}, grads...)
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Call(x, tt, labels, target)
		if err != nil {
			t.Fatal(err)
		}
		return outs
	}
	want := run(false) // creates and initialises the variables
	got := run(true)
	if len(got) != len(want) || len(want) < 30 {
		t.Fatalf("%d results, want %d (the output and the gradients of ~40 parameter tensors)", len(got), len(want))
	}
	for i := range want {
		what, tol, absolute := "output", 1e-5, false
		if i > 0 {
			what = "gradient of " + names[i-1]
			if strings.HasPrefix(names[i-1], "/dense7/") { // mathematically zero (see TestFormulationsAgree)
				tol, absolute = 1e-6, true
			}
		}
		compareScaled(t, what, tensors.MustCopyFlatData[float32](got[i]), tensors.MustCopyFlatData[float32](want[i]), tol, absolute)
	}
}
