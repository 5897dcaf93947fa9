package mnistcnn

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/fid"
)

// TestFloorConfidentCache: the floor carries the share of confidently classified real images; a
// cached floor written before that field existed is recomputed, one with it is reused.
func TestFloorConfidentCache(t *testing.T) {
	net := shipped(t)
	mnistSet(t, mnist.Test) // skips without MNIST
	cache := t.TempDir()
	// Reuse the project's cached test-set features when present (10,000 images through the network).
	src := fid.CacheDir(mnist.Dir(""))
	for _, ext := range []string{".features", ".stats"} {
		name := "mnist-test-" + fid.CacheKey(net) + ext
		if data, err := os.ReadFile(filepath.Join(src, name)); err == nil {
			if err := os.WriteFile(filepath.Join(cache, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	const n = 20
	floor := func() (*fid.Floor, string) {
		var log strings.Builder
		ref, err := fid.NewReference(context.Background(), net, "", cache, &log)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ref.Floor(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		return f, log.String()
	}
	f, _ := floor()
	if f.Confident == nil || f.ConfidentStd == nil || *f.Confident < 0.8 || *f.Confident > 1 {
		t.Fatalf("floor confident %v ± %v, want a fraction near 1", f.Confident, f.ConfidentStd)
	}
	for _, run := range f.Runs {
		if run.Confident == nil {
			t.Fatalf("floor run %d has no confident fraction", run.Seed)
		}
	}
	want := *f.Confident
	if _, log := floor(); strings.Contains(log, "recomputing") {
		t.Errorf("a current cache was recomputed: %s", log)
	}
	// Strip the field, as a cache written by older code.
	path := filepath.Join(cache, "mnist-floor-n20-"+fid.CacheKey(net)+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "confident")
	delete(raw, "confident_std")
	for _, run := range raw["runs"].([]any) {
		delete(run.(map[string]any), "confident")
	}
	if data, err = json.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, log := floor()
	if !strings.Contains(log, "recomputing the stale floor cache") || f.Confident == nil || *f.Confident != want {
		t.Errorf("legacy cache: confident %v (want %v), log %q", f.Confident, want, log)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"confident"`) {
		t.Error("the recomputed floor was not cached with its confident fraction")
	}
}
