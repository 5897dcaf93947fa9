package fid

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gaussian returns an n×d matrix of N(0,1) draws transformed by f(i, j, x).
func gaussian(seed uint64, n, d int, f func(i, j int, x float64) float64) *mat.Dense {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			x := rng.NormFloat64()
			if f != nil {
				x = f(i, j, x)
			}
			m.Set(i, j, x)
		}
	}
	return m
}

func mustStats(t *testing.T, x *mat.Dense) *Stats {
	t.Helper()
	s, err := ComputeStats(x)
	if err != nil {
		t.Fatalf("ComputeStats: %v", err)
	}
	return s
}

func mustFID(t *testing.T, a, b *Stats) Result {
	t.Helper()
	r, err := FID(a, b)
	if err != nil {
		t.Fatalf("FID: %v", err)
	}
	if math.IsNaN(r.FID) || math.IsInf(r.FID, 0) || r.FID < 0 {
		t.Fatalf("FID = %v, want finite and ≥ 0", r.FID)
	}
	return r
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// diagStats builds Stats with the given mean and diagonal covariance.
func diagStats(mean, variances []float64) *Stats {
	d := len(mean)
	cov := mat.NewSymDense(d, nil)
	for i, v := range variances {
		cov.SetSym(i, i, v)
	}
	return &Stats{Mean: mean, Cov: cov, N: 1000, Dim: d}
}

// randomCov returns a random well-conditioned d×d SPD matrix A·Aᵀ/d + eps·I.
func randomCov(seed uint64, d int, eps float64) *mat.SymDense {
	a := gaussian(seed, d, d, nil)
	s := mat.NewSymDense(d, nil)
	s.SymOuterK(1/float64(d), a)
	for i := range d {
		s.SetSym(i, i, s.At(i, i)+eps)
	}
	return s
}
