// Package slicecheck checks the pure-Go backend's Slice against a plain Go reference on random
// shapes, starts, limits and strides. It runs in `go test ./...` with the stock backend and, built
// with bench/upstream/build.sh's -modfile, against the patched one whose fast path copies
// contiguous runs (bench/upstream/compute-v0.1.14-slice-runs.patch): the cases include whole
// inner axes, partial ones, strides on the inner and outer axes, and rank 1 to 5.
package slicecheck

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// sliceRef is strided slicing by definition: out[i…] = in[start + i·stride …], row-major.
func sliceRef(in []float32, dims, starts, limits, strides []int) (out []float32, outDims []int) {
	for a := range dims {
		outDims = append(outDims, (limits[a]-starts[a]+strides[a]-1)/strides[a])
	}
	flat := make([]int, len(dims)) // row-major strides of the input
	for a, size := len(dims)-1, 1; a >= 0; a-- {
		flat[a], size = size, size*dims[a]
	}
	var walk func(axis, offset int)
	walk = func(axis, offset int) {
		if axis == len(dims) {
			out = append(out, in[offset])
			return
		}
		for i := range outDims[axis] {
			walk(axis+1, offset+(starts[axis]+i*strides[axis])*flat[axis])
		}
	}
	walk(0, 0)
	return out, outDims
}

func TestSliceMatchesReference(t *testing.T) {
	backend := testutil.GoBackend(t)
	rng := rand.New(rand.NewPCG(15, 1))
	for c := range 300 {
		rank := 1 + rng.IntN(5)
		dims := make([]int, rank)
		size := 1
		for a := range dims {
			dims[a] = 1 + rng.IntN(7)
			size *= dims[a]
		}
		starts, limits, strides := make([]int, rank), make([]int, rank), make([]int, rank)
		specs := make([]graph.SliceAxisSpec, rank)
		for a, d := range dims {
			switch rng.IntN(3) {
			case 0: // whole axis: lets the fast path merge it into the run
				starts[a], limits[a], strides[a] = 0, d, 1
			default:
				starts[a] = rng.IntN(d)
				limits[a] = starts[a] + 1 + rng.IntN(d-starts[a])
				strides[a] = 1 + rng.IntN(2)*rng.IntN(3)
			}
			specs[a] = graph.AxisRange(starts[a], limits[a]).Stride(strides[a])
		}
		in := make([]float32, size)
		for i := range in {
			in[i] = float32(i) + 0.5
		}
		want, wantDims := sliceRef(in, dims, starts, limits, strides)
		name := fmt.Sprintf("case %d: dims %v starts %v limits %v strides %v", c, dims, starts, limits, strides)
		got, err := graph.ExecOnce(backend, func(x *graph.Node) *graph.Node { return graph.Slice(x, specs...) },
			tensors.FromFlatDataAndDimensions(in, dims...))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fmt.Sprint(got.Shape().Dimensions) != fmt.Sprint(wantDims) {
			t.Fatalf("%s: shape %v, want %v", name, got.Shape().Dimensions, wantDims)
		}
		gotFlat := tensors.MustCopyFlatData[float32](got)
		for i := range want {
			if gotFlat[i] != want[i] {
				t.Fatalf("%s: element %d is %v, want %v", name, i, gotFlat[i], want[i])
			}
		}
	}
}
