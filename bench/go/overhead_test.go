package gobench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func BenchmarkNodeOverhead(b *testing.B) {
	if b.N > 1 {
		b.Skip("measured at N = 1")
	}
	for _, cfg := range []string{"ops_sequential", "parallelism=-1,ops_parallel"} {
		backend, _ := gobackend.New(cfg)
		exec := MustNewExec(backend, func(x *Node) *Node {
			a, b := x, x
			for range 1000 {
				a = AddScalar(a, 1)
				b = MulScalar(b, 1.0001)
			}
			return Add(a, b)
		})
		x := tensors.FromFlatDataAndDimensions(make([]float32, 16), 16)
		for range 3 {
			exec.Call1(x)
		}
		st := time.Now()
		for range 20 {
			o, _ := exec.Call1(x)
			o.FinalizeAll()
		}
		fmt.Fprintf(os.Stdout, "%s: %.2f us/node\n", cfg, float64(time.Since(st).Microseconds())/20/2000)
	}
}
