package gobench

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
)

// TestTranscendentalCost times unary ops on normally distributed data (what the network sees).
func BenchmarkTranscendentalCost(b *testing.B) {
	t := b // one measurement per run: it times its own repetitions and prints a table
	if b.N > 1 {
		b.Skip("measured at N = 1")
	}
	backend := testutil.GoBackend(t)
	n := 2_163_200
	x := normalTensor(n, 1.5)
	for _, c := range []struct {
		name string
		fn   func(x *Node) *Node
	}{
		{"copy (AddScalar 0)", func(x *Node) *Node { return AddScalar(x, 0) }},
		{"Tanh", Tanh},
		{"Logistic", Logistic},
		{"Exp", Exp},
		{"Erf", Erf},
		{"Reciprocal", Reciprocal},
		{"Sqrt", Sqrt},
		{"Abs", Abs},
	} {
		exec := MustNewExec(backend, c.fn)
		var ts []float64
		for i := range 15 {
			st := time.Now()
			o, _ := exec.Call1(x)
			o.FinalizeAll()
			if i > 2 {
				ts = append(ts, float64(time.Since(st).Nanoseconds()))
			}
		}
		sort.Float64s(ts)
		fmt.Printf("%-20s %6.2f ns/elem\n", c.name, ts[len(ts)/2]/float64(n))
	}
}
