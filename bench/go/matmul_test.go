package gobench

import (
	"fmt"
	"testing"
	"time"

	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
)

// TestMatmulShapes reports GFLOP/s of the U-Net's matrix products (best of several runs).
func BenchmarkMatmulShapes(b *testing.B) {
	t := b // one measurement per run: it times its own repetitions and prints a table
	if b.N > 1 {
		b.Skip("measured at N = 1")
	}
	backend := testutil.GoBackend(t)
	type mm struct {
		name       string
		m, k, n    int
		transposed bool // rhs [N, K] instead of [K, N]
	}
	for _, c := range []mm{
		{"conv1 fwd", 32, 9, 67600, false},
		{"conv2 fwd", 64, 288, 14400, false},
		{"conv3 fwd", 128, 576, 2500, false},
		{"conv4 fwd", 256, 1152, 400, false},
		{"conv2 dW", 288, 14400, 64, true},
		{"conv3 dW", 576, 2500, 128, true},
		{"conv4 dW", 1152, 400, 256, true},
		{"conv2 dx tap", 32, 64, 14400, false},
		{"tconv2 tap", 32, 128, 14400, false},
		{"tconv3 tap", 64, 256, 2500, false},
		{"tconv4 tap", 128, 256, 400, false},
		{"tconv1 all taps", 9, 64, 67600, false},
		{"tconv2 dW", 288, 14400, 128, true},
		{"tconv2 dx", 64, 288, 14400, false},
		{"tconv1 dx", 32, 9, 67600, false},
		{"tconv1 dW", 9, 67600, 64, true},
		{"tconv1 dW swapped", 64, 67600, 9, true},
		{"conv1 dW", 9, 67600, 32, true},
		{"conv1 dW swapped", 32, 67600, 9, true},
	} {
		rhsDims := []int{c.k, c.n}
		rc := 0
		if c.transposed {
			rhsDims, rc = []int{c.n, c.k}, 1
		}
		exec := MustNewExec(backend, func(a, b *Node) *Node {
			return Dot(a, b).General([]int{1}, nil, []int{rc}, nil)
		})
		a, b := randTensor(c.m, c.k), randTensor(rhsDims...)
		best := time.Hour
		for range 10 {
			st := time.Now()
			o, _ := exec.Call1(a, b)
			best = min(best, time.Since(st))
			o.FinalizeAll()
		}
		fmt.Printf("%-16s M=%4d K=%5d N=%5d %7.2f ms %6.1f GFLOP/s\n", c.name, c.m, c.k, c.n,
			float64(best.Microseconds())/1000, 2*float64(c.m*c.k*c.n)/best.Seconds()/1e9)
	}
}
