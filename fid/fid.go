package fid

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Result is the outcome of [FID] with the diagnostics needed to trust it.
type Result struct {
	FID float64 // the Fréchet distance, ≥ 0, never NaN

	MeanTerm  float64 // ‖μ₁−μ₂‖²
	TraceA    float64 // Tr Σ₁
	TraceB    float64 // Tr Σ₂
	TraceSqrt float64 // Tr((Σ₁^½ Σ₂ Σ₁^½)^½)
	Raw       float64 // MeanTerm + TraceA + TraceB − 2·TraceSqrt before clamping
	Clamped   bool    // Raw was negative (round-off) and FID was set to 0

	// ClippedEigenvalues counts the negative eigenvalues of Σ₁ and of
	// Σ₁^½ Σ₂ Σ₁^½ that were set to 0; MostNegativeEigenvalue is the smallest
	// of them (0 when none). Tiny negative values are normal round-off for
	// singular covariances.
	ClippedEigenvalues     int
	MostNegativeEigenvalue float64

	NA, NB, Dim int    // sample counts and feature dimension
	NetworkHash string // the common network hash, if recorded

	// Warnings explain why the value may be biased or unverifiable, e.g.
	// rank-deficient covariances (N ≤ D) or missing network hashes.
	Warnings []string
}

// String formats r as "FID=… (NA=…, NB=…, D=…)" followed by any warnings.
func (r Result) String() string {
	s := fmt.Sprintf("FID=%.6g (NA=%d, NB=%d, D=%d)", r.FID, r.NA, r.NB, r.Dim)
	for _, w := range r.Warnings {
		s += "\n  warning: " + w
	}
	return s
}

// relTol is the relative size below which negative eigenvalues and negative
// FID values are treated as round-off (√ε of float64).
var relTol = math.Sqrt(0x1p-52)

// FID returns the Fréchet distance between the Gaussians N(μ₁, Σ₁) = a and
// N(μ₂, Σ₂) = b:
//
//	‖μ₁−μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr((Σ₁^½ Σ₂ Σ₁^½)^½)
//
// computed in float64 with symmetric eigendecompositions (no complex
// sqrtm). It errors when a or b is invalid, when the dimensions differ, or
// when both record a NetworkHash and the hashes differ.
func FID(a, b *Stats) (Result, error) {
	if err := a.Validate(); err != nil {
		return Result{}, err
	}
	if err := b.Validate(); err != nil {
		return Result{}, err
	}
	if a.Dim != b.Dim {
		return Result{}, fmt.Errorf("fid: dimension mismatch: a %s has D=%d, b %s has D=%d",
			a.label(), a.Dim, b.label(), b.Dim)
	}
	r := Result{NA: a.N, NB: b.N, Dim: a.Dim}
	if err := checkProvenance(a, b, &r); err != nil {
		return Result{}, err
	}
	for _, s := range []struct {
		which string
		st    *Stats
	}{{"a", a}, {"b", b}} {
		r.Warnings = append(r.Warnings, sampleSizeWarnings(s.which, s.st)...)
	}

	for i := range a.Dim {
		dm := a.Mean[i] - b.Mean[i]
		r.MeanTerm += dm * dm
		r.TraceA += a.Cov.At(i, i)
		r.TraceB += b.Cov.At(i, i)
	}
	sqrtA, err := psdSqrt(a.Cov, "Σ₁", &r)
	if err != nil {
		return Result{}, err
	}
	var t, m mat.Dense
	t.Mul(sqrtA, b.Cov)
	m.Mul(&t, sqrtA)
	ts, err := traceSqrt(symmetrize(&m), &r)
	if err != nil {
		return Result{}, err
	}
	r.TraceSqrt = ts
	r.Raw = r.MeanTerm + r.TraceA + r.TraceB - 2*r.TraceSqrt
	r.FID = r.Raw
	if math.IsNaN(r.Raw) || math.IsInf(r.Raw, 0) {
		return Result{}, fmt.Errorf("fid: FID is %v (overflow: feature magnitudes too large?)", r.Raw)
	}
	if r.Raw < 0 {
		r.FID, r.Clamped = 0, true
		scale := r.MeanTerm + r.TraceA + r.TraceB
		if -r.Raw > relTol*scale {
			r.Warnings = append(r.Warnings, fmt.Sprintf(
				"FID was %.3g, far below round-off of the terms (%.3g): covariances may not be positive semidefinite; clamped to 0",
				r.Raw, scale))
		} else {
			r.Warnings = append(r.Warnings, fmt.Sprintf("FID was %.3g from round-off; clamped to 0", r.Raw))
		}
	}
	return r, nil
}

// checkProvenance errors on different network hashes and warns when they
// cannot be verified.
func checkProvenance(a, b *Stats, r *Result) error {
	switch {
	case a.NetworkHash != "" && b.NetworkHash != "" && a.NetworkHash != b.NetworkHash:
		return fmt.Errorf("fid: network mismatch: a %s is from %q (hash %s), b %s is from %q (hash %s); FIDs from different feature networks are not comparable",
			a.label(), a.Network, a.NetworkHash, b.label(), b.Network, b.NetworkHash)
	case a.NetworkHash == "" && b.NetworkHash == "":
		r.Warnings = append(r.Warnings, "no network hash recorded: cannot verify both statistics come from the same feature network")
	case a.NetworkHash == "" || b.NetworkHash == "":
		r.Warnings = append(r.Warnings, "network hash recorded for only one side: cannot verify both statistics come from the same feature network")
	default:
		r.NetworkHash = a.NetworkHash
		if a.Network != b.Network {
			r.Warnings = append(r.Warnings, fmt.Sprintf("same network hash but different names %q and %q", a.Network, b.Network))
		}
	}
	return nil
}

// sampleSizeWarnings explains the bias caused by small N.
func sampleSizeWarnings(which string, s *Stats) []string {
	switch {
	case s.N <= s.Dim:
		return []string{fmt.Sprintf(
			"%s %s: N=%d ≤ D=%d: covariance is rank-deficient (rank ≤ N−1); FID is finite but biased; use N ≥ D, ideally N ≥ 10·D",
			which, s.label(), s.N, s.Dim)}
	case s.N < 10*s.Dim:
		return []string{fmt.Sprintf(
			"%s %s: N=%d < 10·D=%d: FID is biased upward at small N; compare values only at equal N",
			which, s.label(), s.N, 10*s.Dim)}
	}
	return nil
}

// clipEigen sets negative eigenvalues to 0, recording them in r, and warns
// when one is far below round-off relative to the largest eigenvalue.
func clipEigen(vals []float64, what string, r *Result) {
	maxAbs, minV := 0.0, 0.0
	for i, v := range vals {
		maxAbs = max(maxAbs, math.Abs(v))
		if v < 0 {
			r.ClippedEigenvalues++
			minV = min(minV, v)
			vals[i] = 0
		}
	}
	r.MostNegativeEigenvalue = min(r.MostNegativeEigenvalue, minV)
	if -minV > relTol*maxAbs {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"%s has eigenvalue %.3g, far below round-off of its largest |eigenvalue| %.3g: not positive semidefinite; clipped to 0",
			what, minV, maxAbs))
	}
}

// psdSqrt returns the symmetric square root V·diag(√λ⁺)·Vᵀ of the
// symmetric positive semidefinite d×d matrix a.
func psdSqrt(a *mat.SymDense, what string, r *Result) (*mat.SymDense, error) {
	var es mat.EigenSym
	if !es.Factorize(a, true) {
		return nil, fmt.Errorf("fid: eigendecomposition of %s failed to converge", what)
	}
	vals := es.Values(nil)
	clipEigen(vals, what, r)
	var w mat.Dense
	es.VectorsTo(&w)
	for j, v := range vals {
		q := math.Sqrt(math.Sqrt(v)) // W = V·diag(λ^¼) so W·Wᵀ = V·diag(√λ)·Vᵀ
		for i := range vals {
			w.Set(i, j, w.At(i, j)*q)
		}
	}
	s := mat.NewSymDense(len(vals), nil)
	s.SymOuterK(1, &w)
	return s, nil
}

// traceSqrt returns Σ √λ⁺ over the eigenvalues of the symmetric matrix m.
func traceSqrt(m *mat.SymDense, r *Result) (float64, error) {
	var es mat.EigenSym
	if !es.Factorize(m, false) {
		return 0, errors.New("fid: eigendecomposition of Σ₁^½ Σ₂ Σ₁^½ failed to converge")
	}
	vals := es.Values(nil)
	clipEigen(vals, "Σ₁^½ Σ₂ Σ₁^½", r)
	sum := 0.0
	for _, v := range vals {
		sum += math.Sqrt(v)
	}
	return sum, nil
}

// symmetrize returns (m + mᵀ)/2 for a square m.
func symmetrize(m *mat.Dense) *mat.SymDense {
	n, _ := m.Dims()
	s := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			s.SetSym(i, j, 0.5*(m.At(i, j)+m.At(j, i)))
		}
	}
	return s
}
