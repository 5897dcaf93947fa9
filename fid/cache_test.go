package fid

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
)

func testStats(t *testing.T, n int, hash string) *Stats {
	t.Helper()
	s := mustStats(t, gaussian(uint64(n), n, 6, func(_, j int, v float64) float64 { return v/3 + math.Pi*float64(j) }))
	s.Network, s.NetworkHash, s.Dataset = "test-net", hash, "mnist-test"
	return s
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func TestStatsRoundTripExact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ref.stats")
	s := testStats(t, 50, "h1")
	if err := SaveStats(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadStats(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != s.N || got.Dim != s.Dim || got.Network != s.Network || got.NetworkHash != s.NetworkHash || got.Dataset != s.Dataset {
		t.Errorf("provenance: got %+v", *got)
	}
	for i := range s.Dim {
		if !sameBits(got.Mean[i], s.Mean[i]) {
			t.Errorf("Mean[%d] = %v, want %v", i, got.Mean[i], s.Mean[i])
		}
		for j := range s.Dim {
			if !sameBits(got.Cov.At(i, j), s.Cov.At(i, j)) {
				t.Errorf("Cov[%d,%d] = %v, want %v", i, j, got.Cov.At(i, j), s.Cov.At(i, j))
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory has %d entries after SaveStats, want 1 (no temp files)", len(entries))
	}
	if err := SaveStats(filepath.Join(dir, "missing", "x.stats"), s); err == nil || !strings.Contains(err.Error(), "x.stats") {
		t.Errorf("SaveStats into a missing dir: %v", err)
	}
}

func TestLoadStatsErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.stats")
	if err := SaveStats(good, testStats(t, 20, "h")); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	nl := strings.IndexByte(string(data), '\n')
	header := string(data[:nl+1])
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), data...)) }
	for _, tc := range []struct {
		name    string
		content []byte
		want    []string
	}{
		{"truncated payload", data[:len(data)-9], []string{"truncated", "payload has"}},
		{"truncated header", data[:nl/2], []string{"truncated or not a stats file"}},
		{"empty", nil, []string{"truncated or not a stats file"}},
		{"flipped byte", mut(func(b []byte) []byte { b[len(b)-20] ^= 1; return b }), []string{"SHA-256"}},
		{"trailing bytes", append(append([]byte(nil), data...), 0), []string{"1 unexpected trailing bytes"}},
		{"future version", []byte(strings.Replace(header, `"version":1`, `"version":2`, 1) + string(data[nl+1:])),
			[]string{"unsupported format version 2"}},
		{"not stats", []byte("hello world\n"), []string{"corrupt header"}},
		{"wrong format", []byte(strings.Replace(header, statsFormat, "other", 1) + string(data[nl+1:])), []string{`format "other"`}},
		{"payload_bytes", []byte(strings.Replace(header, `"payload_bytes":336`, `"payload_bytes":8`, 1) + string(data[nl+1:])),
			[]string{"payload_bytes=8, want 8·(dim+dim²)=336"}},
		{"huge dim", []byte(strings.Replace(header, `"dim":6`, `"dim":1000000`, 1)), []string{"dim=1000000 out of range"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".stats")
			if err := os.WriteFile(path, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadStats(path)
			testutil.WantErr(t, err, append(tc.want, path)...)
		})
	}
	_, err := LoadStats(filepath.Join(dir, "nope.stats"))
	testutil.WantErr(t, err, "nope.stats", "no such file")
}

func TestCachedStats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ref.stats")
	calls := 0
	compute := func(n int, hash string) func() (*Stats, error) {
		return func() (*Stats, error) { calls++; return testStats(t, n, hash), nil }
	}
	for _, tc := range []struct {
		name          string
		hash, dataset string
		n             int
		wantRecompute bool
	}{
		{"cold cache", "h1", "mnist-test", 30, true},
		{"hit", "h1", "mnist-test", 30, false},
		{"network hash changed", "h2", "mnist-test", 30, true},
		{"hit after rewrite", "h2", "mnist-test", 30, false},
		{"N changed", "h2", "mnist-test", 40, true},
		{"dataset changed", "h2", "mnist-other", 40, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := calls
			fn := compute(tc.n, tc.hash)
			if tc.dataset != "mnist-test" {
				fn = func() (*Stats, error) { calls++; s := testStats(t, tc.n, tc.hash); s.Dataset = ""; return s, nil }
			}
			s, recomputed, err := CachedStats(path, tc.hash, tc.dataset, tc.n, fn)
			if err != nil {
				t.Fatal(err)
			}
			if recomputed != tc.wantRecompute || (calls > before) != tc.wantRecompute {
				t.Errorf("recomputed = %v (compute called %d times), want %v", recomputed, calls-before, tc.wantRecompute)
			}
			if s.NetworkHash != tc.hash || s.N != tc.n || s.Dataset != tc.dataset {
				t.Errorf("got stats %q N=%d %q", s.NetworkHash, s.N, s.Dataset)
			}
			onDisk, err := LoadStats(path)
			if err != nil || onDisk.NetworkHash != tc.hash || onDisk.N != tc.n || onDisk.Dataset != tc.dataset {
				t.Errorf("file after CachedStats: %v, %v", onDisk, err)
			}
		})
	}
	// A corrupt cache file is recomputed; a compute result that does not
	// match the request is an error.
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, re, err := CachedStats(path, "h1", "mnist-test", 30, compute(30, "h1")); err != nil || !re {
		t.Errorf("corrupt cache: recomputed=%v err=%v", re, err)
	}
	_, _, err := CachedStats(path, "h1", "mnist-test", 31, compute(30, "h1"))
	testutil.WantErr(t, err, "N=30, want 31")
	_, _, err = CachedStats(path, "h9", "mnist-test", 30, compute(30, "h1"))
	testutil.WantErr(t, err, `network hash "h1", want "h9"`)
	_, _, err = CachedStats(path, "", "mnist-test", 30, compute(30, "h1"))
	testutil.WantErr(t, err, "networkHash and dataset are required")
}
