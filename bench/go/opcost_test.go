package gobench

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func timeIt(t testing.TB, name string, elems int, fn func(g *Graph, x *Node) *Node, dims ...int) {
	backend := testutil.GoBackend(t)
	exec, err := NewExec(backend, func(x *Node) *Node { return fn(x.Graph(), x) })
	if err != nil {
		t.Fatal(err)
	}
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(i%97) * 0.01
	}
	x := tensors.FromFlatDataAndDimensions(data, dims...)
	var ts []float64
	for i := range 12 {
		st := time.Now()
		out, err := exec.Call1(x)
		if err != nil {
			t.Fatal(err)
		}
		out.FinalizeAll()
		if i >= 2 {
			ts = append(ts, float64(time.Since(st).Microseconds())/1000)
		}
	}
	sort.Float64s(ts)
	med := ts[len(ts)/2]
	if elems == 0 {
		elems = n
	}
	fmt.Printf("%-40s %8.3f ms  %6.2f ns/elem\n", name, med, med*1e6/float64(elems))
}

func BenchmarkOpCost(b *testing.B) {
	t := b // one measurement per run: it times its own repetitions and prints a table
	if b.N > 1 {
		b.Skip("measured at N = 1")
	}
	C, B, H, W := 32, 100, 26, 26
	N := C * B * H * W
	timeIt(t, "identity(copy via Add 0)", N, func(g *Graph, x *Node) *Node { return AddScalar(x, 0) }, C, B, H, W)
	timeIt(t, "Add same shape", N, func(g *Graph, x *Node) *Node { return Add(x, Sqrt(x)) }, C, B, H, W)
	timeIt(t, "Sqrt", N, func(g *Graph, x *Node) *Node { return Sqrt(x) }, C, B, H, W)
	timeIt(t, "Mul same shape (x*x)", N, func(g *Graph, x *Node) *Node { return Mul(x, x) }, C, B, H, W)
	timeIt(t, "Logistic", N, func(g *Graph, x *Node) *Node { return Logistic(x) }, C, B, H, W)
	timeIt(t, "Exp", N, func(g *Graph, x *Node) *Node { return Exp(x) }, C, B, H, W)
	timeIt(t, "Add bcast [C,B,1,1]", N, func(g *Graph, x *Node) *Node {
		return Add(x, Slice(x, AxisRange(), AxisRange(), AxisRange(0, 1), AxisRange(0, 1)))
	}, C, B, H, W)
	timeIt(t, "Add bcast [C,1,1,1]", N, func(g *Graph, x *Node) *Node {
		return Add(x, Slice(x, AxisRange(), AxisRange(0, 1), AxisRange(0, 1), AxisRange(0, 1)))
	}, C, B, H, W)
	timeIt(t, "Add bcast [1,B,H,W]", N, func(g *Graph, x *Node) *Node {
		return Add(x, Slice(x, AxisRange(0, 1)))
	}, C, B, H, W)
	timeIt(t, "BroadcastInDim [C,B]->[C,B,HW] + Add", N, func(g *Graph, x *Node) *Node {
		s := Reshape(Slice(x, AxisRange(), AxisRange(), AxisRange(0, 1), AxisRange(0, 1)), C, B)
		bb := BroadcastToDims(InsertAxes(s, -1), C, B, H*W)
		return Add(Reshape(x, C, B, H*W), bb)
	}, C, B, H, W)
	timeIt(t, "Slice crop 1:25 on H,W", C*B*24*24, func(g *Graph, x *Node) *Node {
		return Slice(x, AxisRange(), AxisRange(), AxisRange(1, 25), AxisRange(1, 25))
	}, C, B, H, W)
	timeIt(t, "Slice stride2 on H,W", C*B*13*13, func(g *Graph, x *Node) *Node {
		return Slice(x, AxisRange(), AxisRange(), AxisRange().Stride(2), AxisRange().Stride(2))
	}, C, B, H, W)
	timeIt(t, "Slice axis0 half", N/2, func(g *Graph, x *Node) *Node {
		return Slice(x, AxisRange(0, C/2))
	}, C, B, H, W)
	timeIt(t, "Transpose CBHW->BHWC", N, func(g *Graph, x *Node) *Node { return TransposeAllAxes(x, 1, 2, 3, 0) }, C, B, H, W)
	timeIt(t, "Transpose 2D [C, BHW]->[BHW,C]", N, func(g *Graph, x *Node) *Node {
		return Transpose(Reshape(x, C, B*H*W), 0, 1)
	}, C, B, H, W)
	timeIt(t, "Concat axis0", 2*N, func(g *Graph, x *Node) *Node { return Concatenate([]*Node{x, x}, 0) }, C, B, H, W)
	timeIt(t, "Concat last axis", 2*N, func(g *Graph, x *Node) *Node { return Concatenate([]*Node{x, x}, -1) }, C, B, H, W)
	timeIt(t, "ReduceSum axes 2,3", N, func(g *Graph, x *Node) *Node { return ReduceSum(x, 2, 3) }, C, B, H, W)
	timeIt(t, "ReduceSum axes 1,2,3", N, func(g *Graph, x *Node) *Node { return ReduceSum(x, 1, 2, 3) }, C, B, H, W)
	timeIt(t, "ReduceSum axes 0", N, func(g *Graph, x *Node) *Node { return ReduceSum(x, 0) }, C, B, H, W)
	timeIt(t, "Dot ones [CB,HW]x[HW] (Transposed)", N, func(g *Graph, x *Node) *Node {
		ones := Ones(g, shapes.Make(dtypes.Float32, 1, H*W))
		return Dot(Reshape(x, C*B, H*W), ones).General([]int{1}, nil, []int{1}, nil)
	}, C, B, H, W)
	timeIt(t, "Dot ones [CB,HW]x[HW,1] (NonTransp)", N, func(g *Graph, x *Node) *Node {
		ones := Ones(g, shapes.Make(dtypes.Float32, H*W, 1))
		return Dot(Reshape(x, C*B, H*W), ones).General([]int{1}, nil, []int{0}, nil)
	}, C, B, H, W)
	timeIt(t, "Dot ones [1,C]x[C,BHW]", N, func(g *Graph, x *Node) *Node {
		ones := Ones(g, shapes.Make(dtypes.Float32, 1, C))
		return Dot(ones, Reshape(x, C, B*H*W)).General([]int{1}, nil, []int{0}, nil)
	}, C, B, H, W)
	timeIt(t, "Dot batched self [CB,HW].[CB,HW]", N, func(g *Graph, x *Node) *Node {
		r := Reshape(x, C*B, 1, H*W)
		return Dot(r, r).General([]int{2}, []int{0}, []int{2}, []int{0})
	}, C, B, H, W)
	timeIt(t, "Pad H,W +1 each side", N, func(g *Graph, x *Node) *Node {
		return Pad(x, Scalar(g, dtypes.Float32, 0), PadAxis{}, PadAxis{}, PadAxis{Start: 1, End: 1}, PadAxis{Start: 1, End: 1})
	}, C, B, H, W)
	timeIt(t, "Pad axis1 (B) +1 (blocks HW)", N, func(g *Graph, x *Node) *Node {
		return Pad(x, Scalar(g, dtypes.Float32, 0), PadAxis{}, PadAxis{Start: 1, End: 1})
	}, C, B, H, W)
	timeIt(t, "Pad H,W interior1 [HWCB]", N, func(g *Graph, x *Node) *Node {
		return Pad(x, Scalar(g, dtypes.Float32, 0), PadAxis{Interior: 1}, PadAxis{Interior: 1})
	}, H, W, C, B)
	timeIt(t, "Slice stride2 on H,W [HWCB]", C*B*13*13, func(g *Graph, x *Node) *Node {
		return Slice(x, AxisRange().Stride(2), AxisRange().Stride(2))
	}, H, W, C, B)
	timeIt(t, "Reverse W", N, func(g *Graph, x *Node) *Node { return Reverse(x, 3) }, C, B, H, W)
	timeIt(t, "Where", N, func(g *Graph, x *Node) *Node { return Where(GreaterThan(x, ScalarZero(g, dtypes.Float32)), x, Neg(x)) }, C, B, H, W)
	timeIt(t, "Matmul [288,14400]x[64,288]", 64*288*14400*2, func(g *Graph, x *Node) *Node {
		w := Ones(g, shapes.Make(dtypes.Float32, 64, 288))
		return Dot(w, Reshape(x, 288, 14400)).General([]int{1}, nil, []int{0}, nil)
	}, 288, 14400)

	timeIt(t, "Tanh", N, func(g *Graph, x *Node) *Node { return Tanh(x) }, C, B, H, W)
	timeIt(t, "Erf", N, func(g *Graph, x *Node) *Node { return Erf(x) }, C, B, H, W)
	timeIt(t, "FusedSoftmax [2,N] axis0", N, func(g *Graph, x *Node) *Node {
		r := Reshape(x, 2, N/2)
		return BackendFusedSoftmax(r, 0)
	}, C, B, H, W)
	timeIt(t, "FusedSoftmax [N/2,2] axis1", N, func(g *Graph, x *Node) *Node {
		r := Reshape(x, N/2, 2)
		return BackendFusedSoftmax(r, 1)
	}, C, B, H, W)
	timeIt(t, "sigmoid via concat+softmax+dotselect", N, func(g *Graph, x *Node) *Node {
		r := Reshape(x, 1, N)
		z := Concatenate([]*Node{r, ZerosLike(r)}, 0)
		s := BackendFusedSoftmax(z, 0)
		sel := Const(g, [][]float32{{1, 0}})
		return Dot(sel, s).General([]int{1}, nil, []int{0}, nil)
	}, C, B, H, W)
	timeIt(t, "Dot select row [1,2]x[2,N]", N, func(g *Graph, x *Node) *Node {
		sel := Const(g, [][]float32{{1, 0}})
		return Dot(sel, Reshape(x, 2, N/2)).General([]int{1}, nil, []int{0}, nil)
	}, C, B, H, W)
	timeIt(t, "Div same shape", N, func(g *Graph, x *Node) *Node { return Div(x, x) }, C, B, H, W)
	timeIt(t, "Sub same shape", N, func(g *Graph, x *Node) *Node { return Sub(x, x) }, C, B, H, W)
	timeIt(t, "MulScalar", N, func(g *Graph, x *Node) *Node { return MulScalar(x, 3) }, C, B, H, W)
	timeIt(t, "ReduceSum all", N, func(g *Graph, x *Node) *Node { return ReduceAllSum(x) }, C, B, H, W)
	timeIt(t, "Square", N, func(g *Graph, x *Node) *Node { return Square(x) }, C, B, H, W)
	timeIt(t, "Max same", N, func(g *Graph, x *Node) *Node { return Max(x, x) }, C, B, H, W)
	timeIt(t, "Abs", N, func(g *Graph, x *Node) *Node { return Abs(x) }, C, B, H, W)
	timeIt(t, "Neg", N, func(g *Graph, x *Node) *Node { return Neg(x) }, C, B, H, W)

	CB, HW := C*B, H*W
	timeIt(t, "outer [CB,1]x[1,HW]", N, func(g *Graph, x *Node) *Node {
		a := Reshape(Slice(x, AxisRange(), AxisRange(), AxisRange(0, 1), AxisRange(0, 1)), CB, 1)
		ones := Ones(g, shapes.Make(dtypes.Float32, 1, HW))
		return Dot(a, ones).General([]int{1}, nil, []int{0}, nil)
	}, C, B, H, W)
	timeIt(t, "affine via outer+Mul+Add", N, func(g *Graph, x *Node) *Node {
		a := Reshape(Slice(x, AxisRange(), AxisRange(), AxisRange(0, 1), AxisRange(0, 1)), CB, 1)
		ones := Ones(g, shapes.Make(dtypes.Float32, 1, HW))
		af := Dot(a, ones).General([]int{1}, nil, []int{0}, nil)
		bf := Dot(Neg(a), ones).General([]int{1}, nil, []int{0}, nil)
		return Add(Mul(Reshape(x, CB, HW), af), bf)
	}, C, B, H, W)
	timeIt(t, "affine via bcast Mul+Add", N, func(g *Graph, x *Node) *Node {
		a := Reshape(Slice(x, AxisRange(), AxisRange(), AxisRange(0, 1), AxisRange(0, 1)), CB, 1)
		return Add(Mul(Reshape(x, CB, HW), a), Neg(a))
	}, C, B, H, W)
	timeIt(t, "affine via batched dot K=2", N, func(g *Graph, x *Node) *Node {
		a := Reshape(Slice(x, AxisRange(), AxisRange(), AxisRange(0, 1), AxisRange(0, 2)), CB, 1, 2)
		y := Reshape(x, CB, 1, HW)
		yy := Concatenate([]*Node{y, Ones(g, shapes.Make(dtypes.Float32, CB, 1, HW))}, 1)
		return Dot(a, yy).General([]int{2}, []int{0}, []int{1}, []int{0})
	}, C, B, H, W)
	timeIt(t, "scale via batched dot K=1", N, func(g *Graph, x *Node) *Node {
		a := Reshape(Slice(x, AxisRange(), AxisRange(), AxisRange(0, 1), AxisRange(0, 1)), CB, 1, 1)
		y := Reshape(x, CB, 1, HW)
		return Dot(a, y).General([]int{2}, []int{0}, []int{1}, []int{0})
	}, C, B, H, W)
	timeIt(t, "Ones [CB,1,HW]", N, func(g *Graph, x *Node) *Node {
		return Add(Reshape(x, CB, 1, HW), Ones(g, shapes.Make(dtypes.Float32, CB, 1, HW)))
	}, C, B, H, W)

	timeIt(t, "Stack unit blocks (interleave W)", N, func(g *Graph, x *Node) *Node {
		r := Reshape(x, 2, CB*H, W/2)
		a := Slice(r, AxisRange(0, 1))
		b := Slice(r, AxisRange(1, 2))
		return Stack([]*Node{a, b}, -1)
	}, C, B, H, W)
	timeIt(t, "  (the two slices alone)", N, func(g *Graph, x *Node) *Node {
		r := Reshape(x, 2, CB*H, W/2)
		a := Slice(r, AxisRange(0, 1))
		b := Slice(r, AxisRange(1, 2))
		return Add(a, b)
	}, C, B, H, W)
	timeIt(t, "interleave via perm matmul", N, func(g *Graph, x *Node) *Node {
		r := Reshape(x, CB*H, W) // [a | b] blocks
		perm := make([][]float32, W)
		for i := range perm {
			perm[i] = make([]float32, W)
		}
		for j := 0; j < W/2; j++ {
			perm[j][2*j] = 1
			perm[W/2+j][2*j+1] = 1
		}
		return Dot(r, Const(g, perm)).General([]int{1}, nil, []int{0}, nil)
	}, C, B, H, W)
	timeIt(t, "Concat axis 2 (H) halves", N, func(g *Graph, x *Node) *Node {
		return Concatenate([]*Node{x, x}, 2)
	}, C, B, H, W)
	timeIt(t, "Concat zero col on W", N, func(g *Graph, x *Node) *Node {
		return Concatenate([]*Node{x, Zeros(g, shapes.Make(dtypes.Float32, C, B, H, 1))}, 3)
	}, C, B, H, W)

	coef := func(x *Node, k int) *Node {
		return Reshape(Slice(x, AxisRange(), AxisRange(), AxisRange(0, 1), AxisRange(0, k)), CB, 1, k)
	}
	timeIt(t, "P2a: 2 scaleRows + Add + bcast Add", N, func(g *Graph, x *Node) *Node {
		y := Reshape(x, CB, 1, HW)
		dh := Sqrt(y)
		a := coef(x, 1)
		r := Add(Dot(a, dh).General([]int{2}, []int{0}, []int{1}, []int{0}), Dot(a, y).General([]int{2}, []int{0}, []int{1}, []int{0}))
		return Add(r, a)
	}, C, B, H, W)
	timeIt(t, "P2b: concat3 + dot K=3", N, func(g *Graph, x *Node) *Node {
		y := Reshape(x, CB, 1, HW)
		dh := Sqrt(y)
		a := coef(x, 3)
		cat := Concatenate([]*Node{dh, y, Ones(g, shapes.Make(dtypes.Float32, CB, 1, HW))}, 1)
		return Dot(a, cat).General([]int{2}, []int{0}, []int{1}, []int{0})
	}, C, B, H, W)
	timeIt(t, "  (sqrt alone)", N, func(g *Graph, x *Node) *Node { return Sqrt(x) }, C, B, H, W)
	timeIt(t, "P1b: scaleRows + outer + Add", N, func(g *Graph, x *Node) *Node {
		y := Reshape(x, CB, 1, HW)
		a := coef(x, 1)
		ones := Ones(g, shapes.Make(dtypes.Float32, 1, 1, HW))
		sh := Dot(a, ones).General([]int{2}, nil, []int{1}, nil) // [CB,1,1,HW]
		return Add(Dot(a, y).General([]int{2}, []int{0}, []int{1}, []int{0}), Reshape(sh, CB, 1, HW))
	}, C, B, H, W)
	timeIt(t, "P1a: scaleRows + bcast Add", N, func(g *Graph, x *Node) *Node {
		y := Reshape(x, CB, 1, HW)
		a := coef(x, 1)
		return Add(Dot(a, y).General([]int{2}, []int{0}, []int{1}, []int{0}), a)
	}, C, B, H, W)
}
