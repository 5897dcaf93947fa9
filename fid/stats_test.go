package fid

import (
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	"gonum.org/v1/gonum/mat"
)

func TestComputeStatsMatchesNaive(t *testing.T) {
	x := gaussian(9, 50, 4, func(i, j int, v float64) float64 { return 3*v + float64(j) - 1e6 })
	s := mustStats(t, x)
	n, d := x.Dims()
	for j := range d {
		m := 0.0
		for i := range n {
			m += x.At(i, j)
		}
		m /= float64(n)
		if relErr(s.Mean[j], m) > 1e-14 {
			t.Errorf("Mean[%d] = %v, want %v", j, s.Mean[j], m)
		}
		for k := range d {
			c := 0.0
			for i := range n {
				c += (x.At(i, j) - m) * (x.At(i, k) - s.Mean[k])
			}
			c /= float64(n - 1) // unbiased
			if math.Abs(s.Cov.At(j, k)-c) > 1e-9*math.Sqrt(s.Cov.At(j, j)*s.Cov.At(k, k)) {
				t.Errorf("Cov[%d,%d] = %v, want %v", j, k, s.Cov.At(j, k), c)
			}
		}
	}
	if s.N != n || s.Dim != d {
		t.Errorf("N, Dim = %d, %d, want %d, %d", s.N, s.Dim, n, d)
	}
	// Two samples: unbiased variance of {0, 2} is 2 (the biased one is 1).
	two := mustStats(t, mat.NewDense(2, 1, []float64{0, 2}))
	if two.Cov.At(0, 0) != 2 || two.Mean[0] != 1 {
		t.Errorf("stats of {0,2}: mean %v var %v, want 1, 2", two.Mean[0], two.Cov.At(0, 0))
	}
}

func TestComputeStatsErrors(t *testing.T) {
	withAt := func(i, j int, v float64) *mat.Dense {
		m := gaussian(1, 5, 4, nil)
		m.Set(i, j, v)
		return m
	}
	for _, tc := range []struct {
		name string
		x    *mat.Dense
		want []string
	}{
		{"N=1", mat.NewDense(1, 3, nil), []string{"1×3", "N ≥ 2"}},
		{"D=0", &mat.Dense{}, []string{"D is 0"}},
		{"nil", nil, []string{"nil features"}},
		{"NaN", withAt(2, 3, math.NaN()), []string{"row 2, column 3 is NaN"}},
		{"+Inf", withAt(4, 0, math.Inf(1)), []string{"row 4, column 0 is +Inf"}},
		{"-Inf", withAt(0, 1, math.Inf(-1)), []string{"row 0, column 1 is -Inf"}},
		{"overflow", mat.NewDense(2, 1, []float64{-1e300, 1e300}), []string{"Cov[0,0] is +Inf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ComputeStats(tc.x)
			testutil.WantErr(t, err, tc.want...)
		})
	}
}

// projector is a fake FeatureExtractor: a fixed random projection of the
// pixels followed by tanh; it also classifies by the sign of the mean.
type projector struct {
	w   *mat.Dense // 784×dim
	bad bool       // return wrongly shaped features
}

func newProjector(dim int) *projector { return &projector{w: gaussian(77, ImagePixels, dim, nil)} }
func (p *projector) Name() string     { return "test-projector" }
func (p *projector) Hash() string     { return "sha256:test" }
func (p *projector) Dim() int         { _, d := p.w.Dims(); return d }

func (p *projector) Features(images []float32, n int) (*mat.Dense, error) {
	x := mat.NewDense(n, ImagePixels, nil)
	for i, v := range images {
		x.Set(i/ImagePixels, i%ImagePixels, float64(v))
	}
	var f mat.Dense
	f.Mul(x, p.w)
	f.Apply(func(_, _ int, v float64) float64 { return math.Tanh(v / 28) }, &f)
	if p.bad {
		return mat.NewDense(n, p.Dim()+1, nil), nil
	}
	return &f, nil
}

var _ FeatureExtractor = (*projector)(nil)

func TestStatsFromImages(t *testing.T) {
	n := 40
	imgs := make([]float32, n*ImagePixels)
	for i := range imgs {
		imgs[i] = float32(math.Sin(float64(i)*0.37)) * 0.99
	}
	s, err := StatsFromImages(newProjector(8), "unit-test", imgs, n)
	if err != nil {
		t.Fatal(err)
	}
	if s.Network != "test-projector" || s.NetworkHash != "sha256:test" || s.Dataset != "unit-test" || s.N != n || s.Dim != 8 {
		t.Errorf("provenance/shape: %+v", *s)
	}

	nan := append([]float32(nil), imgs...)
	nan[ImagePixels+28*3+5] = float32(math.NaN())
	big := append([]float32(nil), imgs...)
	big[7] = 1.5
	for _, tc := range []struct {
		name string
		fx   FeatureExtractor
		imgs []float32
		n    int
		want []string
	}{
		{"length", newProjector(8), imgs[:100], n, []string{"100 values", "n×28×28"}},
		{"zero n", newProjector(8), nil, 0, []string{"n=0"}},
		{"NaN pixel", newProjector(8), nan, n, []string{"image 1 pixel (3,5) is NaN"}},
		{"unclipped", newProjector(8), big, n, []string{"outside [-1,1]", "clip"}},
		{"bad features", &projector{w: newProjector(8).w, bad: true}, imgs, n, []string{"returned 40×9 features, want 40×8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := StatsFromImages(tc.fx, "x", tc.imgs, tc.n)
			testutil.WantErr(t, err, tc.want...)
		})
	}
}
