package ckpt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

type testState struct {
	Step   int64     `json:"step"`
	Losses []float32 `json:"losses"`
}

func storeWith(values []float32) *model.Store {
	s := model.NewStore()
	s.VariableWithValue("/net/w", tensors.FromFlatDataAndDimensions(values, len(values)))
	return s
}

func loadValues(t *testing.T, dir string) ([]float32, testState) {
	t.Helper()
	s := model.NewStore()
	var st testState
	if err := Load(dir, s, &st); err != nil {
		t.Fatal(err)
	}
	v := s.GetVariable("/net/w")
	if v == nil {
		t.Fatalf("variable /net/w not loaded from %s", dir)
	}
	return tensors.MustCopyFlatData[float32](v.MustValue()), st
}

func TestSaveLoadKeepAndFallback(t *testing.T) {
	dir := t.TempDir()
	store := storeWith([]float32{1, 2, 3})
	w, err := NewWriter(dir, store, 2)
	if err != nil {
		t.Fatal(err)
	}
	v := store.GetVariable("/net/w")
	for step := int64(10); step <= 30; step += 10 {
		v.MustSetValue(tensors.FromFlatDataAndDimensions([]float32{float32(step), 2, 3}, 3))
		if _, err := w.Save(step, testState{Step: step, Losses: []float32{0.5, float32(step)}}); err != nil {
			t.Fatal(err)
		}
	}
	steps, _ := listSteps(dir)
	if len(steps) != 2 || steps[0] != 20 || steps[1] != 30 {
		t.Fatalf("kept steps %v, want [20 30]", steps)
	}
	f, err := Latest(dir)
	if err != nil || f == nil || f.Step != 30 {
		t.Fatalf("Latest = %+v, %v; want step 30", f, err)
	}
	vals, st := loadValues(t, f.Dir)
	if vals[0] != 30 || st.Step != 30 || st.Losses[1] != 30 {
		t.Fatalf("loaded %v %+v, want the step-30 values", vals, st)
	}

	// Damage the newest checkpoint in each way: Latest must fall back to step 20 and say why.
	binOf := func(d string) string {
		m, _ := filepath.Glob(filepath.Join(d, "checkpoint-*.bin"))
		if len(m) != 1 {
			t.Fatalf("want one .bin in %s, got %v", d, m)
		}
		return m[0]
	}
	newest := filepath.Join(dir, StepDirName(30))
	pristine := t.TempDir()
	copyDir(t, newest, pristine)
	for _, tc := range []struct {
		name   string
		damage func()
		want   string
	}{
		{"truncated bin", func() { truncate(t, binOf(newest)) }, "bytes, the manifest records"},
		{"bit flip", func() { flipBit(t, binOf(newest)) }, "sha256"},
		{"missing manifest", func() { os.Remove(filepath.Join(newest, manifestName)) }, "MANIFEST.json is missing"},
		{"state edited", func() { os.WriteFile(filepath.Join(newest, stateName), []byte(`{"step":99}`), 0o644) }, "state.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.RemoveAll(newest)
			copyDir(t, pristine, newest)
			tc.damage()
			f, err := Latest(dir)
			if err != nil || f == nil || f.Step != 20 {
				t.Fatalf("Latest = %+v, %v; want a fallback to step 20", f, err)
			}
			if len(f.Skipped) != 1 || !errors.Is(f.Skipped[0], ErrCorrupt) ||
				!strings.Contains(f.Skipped[0].Error(), tc.want) || !strings.Contains(f.Skipped[0].Error(), newest) {
				t.Fatalf("skipped = %v, want one ErrCorrupt naming %s and containing %q", f.Skipped, newest, tc.want)
			}
			if err := Load(newest, model.NewStore(), &testState{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load of the damaged checkpoint: err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestAllCorruptIsAnError(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, storeWith([]float32{1}), 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := w.Save(5, testState{Step: 5})
	if err != nil {
		t.Fatal(err)
	}
	flipBit(t, filepath.Join(d, stateName))
	if _, err := Latest(dir); err == nil || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Latest with only a corrupt checkpoint: err = %v, want ErrCorrupt", err)
	}
	if f, err := Latest(filepath.Join(dir, "nonexistent")); f != nil || err != nil {
		t.Fatalf("Latest of a missing directory = %v, %v; want nil, nil (fresh run)", f, err)
	}
}

// A staging directory left by a crash during Save must neither be loaded nor block the next save.
func TestInterruptedSaveIsIgnored(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, storeWith([]float32{7}), 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Save(1, testState{Step: 1}); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(dir, stagingName)
	os.MkdirAll(staging, 0o755)
	os.WriteFile(filepath.Join(staging, "checkpoint-n0000009-x-step-00000002.json"), []byte("{half"), 0o644)
	f, err := Latest(dir)
	if err != nil || f.Step != 1 {
		t.Fatalf("Latest = %+v, %v; want step 1", f, err)
	}
	if _, err := NewWriter(dir, storeWith([]float32{8}), 3); err != nil {
		t.Fatalf("NewWriter after an interrupted save: %v", err)
	}
	if _, err := os.Stat(filepath.Join(staging, "checkpoint-n0000009-x-step-00000002.json")); !os.IsNotExist(err) {
		t.Fatalf("the interrupted save's files were not discarded: %v", err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	os.MkdirAll(to, 0o755)
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func truncate(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

func flipBit(t *testing.T, p string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x10
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
