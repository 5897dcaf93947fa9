// The report of `ddpm fid`: its table, its JSON and the --features-a/-b mode.

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

// fidRow is one line of the table and of --json (`ddpm fid`).
type fidRow struct {
	N             int      `json:"n"`
	FID           *float64 `json:"fid,omitempty"`
	FIDFloor      *float64 `json:"fid_floor,omitempty"`
	FIDFloorStd   *float64 `json:"fid_floor_std,omitempty"`
	KIDMean       *float64 `json:"kid_mean,omitempty"`
	KIDStd        *float64 `json:"kid_std,omitempty"`
	KIDFloorMean  *float64 `json:"kid_floor_mean,omitempty"`
	KIDFloorStd   *float64 `json:"kid_floor_std,omitempty"`
	Score         *float64 `json:"score,omitempty"`
	ScoreStd      *float64 `json:"score_std,omitempty"`
	ScoreFloor    *float64 `json:"score_floor,omitempty"`
	ClassAccuracy *float64 `json:"class_accuracy,omitempty"`
	// Confident: the fraction classified with confidence ≥ fid.ConfidenceThreshold (floor: real images).
	Confident         *float64             `json:"confident,omitempty"`
	ConfidentFloor    *float64             `json:"confident_floor,omitempty"`
	ConfidentFloorStd *float64             `json:"confident_floor_std,omitempty"`
	Histogram         *[fid.NumClasses]int `json:"class_histogram,omitempty"`
	KIDSubsets        int                  `json:"kid_subsets,omitempty"`
	KIDSubsetSize     int                  `json:"kid_subset_size,omitempty"`
	Warnings          []string             `json:"warnings,omitempty"`
}

// fidReport is what --json writes.
type fidReport struct {
	Network      string   `json:"network"`
	NetworkHash  string   `json:"network_hash"`
	FeatureDim   int      `json:"feature_dim"`
	NetworkAcc   float64  `json:"network_test_accuracy"`
	Reference    string   `json:"reference"`
	Floor        string   `json:"floor"`
	Source       string   `json:"source"`
	Rows         []fidRow `json:"rows"`
	Date         string   `json:"date"`
	SampleSecond float64  `json:"sample_seconds,omitempty"`
	// Compute names the backend and build that computed the features and samples
	// (fid.ComputeIdentifier: backend, Go release, GOEXPERIMENT, GoMLX/compute/go-xla versions or replacements).
	Compute string `json:"compute,omitempty"`
}

func f64(v float64) *float64 { return &v }

func floorRow(f *fid.Floor) fidRow {
	r := fidRow{N: f.N, FIDFloor: f64(f.FID), FIDFloorStd: f64(f.FIDStd), KIDFloorMean: f64(f.KID), KIDFloorStd: f64(f.KIDStd)}
	if len(f.Runs) > 0 {
		r.KIDSubsets, r.KIDSubsetSize = f.Runs[0].KID.Subsets, f.Runs[0].KID.SubsetSize
	}
	if f.Score != 0 {
		r.ScoreFloor = f64(f.Score)
	}
	r.ConfidentFloor, r.ConfidentFloorStd = f.Confident, f.ConfidentStd
	return r
}

func measurementRow(m *fid.Measurement) fidRow {
	r := fidRow{N: m.N, FID: f64(m.FID.FID), KIDMean: f64(m.KID.Mean), KIDStd: f64(m.KID.Std),
		KIDSubsets: m.KID.Subsets, KIDSubsetSize: m.KID.SubsetSize, Warnings: m.FID.Warnings}
	if m.Score != 0 {
		r.Score, r.ScoreStd = f64(m.Score), f64(m.ScoreStd)
		h := m.Histogram
		r.Histogram = &h
	}
	if !math.IsNaN(m.Accuracy) {
		r.ClassAccuracy = f64(m.Accuracy)
	}
	if !math.IsNaN(m.Confident) {
		r.Confident = f64(m.Confident)
	}
	if f := m.Floor; f != nil {
		r.FIDFloor, r.FIDFloorStd, r.KIDFloorMean, r.KIDFloorStd = f64(f.FID), f64(f.FIDStd), f64(f.KID), f64(f.KIDStd)
		if f.Score != 0 {
			r.ScoreFloor = f64(f.Score)
		}
		r.ConfidentFloor, r.ConfidentFloorStd = f.Confident, f.ConfidentStd
	}
	return r
}

func printFIDReport(w io.Writer, rep *fidReport, floorOnly bool) {
	fmt.Fprintf(w, "network %s sha256 %s (D=%d, test accuracy %.2f%%)\n", rep.Network, rep.NetworkHash, rep.FeatureDim, 100*rep.NetworkAcc)
	fmt.Fprintf(w, "reference %s; floor: %s\n", rep.Reference, rep.Floor)
	fmt.Fprintf(w, "source: %s\n", rep.Source)
	fmt.Fprintf(w, "KID: mean ± std over its subsets; score: classifier score (Inception-Score-like, 1..10) ± std over %d splits; "+
		"confident: share of images whose top class probability is ≥ %g\n\n", fid.ScoreSplits, fid.ConfidenceThreshold)
	num := func(p *float64, format string) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf(format, *p)
	}
	pm := func(mean, std *float64, format string) string {
		if mean == nil {
			return "-"
		}
		return fmt.Sprintf(format+" ± "+format, *mean, *std)
	}
	percent := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f%%", 100**p)
	}
	if floorOnly {
		fmt.Fprintf(w, "| N | FID floor | KID floor | score floor | confident floor |\n|---|---|---|---|---|\n")
		for _, r := range rep.Rows {
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s |\n", r.N, pm(r.FIDFloor, r.FIDFloorStd, "%.4g"), pm(r.KIDFloorMean, r.KIDFloorStd, "%.4g"),
				num(r.ScoreFloor, "%.3f"), percent(r.ConfidentFloor))
		}
		return
	}
	fmt.Fprintf(w, "| N | FID | FID floor | KID | KID floor | score | score floor | confident | confident floor | class accuracy |\n"+
		"|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.N, num(r.FID, "%.4f"), pm(r.FIDFloor, r.FIDFloorStd, "%.4g"),
			pm(r.KIDMean, r.KIDStd, "%.4g"), pm(r.KIDFloorMean, r.KIDFloorStd, "%.4g"),
			pm(r.Score, r.ScoreStd, "%.3f"), num(r.ScoreFloor, "%.3f"), percent(r.Confident), percent(r.ConfidentFloor),
			percent(r.ClassAccuracy))
	}
	for _, r := range rep.Rows {
		if r.Histogram != nil {
			parts := make([]string, len(r.Histogram))
			for c, k := range r.Histogram {
				parts[c] = fmt.Sprintf("%d:%d", c, k)
			}
			fmt.Fprintf(w, "\npredicted classes (N=%d): %s", r.N, strings.Join(parts, " "))
		}
	}
	fmt.Fprintln(w)
	seen := map[string]bool{}
	for _, r := range rep.Rows {
		for _, warn := range r.Warnings {
			if !seen[warn] {
				seen[warn] = true
				fmt.Fprintf(w, "warning (N=%d): %s\n", r.N, warn)
			}
		}
	}
}

// fidFeatures is the --features-a/--features-b mode.
func fidFeatures(pathA, pathB, jsonOut string) error {
	a, err := fid.ReadNpyMatrix(pathA)
	if err != nil {
		return err
	}
	b, err := fid.ReadNpyMatrix(pathB)
	if err != nil {
		return err
	}
	na, da := a.Dims()
	nb, db := b.Dims()
	if da != db {
		return fmt.Errorf("feature dimensions differ: %s is %d×%d, %s is %d×%d", pathA, na, da, pathB, nb, db)
	}
	for _, x := range []struct {
		path string
		n    int
	}{{pathA, na}, {pathB, nb}} {
		if x.n < 2 {
			return fmt.Errorf("%s has N=%d feature row(s); FID needs N ≥ 2", x.path, x.n)
		}
	}
	sa, err := fid.ComputeStats(a)
	if err != nil {
		return fmt.Errorf("%s: %w", pathA, err)
	}
	sb, err := fid.ComputeStats(b)
	if err != nil {
		return fmt.Errorf("%s: %w", pathB, err)
	}
	sa.Dataset, sb.Dataset = pathA, pathB
	r, err := fid.FID(sa, sb)
	if err != nil {
		return err
	}
	out := map[string]any{"fid": r.FID, "na": na, "nb": nb, "dim": da, "mean_term": r.MeanTerm,
		"trace_a": r.TraceA, "trace_b": r.TraceB, "trace_sqrt": r.TraceSqrt, "clamped": r.Clamped}
	fmt.Printf("FID %.17g\n", r.FID)
	fmt.Printf("NA=%d NB=%d D=%d  ‖μa−μb‖²=%.17g  Tr Σa=%.17g  Tr Σb=%.17g  Tr √(Σa^½ Σb Σa^½)=%.17g\n",
		na, nb, da, r.MeanTerm, r.TraceA, r.TraceB, r.TraceSqrt)
	if min(na, nb) >= 2 {
		k, err := fid.KID(a, b, fid.KIDOptions{Seed: fid.KIDSeed})
		if err != nil {
			return err
		}
		fmt.Printf("KID %.17g ± %.3g (%d subsets of %d)\n", k.Mean, k.Std, k.Subsets, k.SubsetSize)
		out["kid_mean"], out["kid_std"], out["kid_subsets"], out["kid_subset_size"] = k.Mean, k.Std, k.Subsets, k.SubsetSize
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
	if len(r.Warnings) > 0 {
		out["warnings"] = r.Warnings
	}
	if jsonOut != "" {
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(jsonOut, append(data, '\n')); err != nil {
			return err
		}
	}
	return nil
}
