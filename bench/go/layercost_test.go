package gobench

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func randTensor(dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	s := uint32(1)
	for i := range data {
		s = s*1664525 + 1013904223
		data[i] = float32(int32(s>>8)%2000-1000) * 0.001
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

var sharedBackend compute.Backend

// timeGraph runs fn on the inputs and reports the median wall time.
func timeGraph(t testing.TB, name string, fn func(in []*Node) []*Node, inputs ...any) {
	if only := os.Getenv("ONLY"); only != "" && name != only {
		return
	}
	cfg := os.Getenv("GOBK")
	if cfg == "" {
		cfg = testutil.GoBackendConfig
	}
	if sharedBackend == nil {
		sharedBackend, _ = gobackend.New(cfg)
	}
	exec := MustNewExec(sharedBackend, fn)
	var ts []float64
	for i := range reps() {
		st := time.Now()
		outs, err := exec.Call(inputs...)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
		if i >= 2 {
			ts = append(ts, float64(time.Since(st).Microseconds())/1000)
		}
	}
	sort.Float64s(ts)
	fmt.Printf("%-44s %8.2f ms\n", name, ts[len(ts)/2])
}

func BenchmarkLayerCost(b *testing.B) {
	t := b // one measurement per run: it times its own repetitions and prints a table
	if b.N > 1 {
		b.Skip("measured at N = 1")
	}
	B := 100
	type conv struct {
		name                  string
		cin, cout, h, stride  int
		transposed            bool
		outPad, splitChannels int
	}
	for _, c := range []conv{
		{"conv1", 1, 32, 28, 1, false, 0, 0},
		{"conv2", 32, 64, 26, 2, false, 0, 0},
		{"conv3", 64, 128, 12, 2, false, 0, 0},
		{"conv4", 128, 256, 5, 2, false, 0, 0},
		{"tconv4", 256, 128, 2, 2, true, 0, 0},
		{"tconv3", 256, 64, 5, 2, true, 1, 128},
		{"tconv2", 128, 32, 12, 2, true, 1, 64},
		{"tconv1", 64, 1, 26, 1, true, 0, 32},
	} {
		x := randTensor(c.cin, B, c.h, c.h)
		k := randTensor(3, 3, c.cin, c.cout)
		apply := func(x, k *Node) *Node {
			if !c.transposed {
				return layers.ConvCF(x, k, c.stride, layers.Natural, layers.Natural)
			}
			xs := []*Node{x}
			if c.splitChannels > 0 {
				xs = []*Node{Slice(x, AxisRange(0, c.splitChannels)), Slice(x, AxisRange(c.splitChannels, c.cin))}
			}
			return layers.ConvTransposeCF(xs, k, c.stride, c.outPad, layers.Natural, layers.Natural)
		}
		timeGraph(t, c.name+" fwd", func(in []*Node) []*Node { return []*Node{apply(in[0], in[1])} }, x, k)
		timeGraph(t, c.name+" fwd+bwd", func(in []*Node) []*Node {
			y := apply(in[0], in[1])
			return Gradient(ReduceAllSum(Mul(y, y)), in[0], in[1])
		}, x, k)
	}
	for _, c := range []struct {
		name         string
		c, h, groups int
	}{
		{"gn1", 32, 26, 4}, {"gn2", 64, 12, 32}, {"gn3", 128, 5, 32}, {"gn4", 256, 2, 32},
	} {
		y := randTensor(c.c, B, c.h, c.h)
		d := randTensor(B, c.c)
		gm := randTensor(c.c)
		bt := randTensor(c.c)
		timeGraph(t, c.name+" fwd", func(in []*Node) []*Node {
			return []*Node{layers.GroupNormSwishCF(in[0], in[1], in[2], in[3], c.groups, 1e-5)}
		}, y, d, gm, bt)
		timeGraph(t, c.name+" fwd+bwd", func(in []*Node) []*Node {
			o := layers.GroupNormSwishCF(in[0], in[1], in[2], in[3], c.groups, 1e-5)
			return Gradient(ReduceAllSum(Mul(o, o)), in...)
		}, y, d, gm, bt)
	}
}

func reps() int {
	if os.Getenv("ONLY") != "" {
		return 40
	}
	return 9
}
