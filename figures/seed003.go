package figures

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/fid"
)

// The measures of seed 003's notebook (DDPM.ipynb) that the rest of the package does not have:
// its FID on raw pixels, its loss weights, and per-image ε errors for its question on the
// variance of the loss estimate.

// PixelNetwork is the "feature network" name (and hash) of PixelStats: the pixels themselves.
const PixelNetwork = "pixels-0to1"

// PixelStats returns the mean and covariance of n images (flat n×28×28 in [−1, 1]) taken as
// 784-dimensional vectors with pixels rescaled to [0, 1], the scale of seed 003's notebook, which
// computes its FID on raw pixels. Two PixelStats compare with fid.FID.
func PixelStats(images []float32, n int, dataset string) (*fid.Stats, error) {
	if n < 2 || len(images) < n*Pixels {
		return nil, fmt.Errorf("figures: pixel statistics of %d images from %d values (need ≥ 2 images)", n, len(images))
	}
	data := make([]float64, n*Pixels)
	for i := range data {
		data[i] = (float64(images[i]) + 1) / 2
	}
	s, err := fid.ComputeStats(mat.NewDense(n, Pixels, data))
	if err != nil {
		return nil, err
	}
	s.Network, s.NetworkHash, s.Dataset = PixelNetwork, PixelNetwork, dataset
	return s, nil
}

// LossWeights returns, for t = 1..T (index t−1), the weight β_t / (2 α_t (1 − ᾱ_t)) that the
// variational bound puts on ‖ε − ε̂‖² when the reverse variance is σ_t² = β_t: the weight of seed
// 003's ε-loss (its "Code II"), which Ho et al.'s simple loss replaces by 1.
func LossWeights(s *schedule.Schedule) []float64 {
	w := make([]float64, s.T)
	for t := 1; t <= s.T; t++ {
		w[t-1] = s.Beta[t] / (2 * (1 - s.Beta[t]) * (1 - s.AlphaBar[t]))
	}
	return w
}

// ImageMSE returns the mean squared difference per image of two equally long sets of 28×28
// images (flat): ‖a_i − b_i‖² / 784 for each image i, the per-image ε-loss when a is ε and b is ε̂.
func ImageMSE(a, b []float32) ([]float64, error) {
	if len(a) != len(b) || len(a)%Pixels != 0 {
		return nil, fmt.Errorf("figures: per-image error of %d and %d values (want equal multiples of %d)", len(a), len(b), Pixels)
	}
	out := make([]float64, len(a)/Pixels)
	for i := range out {
		var sum float64
		for p := i * Pixels; p < (i+1)*Pixels; p++ {
			d := float64(a[p]) - float64(b[p])
			sum += d * d
		}
		out[i] = sum / Pixels
	}
	return out, nil
}
