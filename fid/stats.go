package fid

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Stats are the first two moments of a set of N feature vectors of
// dimension D, with the provenance needed to decide whether two Stats may
// be compared.
type Stats struct {
	Mean []float64     // length Dim: the sample mean μ
	Cov  *mat.SymDense // Dim×Dim: the unbiased sample covariance Σ (divisor N−1)
	N    int           // number of feature vectors
	Dim  int           // feature dimension D

	Network     string // feature network name, e.g. "mnist-cnn-v1"
	NetworkHash string // hash of the feature network's weights
	Dataset     string // what the features were computed from
}

// ComputeStats returns the mean and unbiased covariance of the N×D
// features (one row per sample), in float64 with two-pass centring.
// Provenance fields are left empty; [StatsFromImages] fills them in.
// It errors for N < 2, D == 0 and for NaN or ±Inf entries (naming the row
// and column).
func ComputeStats(features *mat.Dense) (*Stats, error) {
	if features == nil {
		return nil, errors.New("fid: ComputeStats: nil features")
	}
	n, d := features.Dims()
	if d == 0 {
		return nil, fmt.Errorf("fid: ComputeStats: features are %d×%d: feature dimension D is 0", n, d)
	}
	if n < 2 {
		return nil, fmt.Errorf("fid: ComputeStats: features are %d×%d: need N ≥ 2 samples for a covariance", n, d)
	}
	if err := checkFinite(features, "ComputeStats"); err != nil {
		return nil, err
	}
	mean := make([]float64, d)
	for i := range n {
		for j, v := range features.RawRowView(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	// Second pass: centre, and correct the mean by the mean residual.
	centred := mat.NewDense(n, d, nil)
	resid := make([]float64, d)
	for i := range n {
		row := centred.RawRowView(i)
		for j, v := range features.RawRowView(i) {
			row[j] = v - mean[j]
			resid[j] += row[j]
		}
	}
	for j := range resid {
		resid[j] /= float64(n)
		mean[j] += resid[j]
	}
	for i := range n {
		row := centred.RawRowView(i)
		for j := range row {
			row[j] -= resid[j]
		}
	}
	var prod mat.Dense // Xcᵀ·Xc via the blocked, parallel Dgemm (Dsyrk is far slower)
	prod.Mul(centred.T(), centred)
	cov := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			cov.SetSym(i, j, prod.At(i, j)/float64(n-1))
		}
	}
	s := &Stats{Mean: mean, Cov: cov, N: n, Dim: d}
	if err := s.Validate(); err != nil { // overflow of huge features
		return nil, err
	}
	return s, nil
}

// Validate checks that s is internally consistent: N ≥ 2, Dim ≥ 1,
// len(Mean) == Dim, Cov is Dim×Dim, all entries finite and the covariance
// diagonal non-negative.
func (s *Stats) Validate() error {
	if s == nil {
		return errors.New("fid: nil Stats")
	}
	name := s.label()
	switch {
	case s.Dim < 1:
		return fmt.Errorf("fid: stats %s: Dim=%d, want ≥ 1", name, s.Dim)
	case s.N < 2:
		return fmt.Errorf("fid: stats %s: N=%d, need N ≥ 2 samples", name, s.N)
	case len(s.Mean) != s.Dim:
		return fmt.Errorf("fid: stats %s: Mean has length %d, want Dim=%d", name, len(s.Mean), s.Dim)
	case s.Cov == nil:
		return fmt.Errorf("fid: stats %s: nil Cov", name)
	case s.Cov.SymmetricDim() != s.Dim:
		return fmt.Errorf("fid: stats %s: Cov is %d×%[2]d, want Dim=%d", name, s.Cov.SymmetricDim(), s.Dim)
	}
	for j, v := range s.Mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("fid: stats %s: Mean[%d] is %v", name, j, v)
		}
	}
	for i := range s.Dim {
		for j := i; j < s.Dim; j++ {
			if v := s.Cov.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("fid: stats %s: Cov[%d,%d] is %v", name, i, j, v)
			}
		}
		if v := s.Cov.At(i, i); v < 0 {
			return fmt.Errorf("fid: stats %s: Cov[%d,%[2]d] = %v is a negative variance", name, i, v)
		}
	}
	return nil
}

// label names s in messages.
func (s *Stats) label() string {
	if s.Dataset == "" {
		return fmt.Sprintf("(N=%d, D=%d)", s.N, s.Dim)
	}
	return fmt.Sprintf("%q (N=%d, D=%d)", s.Dataset, s.N, s.Dim)
}
