package fid

import (
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	"gonum.org/v1/gonum/mat"
)

// naiveMMD is the unbiased MMD² with the cubic polynomial kernel over the
// full sets (equal sizes).
func naiveMMD(x, y *mat.Dense) float64 {
	m, d := x.Dims()
	k := func(a, b []float64) float64 {
		return math.Pow(mat.Dot(mat.NewVecDense(d, a), mat.NewVecDense(d, b))/float64(d)+1, 3)
	}
	var kxx, kyy, kxy float64
	for i := range m {
		for j := range m {
			if i != j {
				kxx += k(x.RawRowView(i), x.RawRowView(j))
				kyy += k(y.RawRowView(i), y.RawRowView(j))
			}
			kxy += k(x.RawRowView(i), y.RawRowView(j))
		}
	}
	fm := float64(m)
	return (kxx+kyy)/(fm*(fm-1)) - 2*kxy/(fm*fm)
}

func TestKID(t *testing.T) {
	x := gaussian(1, 2000, 8, nil)
	x2 := gaussian(2, 2000, 8, nil) // same distribution, other draws
	shift := func(by float64) *mat.Dense {
		return gaussian(3, 2000, 8, func(_, _ int, v float64) float64 { return v + by })
	}
	opts := KIDOptions{Subsets: 20, SubsetSize: 250}
	for _, tc := range []struct {
		name    string
		a, b    *mat.Dense
		opts    KIDOptions
		atLeast float64 // 0: want |KID| < 0.02; else KID ≥ atLeast and ≫ its standard error
	}{
		// Identical rows overlap between the a and b subsets, which biases the
		// estimator slightly negative: ≈ −2·(k(x,x) − k(x,y))/N ≈ −0.007 here.
		{"identical sets", x, x, opts, 0},
		{"same distribution", x, x2, KIDOptions{Subsets: 20, SubsetSize: 250, Seed: 5}, 0},
		{"shifted by 0.5", x, shift(0.5), opts, 0.5},
		{"shifted by 0.1", x, shift(0.1), opts, 0.01},
		{"defaults, shifted by 0.5", x2, shift(0.5), KIDOptions{Subsets: 3}, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := KID(tc.a, tc.b, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			se := r.Std / math.Sqrt(float64(r.Subsets))
			if tc.atLeast > 0 {
				if r.Mean < tc.atLeast || r.Mean < 5*se {
					t.Errorf("KID = %g ± %g, want clearly positive (≥ %g)", r.Mean, r.Std, tc.atLeast)
				}
			} else if math.Abs(r.Mean) > 0.02 {
				t.Errorf("KID = %g ± %g, want ≈ 0", r.Mean, r.Std)
			}
		})
	}
	r, _ := KID(gaussian(1, 30, 2, nil), gaussian(2, 40, 2, nil), KIDOptions{})
	if r.Subsets != 100 || r.SubsetSize != 30 {
		t.Errorf("defaults: %d subsets of %d, want 100 of min(1000, 30, 40)", r.Subsets, r.SubsetSize)
	}
}

func TestKIDMatchesNaive(t *testing.T) {
	x := gaussian(4, 30, 5, nil)
	y := gaussian(5, 30, 5, func(_, j int, v float64) float64 { return 1.3*v + 0.1*float64(j) })
	want := naiveMMD(x, y)
	// Subsets of the full size are permutations: every subset gives want.
	r, err := KID(x, y, KIDOptions{Subsets: 3, SubsetSize: 30})
	if err != nil {
		t.Fatal(err)
	}
	if relErr(r.Mean, want) > 1e-12 || r.Std > 1e-12*math.Abs(want) {
		t.Errorf("KID = %.15g ± %g, naive %.15g", r.Mean, r.Std, want)
	}
}

func TestKIDReproducible(t *testing.T) {
	x := gaussian(6, 200, 4, nil)
	y := gaussian(7, 150, 4, func(_, _ int, v float64) float64 { return v * 1.2 })
	run := func(seed uint64) KIDResult {
		r, err := KID(x, y, KIDOptions{Subsets: 20, SubsetSize: 50, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if a, b := run(1), run(1); a != b {
		t.Errorf("same seed gave %+v and %+v", a, b)
	}
	if a, b := run(1), run(2); a.Mean == b.Mean {
		t.Errorf("seeds 1 and 2 both gave %g", a.Mean)
	}
}

func TestKIDErrors(t *testing.T) {
	x := gaussian(1, 20, 3, nil)
	nan := gaussian(1, 20, 3, nil)
	nan.Set(4, 2, math.NaN())
	for _, tc := range []struct {
		name string
		a, b *mat.Dense
		opts KIDOptions
		want []string
	}{
		{"dims", x, gaussian(1, 20, 4, nil), KIDOptions{}, []string{"dimension mismatch", "20×3", "20×4"}},
		{"NaN", x, nan, KIDOptions{}, []string{"b: feature row 4, column 2 is NaN"}},
		{"subset too big", x, x, KIDOptions{SubsetSize: 21}, []string{"SubsetSize=21 exceeds"}},
		{"subset too small", x, x, KIDOptions{SubsetSize: 1}, []string{"need ≥ 2"}},
		{"negative subsets", x, x, KIDOptions{Subsets: -1}, []string{"Subsets=-1"}},
		{"nil", nil, x, KIDOptions{}, []string{"nil features"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := KID(tc.a, tc.b, tc.opts)
			testutil.WantErr(t, err, tc.want...)
		})
	}
}
