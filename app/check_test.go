package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/internal/testutil"
)

// shippedDir is the repository's models/ directory, seen from this package.
const shippedDir = "../models"

// TestShippedModelsReproduceTheirCheck loads every model shipped under models/, samples its check
// (app.Check: 100 DDIM samples, fixed seed) on the pure-Go backend and compares the samples'
// hash and the FID/KID/score with those recorded at export: bit-identical on the same backend,
// within tolerance on another. A shipped model without a check fails.
func TestShippedModelsReproduceTheirCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("samples every shipped model")
	}
	entries, err := os.ReadDir(shippedDir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("the repository ships models in %s: %v (%d entries)", shippedDir, err, len(entries))
	}
	b := testutil.GoBackend(t)
	evaluate := app.FIDEvaluator("", b)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(shippedDir, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			want, err := app.ReadCheck(dir)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := app.LoadTrained(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := app.RunCheck(context.Background(), b, tr, evaluate)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s step %d on %s: FID %.4g (recorded %.4g on %s), KID %.4g, score %.3g", want.Model, want.Step,
				got.Backend, got.Metrics["fid"], want.Metrics["fid"], want.Backend, got.Metrics["kid"], got.Metrics["score"])
			if err := want.Reproduces(got); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCheckComparison: a tampered metric or sample hash is caught on the same backend; across
// backends only differences beyond the tolerance are.
func TestCheckComparison(t *testing.T) {
	rec := &app.Check{Model: "m", Step: 10, N: 100, Sampler: "s", Backend: "Go Backend", SamplesSHA256: "aa",
		Metrics: map[string]float64{"fid": 100, "kid": 2}}
	clone := func(f func(c *app.Check)) *app.Check {
		c := *rec
		c.Metrics = map[string]float64{"fid": 100, "kid": 2}
		f(&c)
		return &c
	}
	for _, tc := range []struct {
		name string
		got  *app.Check
		ok   bool
	}{
		{"identical", clone(func(c *app.Check) {}), true},
		{"other samples, same backend", clone(func(c *app.Check) { c.SamplesSHA256 = "bb" }), false},
		{"metric off by 1e-12, same backend", clone(func(c *app.Check) { c.Metrics["fid"] = 100 + 1e-12 }), false},
		{"other backend, within tolerance", clone(func(c *app.Check) { c.Backend, c.SamplesSHA256, c.Metrics["fid"] = "xla", "bb", 103 }), true},
		{"other backend, beyond tolerance", clone(func(c *app.Check) { c.Backend, c.Metrics["kid"] = "xla", 2.5 }), false},
		{"metric missing", clone(func(c *app.Check) { delete(c.Metrics, "kid") }), false},
		{"other step", clone(func(c *app.Check) { c.Step = 11 }), false},
	} {
		err := rec.Reproduces(tc.got)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok = %v", tc.name, err, tc.ok)
		}
	}
}
