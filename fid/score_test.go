package fid

import (
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
	"gonum.org/v1/gonum/mat"
)

// oneHot returns N×10 probabilities with row i one-hot at class(i).
func oneHot(n int, class func(i int) int) *mat.Dense {
	p := mat.NewDense(n, NumClasses, nil)
	for i := range n {
		p.Set(i, class(i), 1)
	}
	return p
}

func TestInceptionScore(t *testing.T) {
	soft := []float64{0.05, 0.1, 0.3, 0.05, 0.1, 0.1, 0.05, 0.1, 0.05, 0.1}
	same := mat.NewDense(50, 10, nil)
	for i := range 50 {
		same.SetRow(i, soft)
	}
	// Half [1,0], half [½,½]: p(y) = [¾,¼]; E KL = ½ln(4/3) + ¼ln(2/3) + ¼ln 2.
	mixed := mat.NewDense(4, 2, []float64{1, 0, 0.5, 0.5, 1, 0, 0.5, 0.5})
	for _, tc := range []struct {
		name      string
		p         *mat.Dense
		splits    int
		mean, std float64
	}{
		{"one-hot uniform classes", oneHot(100, func(i int) int { return i % 10 }), 1, 10, 0},
		{"one-hot, 10 splits", oneHot(100, func(i int) int { return i % 10 }), 10, 10, 0},
		{"one-hot, one class per split", oneHot(100, func(i int) int { return i / 10 }), 10, 1, 0},
		{"identical rows", same, 5, 1, 0},
		{"one class only", oneHot(30, func(int) int { return 3 }), 1, 1, 0},
		{"mixed", mixed, 1, math.Exp(0.5*math.Log(4.0/3) + 0.25*math.Log(2.0/3) + 0.25*math.Log(2)), 0},
		{"mixed, 2 splits", mixed, 2, math.Exp(0.5*math.Log(4.0/3) + 0.25*math.Log(2.0/3) + 0.25*math.Log(2)), 0},
		{"5 classes vs 10", oneHot(20, func(i int) int { return i % 5 }), 1, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mean, std, err := InceptionScore(tc.p, tc.splits)
			if err != nil {
				t.Fatal(err)
			}
			if relErr(mean, tc.mean) > 1e-12 || math.Abs(std-tc.std) > 1e-12 {
				t.Errorf("IS = %.15g ± %g, want %.15g ± %g", mean, std, tc.mean, tc.std)
			}
		})
	}
	// Splits differ: 2 splits of [classes 0-9] and [class 0 only] give 10 and 1.
	p := oneHot(20, func(i int) int {
		if i < 10 {
			return i
		}
		return 0
	})
	mean, std, _ := InceptionScore(p, 2)
	if relErr(mean, 5.5) > 1e-12 || relErr(std, 4.5) > 1e-12 {
		t.Errorf("IS = %g ± %g, want 5.5 ± 4.5", mean, std)
	}
}

func TestInceptionScoreErrors(t *testing.T) {
	logits := mat.NewDense(2, 3, []float64{2, 1, 0.5, 0, 0, 0})
	neg := mat.NewDense(1, 3, []float64{1.2, -0.2, 0})
	nan := mat.NewDense(1, 2, []float64{math.NaN(), 1})
	for _, tc := range []struct {
		name   string
		p      *mat.Dense
		splits int
		want   []string
	}{
		{"logits", logits, 1, []string{"row 0 sums to 3.5", "softmax"}},
		{"negative", neg, 1, []string{"row 0, column 1 is -0.2"}},
		{"NaN", nan, 1, []string{"row 0, column 0 is NaN"}},
		{"too many splits", oneHot(5, func(int) int { return 0 }), 6, []string{"splits=6"}},
		{"zero splits", oneHot(5, func(int) int { return 0 }), 0, []string{"splits=0"}},
		{"one class", mat.NewDense(2, 1, []float64{1, 1}), 1, []string{"C ≥ 2"}},
		{"nil", nil, 1, []string{"empty probabilities"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := InceptionScore(tc.p, tc.splits)
			testutil.WantErr(t, err, tc.want...)
		})
	}
}

func TestClassHistogramAndAccuracy(t *testing.T) {
	p := oneHot(23, func(i int) int { return i % 7 })
	// Make row 0 soft but still class 0, and row 1 a tie between 1 and 4 (→ 1).
	p.SetRow(0, []float64{0.4, 0.3, 0.3, 0, 0, 0, 0, 0, 0, 0})
	p.SetRow(1, []float64{0, 0.5, 0, 0, 0.5, 0, 0, 0, 0, 0})
	want := [NumClasses]int{4, 4, 3, 3, 3, 3, 3, 0, 0, 0}
	if got := ClassHistogram(p); got != want {
		t.Errorf("ClassHistogram = %v, want %v", got, want)
	}
	labels := make([]int, 23)
	for i := range labels {
		labels[i] = i % 7
	}
	labels[5], labels[6] = 9, 9 // two wrong
	if got, want := Accuracy(p, labels), 21.0/23; got != want {
		t.Errorf("Accuracy = %v, want %v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("Accuracy with mismatched labels did not panic")
		}
	}()
	Accuracy(p, labels[:3])
}

func TestConfident(t *testing.T) {
	soft := []float64{0.05, 0.1, 0.3, 0.05, 0.1, 0.1, 0.05, 0.1, 0.05, 0.1}
	edge := []float64{0.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0}
	below := []float64{0.02, 0.899, 0.081, 0, 0, 0, 0, 0, 0, 0}
	rows := func(rs ...[]float64) *mat.Dense {
		p := mat.NewDense(len(rs), NumClasses, nil)
		for i, r := range rs {
			p.SetRow(i, r)
		}
		return p
	}
	for _, tc := range []struct {
		name      string
		p         *mat.Dense
		threshold float64
		want      float64
	}{
		{"one-hot", oneHot(20, func(i int) int { return i % 10 }), 0.9, 1},
		{"soft rows", rows(soft, soft, soft), 0.9, 0},
		{"exactly at the threshold counts", rows(edge), 0.9, 1},
		{"just below does not", rows(below), 0.9, 0},
		{"mixed 2 of 4", rows(edge, below, soft, oneHot(1, func(int) int { return 7 }).RawRowView(0)), 0.9, 0.5},
		{"lower threshold", rows(edge, below, soft), 0.5, 2.0 / 3},
		{"confident in the wrong class still counts", rows([]float64{0, 0, 0, 0, 0, 0, 0, 0, 0.05, 0.95}), 0.9, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Confident(tc.p, tc.threshold); math.Abs(got-tc.want) > 1e-15 {
				t.Errorf("Confident = %v, want %v", got, tc.want)
			}
		})
	}
}
