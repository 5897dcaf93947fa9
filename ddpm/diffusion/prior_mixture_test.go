package diffusion

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
)

// TestMixturePrior: the mixture prior draws each class with its share of the training images, and
// its draws have the mean and covariance of q(x_T) (the law of total covariance: the mixture of the
// per-class fits has the moments of the one Gaussian fit) while each draw comes from one class's
// fit: bimodal where one Gaussian is not. Without labels it is refused.
func TestMixturePrior(t *testing.T) {
	const dim, nDraws = 6, 60000
	all, allLabels := priorData(6000, dim, 3)
	// Keep every image of class 0 and a third of class 1: shares 3/4 and 1/4.
	var images []float32
	var labels []int
	for i, y := range allLabels {
		if y == 0 || i%3 == 1 {
			images = append(images, all[i*dim:(i+1)*dim]...)
			labels = append(labels, y)
		}
	}
	s := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 30, Beta1: 1e-4, BetaT: 0.02}) // ᾱ_T = 0.74
	p, err := FitPrior(s, images, dim, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	p.Mixture = true
	if err := p.Check(s, dim); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got := p.Shares(); math.Abs(got[0]-0.75) > 1e-9 || math.Abs(got[1]-0.25) > 1e-9 {
		t.Fatalf("shares %v, want [0.75 0.25]", got)
	}
	if got := p.String(); !strings.Contains(got, "mixture") {
		t.Errorf("String() = %q, want the mixture named", got)
	}

	classes, err := p.DrawClasses(rand.New(rand.NewPCG(1, 2)), nDraws)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.DrawClasses(rand.New(rand.NewPCG(1, 2)), nDraws)
	if !slices.Equal(classes, again) {
		t.Error("the same generator drew other classes")
	}
	ones := 0
	for _, y := range classes {
		ones += y
	}
	if f := float64(ones) / nDraws; math.Abs(f-0.25) > 0.01 {
		t.Errorf("class 1 drawn %.3f of the time, want its share 0.25", f)
	}

	r := rand.New(rand.NewPCG(4, 5))
	eps := make([]float32, nDraws*dim)
	for i := range eps {
		eps[i] = float32(r.NormFloat64())
	}
	single := slices.Clone(eps)
	if err := p.Apply(eps, classes); err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(single, nil); err != nil {
		t.Fatal(err)
	}
	mixed, one := make([]float64, len(eps)), make([]float64, len(eps))
	for i := range eps {
		mixed[i], one[i] = float64(eps[i]), float64(single[i])
	}
	mm, cm := moments(mixed, dim)
	m1, c1 := moments(one, dim)
	for j := range dim {
		if math.Abs(mm[j]-m1[j]) > 0.02 {
			t.Errorf("mean of pixel %d: mixture %.4f, one Gaussian %.4f", j, mm[j], m1[j])
		}
		for k := range dim {
			if math.Abs(cm[j][k]-c1[j][k]) > 0.03 {
				t.Errorf("cov[%d][%d]: mixture %.4f, one Gaussian %.4f", j, k, cm[j][k], c1[j][k])
			}
		}
	}
	// Pixel 2 separates the classes (class 1's mean is higher there): the mixture's draws of
	// class 1 keep their class's mean, which one Gaussian's draws do not single out.
	var sum1, n1 float64
	for i, y := range classes {
		if y == 1 {
			sum1 += mixed[i*dim+2]
			n1++
		}
	}
	if mean1 := sum1 / n1; mean1-mm[2] < 0.2 {
		t.Errorf("pixel 2: the draws of class 1 average %.3f, the mixture %.3f: the class fits were not used", mean1, mm[2])
	}

	unlabeled, err := FitPrior(s, images, dim, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unlabeled.DrawClasses(r, 3); err == nil || !strings.Contains(err.Error(), "without labels") {
		t.Errorf("DrawClasses without labels: %v, want an error", err)
	}
	unlabeled.Mixture = true
	if err := unlabeled.Check(s, dim); err == nil || !strings.Contains(err.Error(), "per-class") {
		t.Errorf("Check of a mixture without classes: %v, want an error naming the per-class fits", err)
	}
}
