package gobench

import (
	"fmt"
	"testing"
	"time"

	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
)

// TestSwishVariants times ways to compute swish and what its gradient needs, on normal data,
// interleaving the variants and keeping each one's fastest run (robust on a shared machine).
func BenchmarkSwishVariants(b *testing.B) {
	t := b // one measurement per run: it times its own repetitions and prints a table
	if b.N > 1 {
		b.Skip("measured at N = 1")
	}
	backend := testutil.GoBackend(t)
	n := 2_163_200
	x := normalTensor(n, 1)
	variants := []struct {
		name string
		fn   func(u *Node) []*Node
	}{
		{"copy", func(u *Node) []*Node { return []*Node{AddScalar(u, 0)} }},
		{"tanh: h=u/2, t, p=1+t, out=h·p", func(u *Node) []*Node {
			h := MulScalar(u, 0.5)
			p := AddScalar(Tanh(h), 1)
			return []*Node{Mul(h, p), p}
		}},
		{"logistic: s, out=u·s", func(u *Node) []*Node {
			s := Logistic(u)
			return []*Node{Mul(u, s), s}
		}},
		{"exp: s=1/(1+exp(-u)), out=u·s", func(u *Node) []*Node {
			s := Reciprocal(AddScalar(Exp(Neg(u)), 1))
			return []*Node{Mul(u, s), s}
		}},
		{"tanh alone", func(u *Node) []*Node { return []*Node{Tanh(u)} }},
		{"logistic alone", func(u *Node) []*Node { return []*Node{Logistic(u)} }},
		{"exp alone", func(u *Node) []*Node { return []*Node{Exp(u)} }},
	}
	best := make([]float64, len(variants))
	execs := make([]*Exec, len(variants))
	for i, v := range variants {
		execs[i] = MustNewExec(backend, v.fn)
		best[i] = 1e18
	}
	for range 15 {
		for i, e := range execs {
			st := time.Now()
			outs, _ := e.Call(x)
			d := float64(time.Since(st).Nanoseconds())
			for _, o := range outs {
				o.FinalizeAll()
			}
			best[i] = min(best[i], d)
		}
	}
	for i, v := range variants {
		fmt.Printf("%-36s %6.2f ns/elem\n", v.name, best[i]/float64(n))
	}
}
