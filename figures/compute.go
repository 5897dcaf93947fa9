package figures

import (
	"fmt"
	"math/rand/v2"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Pixels is the number of values of one 28×28 image.
const Pixels = sampler.Pixels

// Noise returns n·len(ts) fixed Gaussian noise images: image i's noise ε_i (seeded by (seed, i))
// repeated for every t, so that a row of the noising grid shows the same ε scaled up.
func Noise(n, k int, seed int64) []float32 {
	eps := make([]float32, 0, n*k*Pixels)
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
		e := make([]float32, Pixels)
		for j := range e {
			e[j] = float32(rng.NormFloat64())
		}
		for range k {
			eps = append(eps, e...)
		}
	}
	return eps
}

// NoiseImages computes the forward process x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε (diffusion.AddNoise) for
// each of n images (flat n×28×28 in [−1, 1]) at each step of ts (t = 0 is x_0 itself), with the
// noise of Noise(n, len(ts), seed). The result is row-major: image i at ts[j] is cell i·len(ts)+j.
// It also returns the noise used.
func NoiseImages(b compute.Backend, s *schedule.Schedule, x0 []float32, n int, ts []int, seed int64) (xt, eps []float32, err error) {
	k := len(ts)
	if n < 1 || k < 1 || len(x0) < n*Pixels {
		return nil, nil, fmt.Errorf("figures: %d images at %d steps from %d values", n, k, len(x0))
	}
	for _, t := range ts {
		if t < 0 || t > s.T {
			return nil, nil, fmt.Errorf("figures: step t=%d out of range [0, %d]", t, s.T)
		}
	}
	x := make([]float32, 0, n*k*Pixels)
	tt := make([]int, 0, n*k)
	for i := range n {
		for _, t := range ts {
			x = append(x, x0[i*Pixels:(i+1)*Pixels]...)
			tt = append(tt, t)
		}
	}
	eps = Noise(n, k, seed)
	xt, err = addNoise(b, s, x, tt, eps)
	return xt, eps, err
}

// NoiseEach computes x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε for each of the len(ts) images of x0 at its own
// step ts[i] (0..T), with its own noise ε_i (Noise(len(ts), 1, seed): image i's noise depends
// only on seed and i). It returns x_t and ε.
func NoiseEach(b compute.Backend, s *schedule.Schedule, x0 []float32, ts []int, seed int64) (xt, eps []float32, err error) {
	n := len(ts)
	if n < 1 || len(x0) != n*Pixels {
		return nil, nil, fmt.Errorf("figures: %d steps for %d values (want one step per 28×28 image)", n, len(x0))
	}
	eps = Noise(n, 1, seed)
	xt, err = addNoise(b, s, x0, ts, eps)
	return xt, eps, err
}

// addNoise runs diffusion.AddNoise on len(ts) images.
func addNoise(b compute.Backend, s *schedule.Schedule, x []float32, ts []int, eps []float32) ([]float32, error) {
	n := len(ts)
	tt := make([]int32, n)
	for i, t := range ts {
		if t < 0 || t > s.T {
			return nil, fmt.Errorf("figures: step t=%d out of range [0, %d]", t, s.T)
		}
		tt[i] = int32(t)
	}
	exec, err := graph.NewExec(b, func(x0, t, eps *graph.Node) *graph.Node { return diffusion.AddNoise(s, x0, t, eps) })
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	out, err := exec.Call(tensors.FromFlatDataAndDimensions(x, n, 28, 28, 1), tensors.FromFlatDataAndDimensions(tt, n),
		tensors.FromFlatDataAndDimensions(eps, n, 28, 28, 1))
	if err != nil {
		return nil, fmt.Errorf("figures: forward process: %w", err)
	}
	return tensors.MustCopyFlatData[float32](out[0]), nil
}

// Denoised is the network's view of noisy images: the predicted noise ε̂(x_t, t) and the
// predicted clean image x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (diffusion.PredictX0).
type Denoised struct {
	EpsHat, X0Hat []float32
}

// Denoise evaluates the model on n noisy images xt at steps ts (one per image, 1..T), with class
// labels (nil: none; for a conditional model, nil means the "no class" token).
func Denoise(b compute.Backend, m *Model, xt []float32, ts []int, labels []int) (*Denoised, error) {
	n := len(ts)
	if len(xt) != n*Pixels {
		return nil, fmt.Errorf("figures: %d values for %d images", len(xt), n)
	}
	tt := make([]int32, n)
	for i, t := range ts {
		if t < 1 || t > m.Model.Schedule.T {
			return nil, fmt.Errorf("figures: step t=%d out of range [1, %d]", t, m.Model.Schedule.T)
		}
		tt[i] = int32(t)
	}
	cond := m.Model.Conditional()
	exec, err := model.NewExec(b, m.Store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		var y *graph.Node
		if cond {
			y = in[2]
		}
		eps := m.Model.Epsilon(scope.In(training.ModelScopeName), in[0], in[1], y)
		return []*graph.Node{eps, diffusion.PredictX0(m.Model.Schedule, in[0], in[1], eps)}
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	args := []any{tensors.FromFlatDataAndDimensions(xt, n, 28, 28, 1), tensors.FromFlatDataAndDimensions(tt, n)}
	if cond {
		y := make([]int32, n)
		for i := range y {
			y[i] = int32(m.Model.Net.NullClass())
			if labels != nil {
				y[i] = int32(labels[i])
			}
		}
		args = append(args, tensors.FromFlatDataAndDimensions(y, n))
	}
	out, err := exec.Call(args...)
	if err != nil {
		return nil, fmt.Errorf("figures: denoising: %w", err)
	}
	return &Denoised{EpsHat: tensors.MustCopyFlatData[float32](out[0]), X0Hat: tensors.MustCopyFlatData[float32](out[1])}, nil
}

// Digits returns the first image of each class 0..9 of a set (flat 10×28×28) and their indices.
func Digits(set *mnist.Set) ([]float32, []int) {
	var images []float32
	var idx []int
	for class := range 10 {
		for i, l := range set.Labels {
			if l == class {
				images = append(images, set.Image(i)...)
				idx = append(idx, i)
				break
			}
		}
	}
	return images, idx
}

// Steps returns k diffusion steps evenly spaced from 0 to T (both included).
func Steps(T, k int) []int {
	ts := make([]int, 0, k)
	for i := range k {
		t := (T*i + (k-1)/2) / max(1, k-1)
		if len(ts) == 0 || ts[len(ts)-1] != t {
			ts = append(ts, t)
		}
	}
	return ts
}
