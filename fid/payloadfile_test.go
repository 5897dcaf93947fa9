package fid

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// testFeatures is a small deterministic N×D feature matrix.
func testFeatures(n, d int) *mat.Dense {
	vals := make([]float64, n*d)
	for i := range vals {
		vals[i] = float64((i*7919)%101)/50 - 1
	}
	return mat.NewDense(n, d, vals)
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestCacheFormatsAreStable pins the bytes of a stats and a features file: the formats are read
// back by caches written by earlier versions (data/fid), so they must not drift. The hashes were
// taken with the code before the two formats shared their reader and writer.
func TestCacheFormatsAreStable(t *testing.T) {
	dir := t.TempDir()
	stats := filepath.Join(dir, "x.stats")
	s := &Stats{
		Mean: []float64{0.5, -1.25, 3},
		Cov:  mat.NewSymDense(3, []float64{2, 0.5, -0.25, 0.5, 1, 0.125, -0.25, 0.125, 4}),
		N:    20, Dim: 3, Network: "test-net", NetworkHash: "h", Dataset: "mnist-test",
	}
	if err := SaveStats(stats, s); err != nil {
		t.Fatal(err)
	}
	features := filepath.Join(dir, "x.features")
	if err := saveFeatures(features, "test-net", "h", "mnist-test", testFeatures(5, 3)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{stats, "7357f1faa55bad69cc73da18ffd14595792fe78567ab7cee83a0ffa7aff78538"},
		{features, "c4c2e47764ed6ccaac7773e1a9d22563021a6149961deacc1c7b7233016131d5"},
	} {
		if got := fileSHA256(t, c.path); got != c.want {
			t.Errorf("%s: sha256 %s, want %s", filepath.Base(c.path), got, c.want)
		}
	}
}

func TestFeaturesCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.features")
	f := testFeatures(5, 3)
	if err := saveFeatures(path, "test-net", "h", "mnist-test", f); err != nil {
		t.Fatal(err)
	}
	got, err := loadFeatures(path, "h", "mnist-test", 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(got, f) {
		t.Errorf("features changed in the round trip")
	}
	data, _ := os.ReadFile(path)
	for _, c := range []struct {
		name          string
		data          []byte
		hash, dataset string
		n, d          int
		want          string
	}{
		{"stale hash", data, "other", "mnist-test", 5, 3, "stale"},
		{"stale n", data, "h", "mnist-test", 6, 3, "stale"},
		{"truncated", data[:len(data)-8], "h", "mnist-test", 5, 3, "truncated"},
		{"trailing", append(append([]byte(nil), data...), 1), "h", "mnist-test", 5, 3, "1 unexpected trailing bytes"},
		{"flipped", func() []byte { b := append([]byte(nil), data...); b[len(b)-3] ^= 1; return b }(), "h", "mnist-test", 5, 3, "SHA-256"},
		{"no header", []byte("no newline"), "h", "mnist-test", 5, 3, "not a features file"},
		{"stats file", nil, "h", "mnist-test", 5, 3, "format"},
	} {
		p := filepath.Join(dir, "bad.features")
		if c.data == nil {
			if err := SaveStats(p, testStats(t, 20, "h")); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := loadFeatures(p, c.hash, c.dataset, c.n, c.d); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
