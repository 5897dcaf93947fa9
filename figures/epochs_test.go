package figures

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/training"
)

// TestEpochGrids trains a tiny model for two epochs and checks that a grid is drawn for every
// epoch whose checkpoint exists, and that the others are listed with the reason.
func TestEpochGrids(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny model")
	}
	ctx := context.Background()
	e := tinyEnv(t, t.TempDir())
	e.Root = "" // train here, whatever models/ ships
	m, err := e.Train(ctx, Assignment1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Epochs() != 2 {
		t.Fatalf("tiny model trained for %d epochs, want 2", m.Epochs())
	}
	grids, missing, err := e.EpochGrids(ctx, m, []int{1, 2, 5}, 4, nil, e.Settings.Sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(grids) != 2 || grids[0].Epoch != 1 || grids[1].Epoch != 2 || len(grids[0].Figure.PNG) == 0 {
		t.Fatalf("grids for epochs %v, want 1 and 2", epochsOf(grids))
	}
	if grids[0].Step != int64(m.State.StepsPerEpoch) || grids[1].Step != m.State.Step {
		t.Errorf("grid steps %d, %d; want %d, %d", grids[0].Step, grids[1].Step, m.State.StepsPerEpoch, m.State.Step)
	}
	if !strings.Contains(grids[0].Figure.Title, "after 1 epoch:") || !strings.Contains(grids[1].Figure.Title, "after 2 epochs:") {
		t.Errorf("titles %q, %q do not say the epoch", grids[0].Figure.Title, grids[1].Figure.Title)
	}
	if len(missing) != 1 || !strings.Contains(missing[0], "epoch 5") || !strings.Contains(missing[0], "trained for 2 epochs") {
		t.Errorf("missing = %q, want epoch 5 (trained for 2 epochs)", missing)
	}
	// An exported model finds its epochs among its snapshots (ddpm export --epochs).
	exported := *m
	exported.Dir = filepath.Join(t.TempDir(), "model")
	if _, err := app.ExportEpochs(m.Dir, exported.Dir, []int{1}, true); err != nil {
		t.Fatal(err)
	}
	grids, missing, err = e.EpochGrids(ctx, &exported, []int{1}, 4, nil, e.Settings.Sample)
	if err != nil || len(grids) != 1 || grids[0].Step != int64(m.State.StepsPerEpoch) || len(missing) != 0 {
		t.Fatalf("exported model: grids %v, missing %q, err %v; want epoch 1 from its snapshot", epochsOf(grids), missing, err)
	}
	// Without the epoch-1 checkpoint, epoch 1 is listed as missing.
	dir := filepath.Join(m.Dir, training.CheckpointsDir, ckpt.StepDirName(int64(m.State.StepsPerEpoch)))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	grids, missing, err = e.EpochGrids(ctx, m, []int{1, 2}, 4, nil, e.Settings.Sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(grids) != 1 || grids[0].Epoch != 2 || len(missing) != 1 || !strings.Contains(missing[0], "no weights of epoch 1") {
		t.Errorf("after removing epoch 1: grids %v, missing %q", epochsOf(grids), missing)
	}
}

func epochsOf(grids []EpochGrid) []int {
	var out []int
	for _, g := range grids {
		out = append(out, g.Epoch)
	}
	return out
}
