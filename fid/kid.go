package fid

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// KIDOptions configures [KID]. The zero value gives the defaults.
type KIDOptions struct {
	Subsets    int    // number of random subsets; 0 means 100
	SubsetSize int    // rows per subset m ≥ 2; 0 means min(1000, Na, Nb)
	Seed       uint64 // seed of the PCG generator that draws the subsets
}

// KIDResult is the kernel inception (here: kernel MNIST-feature) distance.
type KIDResult struct {
	Mean       float64 // mean over subsets of the unbiased MMD² estimate
	Std        float64 // population standard deviation over subsets
	Subsets    int     // subsets used
	SubsetSize int     // rows per subset
}

// kidStream is the PCG stream (second seed word) used for KID subsets.
const kidStream = 0x6b69642d73756273 // "kid-subs"

// KID returns the kernel distance between the Na×D features a and the Nb×D
// features b (Bińkowski et al. 2018, "Demystifying MMD GANs"): the unbiased
// estimator of MMD² with the polynomial kernel k(x,y) = (xᵀy/D + 1)³,
// averaged over opts.Subsets subsets of opts.SubsetSize rows drawn without
// replacement from each of a and b. Subsets come from a PCG generator seeded
// with opts.Seed, so results are reproducible. Unlike FID the estimator is
// unbiased in N, so it can be slightly negative when the distributions
// match. It assumes a and b are independent samples: rows shared by a and
// b (e.g. KID of a set with itself, or generated images that copy training
// images measured against those images) bias it negative, by about
// 2·(mean k(x,x) − mean k(x,y))/N for a set of N rows against itself.
func KID(a, b *mat.Dense, opts KIDOptions) (KIDResult, error) {
	if a == nil || b == nil {
		return KIDResult{}, fmt.Errorf("fid: KID: nil features")
	}
	na, da := a.Dims()
	nb, db := b.Dims()
	switch {
	case da == 0 || db == 0:
		return KIDResult{}, fmt.Errorf("fid: KID: features are %d×%d and %d×%d: D is 0", na, da, nb, db)
	case da != db:
		return KIDResult{}, fmt.Errorf("fid: KID: dimension mismatch: a is %d×%d, b is %d×%d", na, da, nb, db)
	}
	for _, f := range []struct {
		which string
		m     *mat.Dense
	}{{"a", a}, {"b", b}} {
		if err := checkFinite(f.m, "KID: "+f.which); err != nil {
			return KIDResult{}, err
		}
	}
	subsets, m := opts.Subsets, opts.SubsetSize
	if subsets == 0 {
		subsets = 100
	}
	if m == 0 {
		m = min(1000, na, nb)
	}
	switch {
	case subsets < 1:
		return KIDResult{}, fmt.Errorf("fid: KID: Subsets=%d, want ≥ 1", subsets)
	case m < 2:
		return KIDResult{}, fmt.Errorf("fid: KID: subset size %d (Na=%d, Nb=%d), need ≥ 2", m, na, nb)
	case m > na || m > nb:
		return KIDResult{}, fmt.Errorf("fid: KID: SubsetSize=%d exceeds Na=%d or Nb=%d", m, na, nb)
	}

	rng := rand.New(rand.NewPCG(opts.Seed, kidStream))
	idxA, idxB := identity(na), identity(nb)
	xs, ys := mat.NewDense(m, da, nil), mat.NewDense(m, da, nil)
	var gxx, gyy, gxy mat.Dense // inner products xᵀx', yᵀy', xᵀy (Dgemm is much faster than Dsyrk)
	mmds := make([]float64, subsets)
	for s := range mmds {
		sampleInto(rng, idxA, m)
		sampleInto(rng, idxB, m)
		for i := range m {
			copy(xs.RawRowView(i), a.RawRowView(idxA[i]))
			copy(ys.RawRowView(i), b.RawRowView(idxB[i]))
		}
		gxx.Mul(xs, xs.T())
		gyy.Mul(ys, ys.T())
		gxy.Mul(xs, ys.T())
		mmds[s] = mmdUnbiased(&gxx, &gyy, &gxy, float64(da))
	}
	mean := 0.0
	for _, v := range mmds {
		mean += v
	}
	mean /= float64(subsets)
	variance := 0.0
	for _, v := range mmds {
		variance += (v - mean) * (v - mean)
	}
	std := math.Sqrt(variance / float64(subsets))
	return KIDResult{Mean: mean, Std: std, Subsets: subsets, SubsetSize: m}, nil
}

// mmdUnbiased returns the unbiased MMD² of the polynomial kernel
// (xᵀy/d + 1)³ from the m×m inner-product matrices of x with x, y with y
// and x with y.
func mmdUnbiased(gxx, gyy, gxy *mat.Dense, d float64) float64 {
	cube := func(v float64) float64 { v = v/d + 1; return v * v * v }
	m, _ := gxx.Dims()
	var kxx, kyy, kxy float64
	for i := range m {
		rx, ry := gxx.RawRowView(i), gyy.RawRowView(i)
		for j := i + 1; j < m; j++ { // off-diagonal pairs, each once
			kxx += cube(rx[j])
			kyy += cube(ry[j])
		}
		for _, v := range gxy.RawRowView(i) {
			kxy += cube(v)
		}
	}
	fm := float64(m)
	return 2*(kxx+kyy)/(fm*(fm-1)) - 2*kxy/(fm*fm)
}

// identity returns [0, 1, …, n−1].
func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// sampleInto moves a uniform random m-subset of idx (a permutation) into
// idx[:m] by a partial Fisher–Yates shuffle.
func sampleInto(rng *rand.Rand, idx []int, m int) {
	for i := range m {
		j := i + rng.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
}

// checkFinite errors on the first NaN or ±Inf entry of f, naming it.
func checkFinite(f *mat.Dense, what string) error {
	r, c := f.Dims()
	for i := range r {
		for j, v := range f.RawRowView(i)[:c] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("fid: %s: feature row %d, column %d is %v", what, i, j, v)
			}
		}
	}
	return nil
}
