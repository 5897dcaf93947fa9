package training

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestWarmStart trains a tiny model A, then starts run B from A (recipe.Train.Init) with a
// vanishing learning rate: after B's first step its weights are still A's EMA weights (not a random
// initialisation), its step count, EMA and optimiser started afresh, and its state names the source.
// A network or schedule other than A's, a missing source, and a changed init on resume are errors.
func TestWarmStart(t *testing.T) {
	b := testutil.GoBackend(t)
	data := testutil.MNISTTrain(t, 32*12)
	a := tinyRecipe()
	a.Train.Epochs = 1
	aDir := t.TempDir()
	resA, err := Run(context.Background(), Options{Recipe: a, Dir: aDir, Backend: b, Data: data, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	wantWeights, err := InferenceStore(resA.Store, true)
	if err != nil {
		t.Fatal(err)
	}

	warm := a
	warm.Name, warm.Train.Init, warm.Train.LR, warm.Train.Seed = "warm", aDir, 1e-9, 5
	bDir := t.TempDir()
	resB, err := Run(context.Background(), Options{Recipe: warm, Dir: bDir, Backend: b, Data: data, Log: io.Discard, StopAfter: 1})
	if err != nil {
		t.Fatal(err)
	}
	if resB.State.Step != 1 || len(resB.State.Losses) != 1 {
		t.Errorf("warm-started run: step %d with %d losses, want a fresh count (1)", resB.State.Step, len(resB.State.Losses))
	}
	ws := resB.State.WarmStart
	if ws == nil || ws.Step != 12 || !ws.EMA || ws.Recipe != a.Name || filepath.Dir(filepath.Dir(ws.Checkpoint)) != aDir {
		t.Fatalf("warm start record %+v, want A's EMA weights at step 12 from %s", ws, aDir)
	}
	var saved State
	if err := ckpt.ReadState(resB.CheckpointDir, &saved); err != nil || saved.WarmStart == nil || *saved.WarmStart != *ws {
		t.Errorf("checkpointed warm start %+v (err %v), want %+v", saved.WarmStart, err, ws)
	}
	compared := 0
	for v := range wantWeights.IterVariables() {
		got := resB.Store.GetVariable(v.Path())
		if got == nil {
			t.Fatalf("%s missing from the warm-started store", v.Path())
		}
		if d := maxAbsDiff(t, v.MustValue(), got.MustValue()); d > 1e-5 {
			t.Errorf("%s: differs from A's EMA weight by %g after one step at lr 1e-9", v.Path(), d)
		}
		compared++
	}
	// A fresh run with B's seed starts elsewhere: the comparison above is not trivially true.
	fresh := warm
	fresh.Train.Init = ""
	resF, err := Run(context.Background(), Options{Recipe: fresh, Dir: t.TempDir(), Backend: b, Data: data, Log: io.Discard, StopAfter: 1})
	if err != nil {
		t.Fatal(err)
	}
	far := 0
	for v := range wantWeights.IterVariables() {
		if maxAbsDiff(t, v.MustValue(), resF.Store.GetVariable(v.Path()).MustValue()) > 1e-3 {
			far++
		}
	}
	if compared < 10 || far < compared/2 {
		t.Errorf("%d weights compared, %d of them differ from a fresh initialisation: want most", compared, far)
	}
	if !(resB.State.Losses[0] < resF.State.Losses[0]) {
		t.Errorf("first loss warm %.4f, fresh %.4f: want the trained weights to start lower", resB.State.Losses[0], resF.State.Losses[0])
	}

	for _, tc := range []struct {
		name   string
		change func()
		dir    string
		resume bool
		want   string
	}{
		{"other network", func() { warm.Net.ScoreNet.EmbedDim = 64 }, t.TempDir(), false, "its network is"},
		{"other schedule", func() { warm.Schedule.Steps = 100 }, t.TempDir(), false, "its schedule is linear"},
		{"missing source", func() { warm.Train.Init = filepath.Join(aDir, "nothing") }, t.TempDir(), false, "nothing"},
		{"init changed on resume", func() { warm.Train.Init = resF.CheckpointDir }, bDir, true, "init"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := warm
			defer func() { warm = saved }()
			tc.change()
			_, err := Run(context.Background(), Options{Recipe: warm, Dir: tc.dir, Backend: b, Data: data, Log: io.Discard, Resume: tc.resume, StopAfter: 1})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
			if tc.name == "missing source" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("err = %v, want fs.ErrNotExist", err)
			}
		})
	}
}

func maxAbsDiff(t *testing.T, a, b *tensors.Tensor) float64 {
	t.Helper()
	x, err1 := tensors.CopyFlatData[float32](a)
	y, err2 := tensors.CopyFlatData[float32](b)
	if err1 != nil || err2 != nil || len(x) != len(y) {
		t.Fatalf("comparing %s and %s: %v %v", a.Shape(), b.Shape(), err1, err2)
	}
	d := 0.0
	for i := range x {
		d = max(d, math.Abs(float64(x[i]-y[i])))
	}
	return d
}
