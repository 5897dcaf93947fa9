package layers

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// CustomGradient returns forward(inputs) with a hand-written reverse-mode gradient: GoMLX's
// autodiff does not go through forward's ops; instead backward(v), with v = dL/d(output), returns
// dL/d(inputs[i]) for every input (each shaped like its input; nil means zero).
//
// GoMLX v0.28.2 only offers IdentityWithCustomGradient (one input, one output). This builds a
// multi-input custom gradient from it:
//
//   - every input goes through an identity whose gradient function returns backward's result
//     for that input (ignoring what autodiff computed through forward's ops);
//   - forward's output goes through an identity whose gradient function records v.
//
// The reverse pass visits the output identity first (it was created last), so v is known when the
// input identities ask for their gradients; backward runs once, on the first of those requests.
// The autodiff nodes built through forward's ops are never consumed, so the Go backend's
// dead-code elimination drops them: only backward's nodes run. forward's ops must have a
// gradient defined in GoMLX or be cut with StopGradient (their VJP functions are still called
// while building the graph).
//
// The identities cost nothing when their input has no other consumer (the Go backend then reuses
// the buffer); otherwise they copy it.
func CustomGradient(inputs []*Node, forward func(inputs []*Node) *Node, backward func(v *Node) []*Node) *Node {
	st := &customGradientState{backward: backward, numInputs: len(inputs)}
	anchored := make([]*Node, len(inputs))
	for i, x := range inputs {
		anchored[i] = IdentityWithCustomGradient(x, func(x, _ *Node) *Node { return st.gradient(i, x) })
	}
	y := forward(anchored)
	return IdentityWithCustomGradient(y, func(_, v *Node) *Node {
		st.v, st.grads = v, nil
		return v
	})
}

type customGradientState struct {
	backward  func(v *Node) []*Node
	numInputs int
	v         *Node
	grads     []*Node
}

// gradient returns the gradient for input i, running backward on the first request.
func (st *customGradientState) gradient(i int, x *Node) *Node {
	if st.v == nil {
		// The output received no gradient: the input's gradient is zero.
		return ZerosLike(x)
	}
	if st.grads == nil {
		st.grads = st.backward(st.v)
		if len(st.grads) != st.numInputs {
			exceptions.Panicf("CustomGradient: backward returned %d gradients for %d inputs", len(st.grads), st.numInputs)
		}
	}
	g := st.grads[i]
	if g == nil {
		return ZerosLike(x)
	}
	if !g.Shape().Equal(x.Shape()) {
		exceptions.Panicf("CustomGradient: gradient #%d has shape %s, want %s", i, g.Shape(), x.Shape())
	}
	return g
}
