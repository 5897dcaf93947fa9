package fid

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	"gonum.org/v1/gonum/mat"
)

func TestFIDIdenticalIsZero(t *testing.T) {
	for _, tc := range []struct {
		name string
		n, d int
	}{{"300x16", 300, 16}, {"1000x64", 1000, 64}} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStats(t, gaussian(7, tc.n, tc.d, nil))
			r := mustFID(t, s, s)
			if math.Abs(r.Raw) >= 1e-9 {
				t.Errorf("FID(X, X) raw = %g, want |FID| < 1e-9", r.Raw)
			}
		})
	}
}

func TestFIDInvariances(t *testing.T) {
	x := gaussian(1, 400, 12, func(i, j int, v float64) float64 { return v * float64(j+1) })
	y := gaussian(2, 500, 12, func(i, j int, v float64) float64 { return v + 0.3*float64(j%3) })
	ref := mustFID(t, mustStats(t, x), mustStats(t, y)).FID

	perm := rand.New(rand.NewPCG(3, 4)).Perm(400)
	xp := mat.NewDense(400, 12, nil)
	for i, p := range perm {
		xp.SetRow(i, x.RawRowView(p))
	}
	shift := func(m *mat.Dense) *mat.Dense { // a common offset of 1e4 must not matter in float64
		r, c := m.Dims()
		out := mat.NewDense(r, c, nil)
		out.Apply(func(_, _ int, v float64) float64 { return v + 1e4 }, m)
		return out
	}
	for _, tc := range []struct {
		name string
		a, b *mat.Dense
		tol  float64
	}{
		{"rows permuted", xp, y, 1e-12},
		{"arguments swapped", y, x, 1e-10},
		{"common offset 1e4", shift(x), shift(y), 1e-8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustFID(t, mustStats(t, tc.a), mustStats(t, tc.b)).FID
			if e := relErr(got, ref); e > tc.tol {
				t.Errorf("FID = %.15g, want %.15g (rel err %g > %g)", got, ref, e, tc.tol)
			}
		})
	}
}

func TestFIDDiagonalClosedForm(t *testing.T) {
	for _, tc := range []struct {
		name       string
		m1, m2     []float64
		var1, var2 []float64
	}{
		{"equal", []float64{0, 0}, []float64{0, 0}, []float64{1, 4}, []float64{1, 4}},
		{"mean shift", []float64{0, 1, 2}, []float64{1, 1, -2}, []float64{1, 1, 1}, []float64{1, 1, 1}},
		{"variances", []float64{0, 0, 0}, []float64{0, 0, 0}, []float64{1, 9, 0.25}, []float64{4, 1, 2.25}},
		{"zero variance", []float64{0, 3}, []float64{1, 3}, []float64{0, 2}, []float64{5, 0}},
		{"wide scales", []float64{1e3, -1e-3}, []float64{-1e3, 1e-3}, []float64{1e6, 1e-8}, []float64{2.5e5, 4e-8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := 0.0
			for i := range tc.m1 {
				dm, ds := tc.m1[i]-tc.m2[i], math.Sqrt(tc.var1[i])-math.Sqrt(tc.var2[i])
				want += dm*dm + ds*ds
			}
			r := mustFID(t, diagStats(tc.m1, tc.var1), diagStats(tc.m2, tc.var2))
			if want == 0 && math.Abs(r.FID) > 1e-12 || want != 0 && relErr(r.FID, want) > 1e-9 {
				t.Errorf("FID = %.15g, want ‖μ₁−μ₂‖² + Σ(σ₁−σ₂)² = %.15g", r.FID, want)
			}
		})
	}
}

// traceSqrtEigen computes Tr((Σ₁Σ₂)^½) = Σ √λ over the eigenvalues of the
// non-symmetric product with a general eigensolver: an independent path.
func traceSqrtEigen(t *testing.T, s1, s2 mat.Symmetric) float64 {
	var p mat.Dense
	p.Mul(s1, s2)
	var e mat.Eigen
	if !e.Factorize(&p, mat.EigenNone) {
		t.Fatal("mat.Eigen failed")
	}
	var sum complex128
	for _, v := range e.Values(nil) {
		sum += cmplx.Sqrt(v)
	}
	if math.Abs(imag(sum)) > 1e-8*math.Abs(real(sum)) {
		t.Fatalf("Tr sqrt(Σ₁Σ₂) has imaginary part %g", imag(sum))
	}
	return real(sum)
}

func TestFIDGeneralCovariance(t *testing.T) {
	d := 10
	mean := func(seed uint64) []float64 { return gaussian(seed, 1, d, nil).RawRowView(0) }
	s1 := randomCov(11, d, 0.05)
	for _, tc := range []struct {
		name string
		s2   *mat.SymDense
		want func(tr1, tr2, md float64) float64 // nil: independent eigen check
	}{
		{"random pair", randomCov(12, d, 0.1), nil},
		{"near-singular pair", randomCov(13, d, 1e-6), nil},
		{"scaled Σ₂ = 4Σ₁", func() *mat.SymDense {
			s := mat.NewSymDense(d, nil)
			s.ScaleSym(4, s1)
			return s
		}(), func(tr1, _, md float64) float64 { return md + (1-2)*(1-2)*tr1 }}, // (1−c)²·Tr Σ₁
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Stats{Mean: mean(21), Cov: s1, N: 5000, Dim: d}
			b := &Stats{Mean: mean(22), Cov: tc.s2, N: 5000, Dim: d}
			r := mustFID(t, a, b)
			var want float64
			if tc.want != nil {
				want = tc.want(r.TraceA, r.TraceB, r.MeanTerm)
			} else {
				want = r.MeanTerm + mat.Trace(s1) + mat.Trace(tc.s2) - 2*traceSqrtEigen(t, s1, tc.s2)
			}
			if e := relErr(r.FID, want); e > 1e-9 {
				t.Errorf("FID = %.15g, independent = %.15g (rel err %g)", r.FID, want, e)
			}
		})
	}
}

func TestFIDRankDeficient(t *testing.T) {
	for _, tc := range []struct {
		name         string
		na, nb, d    int
		wantWarnings []string
	}{
		{"both N<D", 20, 25, 32, []string{"a (N=20, D=32): N=20 ≤ D=32: covariance is rank-deficient", "b (N=25, D=32)"}},
		{"one N<D", 10, 100, 16, []string{"N=10 ≤ D=16", "rank-deficient", "N=100 < 10·D=160: FID is biased upward"}},
		{"N=D", 16, 16, 16, []string{"N=16 ≤ D=16"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustStats(t, gaussian(5, tc.na, tc.d, nil))
			b := mustStats(t, gaussian(6, tc.nb, tc.d, func(_, _ int, v float64) float64 { return 1.5*v + 0.2 }))
			r := mustFID(t, a, b)
			joined := strings.Join(r.Warnings, "\n")
			for _, w := range tc.wantWarnings {
				if !strings.Contains(joined, w) {
					t.Errorf("warnings %q lack %q", r.Warnings, w)
				}
			}
			if r.MostNegativeEigenvalue > 0 || r.ClippedEigenvalues < 0 {
				t.Errorf("bad eigenvalue report %d, %g", r.ClippedEigenvalues, r.MostNegativeEigenvalue)
			}
			self := mustFID(t, a, a) // singular Σ: round-off is amplified by √ but must stay tiny
			if self.FID > 1e-6*(self.TraceA+1) {
				t.Errorf("FID(a, a) = %g for singular Σ, want ≈ 0", self.FID)
			}
		})
	}
}

func TestFIDNotPSDAndClamping(t *testing.T) {
	// A covariance with a negative round-off eigenvalue and a zero
	// covariance: the result is finite, clipping is reported, FID ≥ 0.
	off := math.Nextafter(0.5, 1) // 0.5 + 2⁻⁵³: eigenvalues 1 + 2⁻⁵³ and −2⁻⁵³
	bad := mat.NewSymDense(2, []float64{0.5, off, off, 0.5})
	a := &Stats{Mean: []float64{0, 0}, Cov: bad, N: 100, Dim: 2}
	zero := &Stats{Mean: []float64{1, 1}, Cov: mat.NewSymDense(2, nil), N: 100, Dim: 2}
	r := mustFID(t, a, a)
	if r.FID > 1e-12 || r.ClippedEigenvalues < 1 || r.MostNegativeEigenvalue >= 0 {
		t.Errorf("FID(a, a) = %g, clipped %d (most negative %g), want ≈ 0 with clipping reported",
			r.FID, r.ClippedEigenvalues, r.MostNegativeEigenvalue)
	}
	r = mustFID(t, zero, zero)
	if r.FID != 0 || r.ClippedEigenvalues != 0 {
		t.Errorf("FID(0-cov, same) = %v, clipped %d", r.FID, r.ClippedEigenvalues)
	}
	r = mustFID(t, a, zero)
	if relErr(r.FID, 2+1) > 1e-12 { // ‖μ‖² = 2, Tr Σ₁ = 1, Tr Σ₂ = 0
		t.Errorf("FID(a, 0-cov) = %.15g, want 3", r.FID)
	}
	// A clearly indefinite "covariance" is clipped with a warning.
	ind := mat.NewSymDense(2, []float64{1, 2, 2, 1}) // eigenvalues 3, −1
	r = mustFID(t, &Stats{Mean: []float64{0, 0}, Cov: ind, N: 100, Dim: 2}, zero)
	if r.ClippedEigenvalues != 1 || r.MostNegativeEigenvalue > -0.99 ||
		!strings.Contains(strings.Join(r.Warnings, "|"), "not positive semidefinite") {
		t.Errorf("indefinite Σ: clipped %d, most negative %g, warnings %q",
			r.ClippedEigenvalues, r.MostNegativeEigenvalue, r.Warnings)
	}
}

func TestFIDErrors(t *testing.T) {
	ok := func() *Stats { return diagStats([]float64{0, 0}, []float64{1, 1}) }
	with := func(f func(s *Stats)) *Stats { s := ok(); f(s); return s }
	for _, tc := range []struct {
		name string
		a, b *Stats
		want []string
	}{
		{"dimension mismatch", ok(), diagStats([]float64{0, 0, 0}, []float64{1, 1, 1}), []string{"dimension mismatch", "D=2", "D=3"}},
		{"network mismatch", with(func(s *Stats) { s.NetworkHash = "aaa" }), with(func(s *Stats) { s.NetworkHash = "bbb" }),
			[]string{"network mismatch", "aaa", "bbb", "not comparable"}},
		{"N < 2", ok(), with(func(s *Stats) { s.N = 1 }), []string{"N=1", "N ≥ 2"}},
		{"NaN mean", with(func(s *Stats) { s.Mean[1] = math.NaN() }), ok(), []string{"Mean[1] is NaN"}},
		{"Inf cov", ok(), with(func(s *Stats) { s.Cov.SetSym(0, 1, math.Inf(1)) }), []string{"Cov[0,1] is +Inf"}},
		{"nil", nil, ok(), []string{"nil Stats"}},
		{"mean length", with(func(s *Stats) { s.Mean = s.Mean[:1] }), ok(), []string{"Mean has length 1, want Dim=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FID(tc.a, tc.b)
			testutil.WantErr(t, err, tc.want...)
		})
	}
}

func TestFIDProvenanceWarnings(t *testing.T) {
	s := func(hash string) *Stats {
		st := diagStats([]float64{0}, []float64{1})
		st.N, st.NetworkHash = 100, hash
		return st
	}
	for _, tc := range []struct {
		name, ha, hb, want string
	}{
		{"none", "", "", "no network hash recorded"},
		{"one", "abc", "", "only one side"},
		{"same", "abc", "abc", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustFID(t, s(tc.ha), s(tc.hb))
			got := strings.Join(r.Warnings, "|")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("warnings %q, want %q", got, tc.want)
			}
		})
	}
}
