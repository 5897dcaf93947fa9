package diffusion

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/internal/testutil"
)

// priorData is n images of dim pixels from two classes with different means and correlated
// pixels (pixel j+1 follows pixel j), in [−1, 1] like MNIST.
func priorData(n, dim int, seed uint64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	images := make([]float32, n*dim)
	labels := make([]int, n)
	for i := range n {
		labels[i] = i % 2
		prev := 0.0
		for j := range dim {
			v := 0.6*prev + 0.3*r.NormFloat64() - 0.5 + float64(labels[i])*0.4*float64(j%3)
			images[i*dim+j] = float32(max(-1, min(1, v)))
			prev = v
		}
	}
	return images, labels
}

// moments returns the mean and covariance of n rows of dim values.
func moments(x []float64, dim int) ([]float64, [][]float64) {
	n := len(x) / dim
	mean := make([]float64, dim)
	for i := range n {
		for j := range dim {
			mean[j] += x[i*dim+j] / float64(n)
		}
	}
	cov := make([][]float64, dim)
	for j := range dim {
		cov[j] = make([]float64, dim)
		for k := range dim {
			for i := range n {
				cov[j][k] += (x[i*dim+j] - mean[j]) * (x[i*dim+k] - mean[k])
			}
			cov[j][k] /= float64(n - 1)
		}
	}
	return mean, cov
}

// TestPriorMatchesForwardMarginal: draws of the prior have the mean and covariance of x_T drawn
// by the forward process q(x_T | x_0) from the same images (overall and per class), and a
// schedule with ᾱ_T ≈ 0 gives N(0, I).
func TestPriorMatchesForwardMarginal(t *testing.T) {
	const dim, nData, nDraws = 6, 4000, 60000
	images, labels := priorData(nData, dim, 1)
	s := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 300, Beta1: 1e-4, BetaT: 0.02})
	ab := s.AlphaBar[s.T]
	if math.Abs(ab-0.0481) > 5e-4 {
		t.Fatalf("seed 000's ᾱ_T = %g, want about 0.048", ab)
	}
	p, err := FitPrior(s, images, dim, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p.Classes() != 2 || !strings.Contains(p.String(), "q(x_T ∣ y)") {
		t.Fatalf("prior %q with %d classes, want 2 per-class priors", p, p.Classes())
	}
	r := rand.New(rand.NewPCG(2, 2))
	for _, class := range []int{-1, 0, 1} { // -1: q(x_T) over all images
		// Forward process: x_T = √ᾱ x_0 + √(1 − ᾱ) ε for data images of the class.
		var fwd []float64
		for len(fwd) < nDraws*dim {
			i := r.IntN(nData)
			if class >= 0 && labels[i] != class {
				continue
			}
			for j := range dim {
				fwd = append(fwd, math.Sqrt(ab)*float64(images[i*dim+j])+math.Sqrt(1-ab)*r.NormFloat64())
			}
		}
		eps := make([]float32, nDraws*dim)
		for i := range eps {
			eps[i] = float32(r.NormFloat64())
		}
		var lab []int
		if class >= 0 {
			lab = make([]int, nDraws)
			for i := range lab {
				lab[i] = class
			}
		}
		if err := p.Apply(eps, lab); err != nil {
			t.Fatal(err)
		}
		drawn := make([]float64, len(eps))
		for i, v := range eps {
			drawn[i] = float64(v)
		}
		mf, cf := moments(fwd, dim)
		md, cd := moments(drawn, dim)
		for j := range dim {
			if math.Abs(mf[j]-md[j]) > 0.02 {
				t.Errorf("class %d: mean of pixel %d: prior %.4f, forward process %.4f", class, j, md[j], mf[j])
			}
			for k := range dim {
				if math.Abs(cf[j][k]-cd[j][k]) > 0.02 {
					t.Errorf("class %d: cov[%d][%d]: prior %.4f, forward process %.4f", class, j, k, cd[j][k], cf[j][k])
				}
			}
		}
		if class == 1 && math.Abs(md[2]-mf[2]) < 0.02 && math.Abs(md[2]-md[0]) < 0.05 {
			t.Errorf("class 1: pixel 2 mean %.3f equals pixel 0's %.3f: the class means were not used", md[2], md[0])
		}
	}

	// With ᾱ_T ≈ 0 (T=1000, β up to 0.02) the prior is N(0, I): the draws are the noise itself.
	s1000 := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 1000, Beta1: 1e-4, BetaT: 0.02})
	p0, err := FitPrior(s1000, images, dim, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	eps := []float32{1, -2, 0.5, 0, 3, -1}
	want := append([]float32(nil), eps...)
	if err := p0.Apply(eps, nil); err != nil {
		t.Fatal(err)
	}
	for j := range eps {
		if math.Abs(float64(eps[j]-want[j])) > 1e-2 { // √ᾱ_T = 0.006
			t.Errorf("ᾱ_T = %.2g: pixel %d moved from %g to %g, want N(0, I) unchanged", p0.AlphaBarT, j, want[j], eps[j])
		}
	}
	if err := p.Check(s, dim); err != nil {
		t.Errorf("Check with its own schedule: %v", err)
	}
	if err := p.Check(s1000, dim); err == nil || !strings.Contains(err.Error(), "ᾱ_T") {
		t.Errorf("Check with another schedule: %v, want an error naming ᾱ_T", err)
	}
	if err := p.Check(s, dim+1); err == nil {
		t.Errorf("Check with %d pixels: no error", dim+1)
	}
}

// TestPriorBadInput: every invalid input is an error that names the problem.
func TestPriorBadInput(t *testing.T) {
	s := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 300, Beta1: 1e-4, BetaT: 0.02})
	images, labels := priorData(10, 4, 3)
	for _, tc := range []struct {
		name   string
		images []float32
		dim    int
		labels []int
		want   string
	}{
		{"ragged", images[:39], 4, nil, "whole number"},
		{"empty", nil, 4, nil, "whole number"},
		{"one image", images[:4], 4, nil, "at least 2"},
		{"label count", images, 4, labels[:9], "9 labels for 10 images"},
		{"label range", images, 4, append(labels[:9:9], 7), "label 7 of image 9 out of range"},
		{"small class", images[:12], 4, []int{0, 0, 1}, "class 1 has 1 images"},
	} {
		if _, err := FitPrior(s, tc.images, tc.dim, tc.labels, 2); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	p, err := FitPrior(s, images, 4, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(make([]float32, 7), nil); err == nil {
		t.Error("Apply of 7 values with 4 pixels per image: no error")
	}
	if err := p.Apply(make([]float32, 8), []int{0}); err == nil {
		t.Error("Apply of 2 images with 1 label: no error")
	}
}

// TestPriorOnMNIST: with seed 000's schedule the prior's mean keeps √ᾱ_T = 22% of the mean MNIST
// image: −0.22 on the always-black corner (N(0, I) puts 0 there), and per class the centre is ink
// for a 1 but background for a 0.
func TestPriorOnMNIST(t *testing.T) {
	set := testutil.MNISTTrain(t, 2000)
	s := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 300, Beta1: 1e-4, BetaT: 0.02})
	dim := set.Height * set.Width
	p, err := FitPrior(s, set.Images, dim, set.Labels, 10)
	if err != nil {
		t.Fatal(err)
	}
	mean := func(class int) []float32 { // the draw of ε = 0
		x := make([]float32, dim)
		if err := p.Apply(x, []int{class}); err != nil {
			t.Fatal(err)
		}
		return x
	}
	all, zero, one := mean(-1), mean(0), mean(1)
	centre := 14*set.Width + 14
	if want := -math.Sqrt(p.AlphaBarT); math.Abs(float64(all[0])-want) > 1e-4 || math.Abs(want+0.219) > 1e-3 {
		t.Errorf("prior mean at the corner %.4f, want −√ᾱ_T = %.4f", all[0], want)
	}
	if !(one[centre] > 0.15 && zero[centre] < -0.15) {
		t.Errorf("prior mean at the centre: class 1 %.3f, class 0 %.3f; want ink (> 0.15) for a 1, background (< −0.15) for a 0",
			one[centre], zero[centre])
	}
}

// BenchmarkFitPrior times a per-class fit of as many images as MNIST's training set (60,000 of 784
// pixels, 10 classes): 11.1 s on one core and 10.4 s with the eleven fits two at a time on the 2-core
// EPYC of 2026-12-06 (gonum's covariance product streams the images once per pair of pixels, so its
// speed is memory bandwidth, which the cores share): the fits stay sequential.
func BenchmarkFitPrior(b *testing.B) {
	const n, dim, classes = 60000, 784, 10
	r := rand.New(rand.NewPCG(1, 2))
	images, labels := make([]float32, n*dim), make([]int, n)
	for i := range n {
		labels[i] = i % classes
		for j := range dim {
			images[i*dim+j] = float32(r.Float64()*2 - 1)
		}
	}
	s := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 300, Beta1: 1e-4, BetaT: 0.02})
	for b.Loop() {
		if _, err := FitPrior(s, images, dim, labels, classes); err != nil {
			b.Fatal(err)
		}
	}
}
