package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/testutil"
)

// TestExportEpochs trains 3 tiny epochs keeping every checkpoint, exports epochs 1 and 3, and loads
// each snapshot: its weights are those of the end of its epoch (step and loss history), the newest
// checkpoint not in between; a missing epoch checkpoint or an epoch past the run is refused.
func TestExportEpochs(t *testing.T) {
	r, _ := recipe.Get("quick")
	r.Net.ScoreNet.Channels = [4]int{32, 32, 32, 32}
	r.Net.ScoreNet.EmbedDim = 32
	r.Train.BatchSize, r.Train.Epochs, r.Train.CheckpointEvery, r.Train.KeepCheckpoints = 32, 3, 3, 10
	run := t.TempDir()
	data := testutil.MNISTTrain(t, 32*4) // 4 steps per epoch; checkpoints at steps 3, 4, 6, 8, 9, 12
	if _, err := training.Run(context.Background(), training.Options{Recipe: r, Dir: run, Backend: testutil.GoBackend(t), Data: data, Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "model")
	snaps, err := ExportEpochs(run, out, []int{1, 3}, true)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := EpochSnapshots(out)
	if err != nil || len(listed) != 2 || listed[0] != snaps[0] || listed[1] != snaps[1] {
		t.Fatalf("listed %v (err %v), exported %v", listed, err, snaps)
	}
	for _, s := range listed {
		m, err := LoadTrained(s.Dir, true)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(4 * s.Epoch); m.State.Step != want || len(m.State.EpochLosses) != s.Epoch || !m.EMA {
			t.Errorf("epoch %d snapshot: step %d, %d epoch losses, EMA %v; want step %d", s.Epoch, m.State.Step, len(m.State.EpochLosses), m.EMA, want)
		}
	}
	if _, err := Export(run, out, true); err != nil {
		t.Fatalf("the model itself beside its epochs: %v", err)
	}

	// Refusals: nothing is written.
	os.RemoveAll(filepath.Join(run, ckpt.RunSubdir, ckpt.StepDirName(8)))
	other := filepath.Join(t.TempDir(), "other")
	_, err = ExportEpochs(run, other, []int{1, 2}, true)
	testutil.WantErr(t, err, "epoch 2", "step 8", "--keep")
	_, err = ExportEpochs(run, other, []int{4}, true)
	testutil.WantErr(t, err, "epoch 4", "3 epochs done")
	_, err = ExportEpochs(run, out, []int{1}, true)
	testutil.WantErr(t, err, "already holds a model")
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("a refused export wrote %s", other)
	}
	if got, err := EpochSnapshots(other); err != nil || got != nil {
		t.Errorf("snapshots of a model without epochs: %v, %v", got, err)
	}
}

// A run of the seed's recipe narrowed with --hidden before runs were named after their width
// (recipe.json: "assignment1-cond", "(D=128)") ships under the name of its width.
func TestExportNamesTheWidth(t *testing.T) {
	r, _ := recipe.Get("assignment1-cond")
	r.Net.UNet.Hidden = 4
	r.Train.BatchSize, r.Train.Epochs = 32, 1
	run := t.TempDir()
	if _, err := training.Run(context.Background(), training.Options{Recipe: r, Dir: run, Backend: testutil.GoBackend(t),
		Data: testutil.MNISTTrain(t, 32), Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "model")
	if _, err := Export(run, out, true); err != nil {
		t.Fatal(err)
	}
	m, err := LoadTrained(out, true)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(filepath.Join(out, "recipe.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := m.State.Recipe
	if got.Name != "assignment1-d4-cond" || !strings.Contains(got.Description, "(D=4)") || !strings.Contains(string(saved), `"assignment1-d4-cond"`) {
		t.Errorf("exported as %q (%q), recipe.json %s", got.Name, got.Description, saved)
	}
}
