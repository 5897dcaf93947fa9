package gobench

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestTranscendentalCost times unary ops on normally distributed data (what the network sees).
func TestTranscendentalCost(t *testing.T) {
	skipUnlessMeasuring(t)
	backend, _ := gobackend.New("ops_sequential")
	n := 2_163_200
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64() * 1.5)
	}
	x := tensors.FromFlatDataAndDimensions(data, n)
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
