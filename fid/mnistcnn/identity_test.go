package mnistcnn

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/fid"
)

// identifiedExtractor is pooledExtractor run by a named piece of software.
type identifiedExtractor struct {
	pooledExtractor
	identity string
}

func (p identifiedExtractor) ComputeIdentity() string { return p.identity }

// TestReferenceCacheKeyedByComputeIdentity: the same weights computed by another backend or
// release get their own cache files (a cache written under compute v0.1.2 moved metrics recorded
// under v0.1.14 by 1e-8); the same identity reuses its files.
func TestReferenceCacheKeyedByComputeIdentity(t *testing.T) {
	mnistSet(t, mnist.Test)
	dir := t.TempDir()
	hash := strings.Repeat("c", 64)
	var log strings.Builder
	build := func(identity string) {
		t.Helper()
		log.Reset()
		if _, err := fid.NewReference(context.Background(), identifiedExtractor{pooledExtractor{hash}, identity}, "", dir, &log); err != nil {
			t.Fatal(err)
		}
	}
	build("backend=go compute@v0.1.2")
	if !strings.Contains(log.String(), "reference statistics") {
		t.Fatalf("first identity did not compute: %s", log.String())
	}
	build("backend=go compute@v0.1.14")
	if !strings.Contains(log.String(), "reference statistics") {
		t.Fatalf("a second identity reused the first one's cache: %s", log.String())
	}
	build("backend=go compute@v0.1.2")
	if log.Len() != 0 {
		t.Fatalf("the first identity's cache was not reused: %s", log.String())
	}
	stats, _ := filepath.Glob(filepath.Join(dir, "mnist-test-*.stats"))
	if len(stats) != 2 {
		t.Fatalf("cache files %v, want one per identity", stats)
	}
	for _, p := range stats {
		if strings.Contains(p, "cccccccccccc") {
			t.Errorf("%s is named by the bare weights hash", p)
		}
	}
}

// TestComputeIdentity names the backend and the compute modules of this binary.
func TestComputeIdentity(t *testing.T) {
	net := shipped(t)
	id := net.ComputeIdentity()
	for _, want := range []string{fmt.Sprintf("backend=%q", net.backend.Name()), "go=go1", "github.com/gomlx/compute@v", "github.com/gomlx/gomlx@v"} {
		if !strings.Contains(id, want) {
			t.Errorf("ComputeIdentity() = %q, want it to contain %q", id, want)
		}
	}
	if id != net.ComputeIdentity() {
		t.Error("ComputeIdentity is not stable")
	}
}
