package diffusion

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Prior is a Gaussian fit of the forward process's marginal at t = T,
//
//	q(x_T) = ∫ N(x_T; √ᾱ_T x_0, (1 − ᾱ_T) I) p_data(x_0) dx_0,
//
// the Gaussian with its mean and covariance: N(√ᾱ_T μ, ᾱ_T Σ + (1 − ᾱ_T) I), where μ and Σ are
// the mean and covariance of the training images (per class as well, for class-conditional
// sampling: q(x_T ∣ y)). DDPM draws x_T from N(0, I) instead, which is q(x_T) only when ᾱ_T ≈ 0;
// with seed 000's schedule (T = 300, β 1e-4 → 0.02) ᾱ_T = 0.048, so a training x_T keeps 22% of
// its image (√ᾱ_T) and a black background of −1 sits at −0.22 on average. A sampler started from
// N(0, I) shows the network mid-grey "ink everywhere" at t = T: digits with much ink (0, 8) come
// out too often and 1s too rarely. Starting from this prior removes that mismatch without
// retraining; it uses two moments of the training set (no training image enters a sample).
//
// One Gaussian is a poor fit of q(x_T) itself when x_T keeps that much of its image: q(x_T) is the
// mixture Σ_y π_y q(x_T ∣ y) over the classes (π_y: their shares), and the one Gaussian's draws
// hold blends of digits that no training x_T holds. With Mixture set, an image without a label
// (an unconditional model's) starts from that mixture of the per-class fits instead: its class is
// drawn with probability π_y (DrawClasses), then x_T from the fit of q(x_T ∣ y); the network is not
// told the class. Like the per-class fits, the mixture uses the labels of the training set only
// through per-class moments and shares.
type Prior struct {
	// AlphaBarT is the ᾱ_T the prior was fitted for (a sampler checks it against its schedule).
	AlphaBarT float64
	// Dim is the number of pixels per image.
	Dim int
	// Mixture draws x_T of images without a label from the class mixture of the per-class fits
	// (a prior fitted with labels only; Check refuses it otherwise).
	Mixture bool
	all     gaussian
	classes []gaussian // per class, when fitted with labels
	shares  []float64  // π_y, the share of each class among the training images
}

// gaussian is N(mean, L Lᵀ).
type gaussian struct {
	mean []float64
	chol *mat.TriDense // lower triangular
}

// FitPrior fits the prior of schedule s to n = len(images)/dim training images (row-major, in the
// model's [−1, 1] range). labels (nil, or n classes in [0, numClasses)) also fits q(x_T ∣ y) per
// class; numClasses is ignored without labels. Each class needs more than one image.
func FitPrior(s *schedule.Schedule, images []float32, dim int, labels []int, numClasses int) (*Prior, error) {
	if dim < 1 || len(images) == 0 || len(images)%dim != 0 {
		return nil, fmt.Errorf("prior: %d values are not a whole number of %d-pixel images", len(images), dim)
	}
	n := len(images) / dim
	if n < 2 {
		return nil, fmt.Errorf("prior: %d image: need at least 2 to fit a covariance", n)
	}
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("prior: %d labels for %d images", len(labels), n)
	}
	ab := s.AlphaBar[s.T]
	p := &Prior{AlphaBarT: ab, Dim: dim}
	rows := make([][]int, 1)
	for i := range n {
		rows[0] = append(rows[0], i)
	}
	if labels != nil {
		rows = append(rows, make([][]int, numClasses)...)
		for i, y := range labels {
			if y < 0 || y >= numClasses {
				return nil, fmt.Errorf("prior: label %d of image %d out of range [0, %d]", y, i, numClasses-1)
			}
			rows[1+y] = append(rows[1+y], i)
		}
	}
	for k, idx := range rows {
		if len(idx) < 2 {
			return nil, fmt.Errorf("prior: class %d has %d images: need at least 2", k-1, len(idx))
		}
		g, err := fitGaussian(images, dim, idx, ab)
		if err != nil {
			if k > 0 {
				return nil, fmt.Errorf("prior of class %d: %w", k-1, err)
			}
			return nil, err
		}
		if k == 0 {
			p.all = g
		} else {
			p.classes = append(p.classes, g)
			p.shares = append(p.shares, float64(len(idx))/float64(n))
		}
	}
	return p, nil
}

// fitGaussian returns N(√ᾱ μ, ᾱ Σ + (1 − ᾱ) I) of the images at idx.
func fitGaussian(images []float32, dim int, idx []int, ab float64) (gaussian, error) {
	x := mat.NewDense(len(idx), dim, nil)
	mean := make([]float64, dim)
	for r, i := range idx {
		for j, v := range images[i*dim : (i+1)*dim] {
			x.Set(r, j, float64(v))
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] *= math.Sqrt(ab) / float64(len(idx))
	}
	cov := mat.NewSymDense(dim, nil)
	stat.CovarianceMatrix(cov, x, nil)
	cov.ScaleSym(ab, cov)
	for j := range dim {
		cov.SetSym(j, j, cov.At(j, j)+1-ab)
	}
	var ch mat.Cholesky
	if !ch.Factorize(cov) {
		return gaussian{}, fmt.Errorf("prior: covariance not positive definite (ᾱ_T = %g)", ab)
	}
	var l mat.TriDense
	ch.LTo(&l)
	return gaussian{mean: mean, chol: &l}, nil
}

// Classes is the number of per-class priors (0: fitted without labels).
func (p *Prior) Classes() int { return len(p.classes) }

// Shares returns π_y, the share of each class among the images the prior was fitted to (nil:
// fitted without labels).
func (p *Prior) Shares() []float64 { return append([]float64(nil), p.shares...) }

// DrawClasses draws b classes from r, each with probability π_y: the mixture components of b
// draws of the mixture prior (Mixture). It needs a prior fitted with labels.
func (p *Prior) DrawClasses(r *rand.Rand, b int) ([]int, error) {
	if len(p.classes) == 0 {
		return nil, errors.New("prior: fitted without labels, it has no classes to draw")
	}
	out := make([]int, b)
	for i := range out {
		u, k := r.Float64(), 0
		for ; k < len(p.shares)-1 && u >= p.shares[k]; k++ {
			u -= p.shares[k]
		}
		out[i] = k
	}
	return out, nil
}

// Apply turns standard normal noise ε (b images of Dim values, row-major, changed in place) into
// draws x_T = m + L ε of the prior: of q(x_T ∣ y) for image i when labels[i] is a fitted class,
// else of q(x_T). labels is nil or has b entries (a label outside the fitted classes, such as a
// conditional model's "no class" token, uses q(x_T)).
func (p *Prior) Apply(eps []float32, labels []int) error {
	if len(eps)%p.Dim != 0 {
		return fmt.Errorf("prior: %d values are not a whole number of %d-pixel images", len(eps), p.Dim)
	}
	b := len(eps) / p.Dim
	if labels != nil && len(labels) != b {
		return fmt.Errorf("prior: %d labels for %d images", len(labels), b)
	}
	e := mat.NewVecDense(p.Dim, nil)
	var out mat.VecDense
	for i := range b {
		g := p.all
		if labels != nil && labels[i] >= 0 && labels[i] < len(p.classes) {
			g = p.classes[labels[i]]
		}
		row := eps[i*p.Dim : (i+1)*p.Dim]
		for j, v := range row {
			e.SetVec(j, float64(v))
		}
		out.MulVec(g.chol, e)
		for j := range row {
			row[j] = float32(g.mean[j] + out.AtVec(j))
		}
	}
	return nil
}

// Check reports whether the prior fits a schedule: ᾱ_T differs with T and β, and a prior of
// another schedule would start the chain from the wrong marginal.
func (p *Prior) Check(s *schedule.Schedule, dim int) error {
	if p.Dim != dim {
		return fmt.Errorf("prior of %d pixels for %d-pixel images", p.Dim, dim)
	}
	if p.Mixture && len(p.classes) == 0 {
		return errors.New("a mixture prior needs per-class fits (FitPrior with labels)")
	}
	if ab := s.AlphaBar[s.T]; math.Abs(ab-p.AlphaBarT) > 1e-12*math.Max(1, ab) {
		return fmt.Errorf("prior fitted for ᾱ_T = %g, but the schedule (%s) has ᾱ_T = %g", p.AlphaBarT, s.Config, ab)
	}
	return nil
}

// String describes the prior for sampler descriptions.
func (p *Prior) String() string {
	if p.Mixture {
		return fmt.Sprintf("x_T ~ class mixture of Gaussian fits of q(x_T ∣ y) (ᾱ_T = %.3g)", p.AlphaBarT)
	}
	if len(p.classes) > 0 {
		return fmt.Sprintf("x_T ~ Gaussian fit of q(x_T ∣ y) (ᾱ_T = %.3g)", p.AlphaBarT)
	}
	return fmt.Sprintf("x_T ~ Gaussian fit of q(x_T) (ᾱ_T = %.3g)", p.AlphaBarT)
}
