package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/internal/testutil"
)

// testResumedSamples checks on a trained model (run) that fid's sampling keeps the samples of the
// batches done and continues from them: the same samples as an uninterrupted run, from the kept
// images (not recomputed), and only for the same run.
func testResumedSamples(t *testing.T, run string) {
	trained, err := app.LoadTrained(run, true)
	if err != nil {
		t.Fatal(err)
	}
	s := sampler.New(testutil.GoBackend(t), trained.Store, trained.Model)
	labels := sampler.BalancedLabels(trained.Model, 30)
	o := sampler.Options{Method: "ddim", Steps: 2, ClipX0: true, Seed: 5}
	path := filepath.Join(t.TempDir(), "s.npy")
	sample := func(o sampler.Options) *sampler.Result {
		t.Helper()
		res, err := sampleResumable(context.Background(), s, path, 30, labels, o, 10, trained.Checkpoint, trained.EMA, fmt.Sprintf("%s, seed %d", o, o.Seed))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	full := sample(o)
	// The last batch completes the run and is not kept: the files now hold what an interruption
	// during the third batch leaves, the first 20 samples.
	imagesPath, metaPath := partialPaths(path)
	kept, n, err := fid.ReadNpyImages(imagesPath)
	if err != nil || n != 20 || !slices.Equal(kept, full.Images[:20*sampler.Pixels]) {
		t.Fatalf("kept samples: n=%d (want the first 20), %v", n, err)
	}
	// Mark sample 0 of the kept ones: a continued run returns it as kept.
	for i := range sampler.Pixels {
		kept[i] = 0.5
	}
	if err := fid.WriteNpyImages(imagesPath, kept, 20); err != nil {
		t.Fatal(err)
	}
	resumed := sample(o)
	if resumed.Images[0] != 0.5 || !slices.Equal(resumed.Images[sampler.Pixels:], full.Images[sampler.Pixels:]) {
		t.Fatal("continued run: want the kept samples (the marked one included) and then the uninterrupted run's")
	}
	// Another seed is another run: the kept samples are not used (and are replaced).
	o2 := o
	o2.Seed = 6
	other := sample(o2)
	if other.Images[0] == 0.5 || slices.Equal(other.Images, full.Images) {
		t.Fatal("a run with another seed used the kept samples or gave the same samples")
	}
	if err := os.WriteFile(metaPath, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sampleResumable(context.Background(), s, path, 30, labels, o, 10, trained.Checkpoint, trained.EMA, fmt.Sprintf("%s, seed %d", o, o.Seed)); err == nil ||
		!strings.Contains(err.Error(), metaPath) || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("damaged description: got %v, want an error naming %s", err, metaPath)
	}
	if err := removePartial(path); err != nil || fileExists(imagesPath) || fileExists(metaPath) {
		t.Fatalf("removePartial: %v", err)
	}
}
