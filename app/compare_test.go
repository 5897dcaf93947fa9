package app

import (
	"context"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/internal/testutil"
)

// TestCompareWithShipped draws the shipped scorenet beside a run's samples: compare.png holds both
// grids side by side, and the report names the model, its recipe and epochs.
func TestCompareWithShipped(t *testing.T) {
	if testing.Short() {
		t.Skip("samples a shipped model")
	}
	r, _ := recipe.Get("quick")
	r.Sample.N = 4
	dir := t.TempDir()
	o := MainOptions{Recipe: r, Dir: dir, Backend: testutil.GoBackend(t), Compare: filepath.Join("..", "models", "scorenet")}
	own := &sampler.Result{N: 4, Images: make([]float32, 4*sampler.Pixels)} // black images
	c, err := compareWithShipped(context.Background(), o, "quick", own, 4, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Recipe != "scorenet" || c.Epochs < 1 || c.File != "compare.png" {
		t.Errorf("comparison %+v", c)
	}
	f, err := os.Open(filepath.Join(dir, c.File))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Two grids of 2×2 tiles at scale 2 (56 px) side by side.
	if b := img.Bounds(); b.Dx() < 2*2*56 || b.Dy() < 2*56 {
		t.Errorf("compare.png is %v", b)
	}
}
