package fid

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// probTolerance is how far a row of probabilities may sum from 1.
const probTolerance = 1e-3

// InceptionScore returns the classifier score exp(E_x KL(p(y|x) ‖ p(y))) of
// the N×C class probabilities probs (one row per sample, rows summing to 1),
// computed separately on `splits` contiguous, near-equal parts of the rows
// and summarised by the mean and population standard deviation over parts
// (as in Salimans et al. 2016). Since p(y|x) comes from the MNIST
// classifier, not Inception, this is a "classifier score": it ranges from
// 1 (every sample has the same class distribution) to C (confident and
// uniformly spread over the C classes), and is not comparable with
// Inception Scores of other datasets or networks.
func InceptionScore(probs *mat.Dense, splits int) (mean, std float64, err error) {
	if err := checkProbs(probs); err != nil {
		return 0, 0, err
	}
	n, c := probs.Dims()
	if splits < 1 || splits > n {
		return 0, 0, fmt.Errorf("fid: InceptionScore: splits=%d, want 1 ≤ splits ≤ N=%d", splits, n)
	}
	scores := make([]float64, splits)
	py := make([]float64, c)
	for k := range splits {
		lo, hi := k*n/splits, (k+1)*n/splits
		clear(py)
		for i := lo; i < hi; i++ {
			for j, p := range probs.RawRowView(i) {
				py[j] += p
			}
		}
		for j := range py {
			py[j] /= float64(hi - lo)
		}
		kl := 0.0
		for i := lo; i < hi; i++ {
			for j, p := range probs.RawRowView(i) {
				if p > 0 { // 0·log 0 = 0; p > 0 implies py[j] > 0
					kl += p * math.Log(p/py[j])
				}
			}
		}
		scores[k] = math.Exp(kl / float64(hi-lo))
	}
	for _, s := range scores {
		mean += s
	}
	mean /= float64(splits)
	for _, s := range scores {
		std += (s - mean) * (s - mean)
	}
	return mean, math.Sqrt(std / float64(splits)), nil
}

// checkProbs validates an N×C probability matrix: N ≥ 1, C ≥ 2, entries
// finite and non-negative, rows summing to 1 within 1e-3.
func checkProbs(probs *mat.Dense) error {
	if probs == nil || probs.IsEmpty() {
		return errors.New("fid: empty probabilities")
	}
	n, c := probs.Dims()
	if c < 2 {
		return fmt.Errorf("fid: probabilities are %d×%d, want N×C with C ≥ 2 classes", n, c)
	}
	for i := range n {
		sum := 0.0
		for j, p := range probs.RawRowView(i) {
			if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
				return fmt.Errorf("fid: probability row %d, column %d is %v", i, j, p)
			}
			sum += p
		}
		if math.Abs(sum-1) > probTolerance {
			return fmt.Errorf("fid: probability row %d sums to %v, want 1 (pass softmax outputs, not logits)", i, sum)
		}
	}
	return nil
}

// ClassHistogram counts, for each of the 10 digit classes, the rows of the
// N×10 probabilities probs whose argmax is that class (ties go to the lower
// class). A healthy generator gives roughly N/10 per class; mode collapse
// shows up as empty or dominant classes. It panics if probs is not N×10.
func ClassHistogram(probs *mat.Dense) [NumClasses]int {
	var h [NumClasses]int
	n, _ := mustTenColumns(probs, "ClassHistogram")
	for i := range n {
		h[argmax(probs.RawRowView(i))]++
	}
	return h
}

// Accuracy returns the fraction of rows of the N×10 probabilities probs
// whose argmax equals wantLabels[i] (len N, labels in 0..9). It panics if
// probs is not N×10 or len(wantLabels) != N.
func Accuracy(probs *mat.Dense, wantLabels []int) float64 {
	n, _ := mustTenColumns(probs, "Accuracy")
	if len(wantLabels) != n {
		panic(fmt.Sprintf("fid: Accuracy: %d labels for %d rows of probabilities", len(wantLabels), n))
	}
	correct := 0
	for i, want := range wantLabels {
		if argmax(probs.RawRowView(i)) == want {
			correct++
		}
	}
	return float64(correct) / float64(n)
}

// ConfidenceThreshold is the probability above which the classifier counts a sample as a confidently
// recognised digit in [Confident] (the evaluation's "confident" metric).
const ConfidenceThreshold = 0.9

// Confident returns the fraction of rows of the N×C probabilities probs whose largest probability
// is ≥ threshold: how many samples the classifier recognises confidently as some digit, whatever
// digit that is. Real MNIST images score close to 1, noise and blobs close to 0. It panics if
// probs is empty.
func Confident(probs *mat.Dense, threshold float64) float64 {
	if probs == nil || probs.IsEmpty() {
		panic("fid: Confident: empty probabilities")
	}
	n, _ := probs.Dims()
	k := 0
	for i := range n {
		if row := probs.RawRowView(i); row[argmax(row)] >= threshold {
			k++
		}
	}
	return float64(k) / float64(n)
}

func mustTenColumns(probs *mat.Dense, fn string) (int, int) {
	if probs == nil || probs.IsEmpty() {
		panic(fmt.Sprintf("fid: %s: empty probabilities", fn))
	}
	n, c := probs.Dims()
	if c != NumClasses {
		panic(fmt.Sprintf("fid: %s: probabilities are %d×%d, want N×%d", fn, n, c, NumClasses))
	}
	return n, c
}

// argmax returns the index of the largest value (the first on ties; NaN
// never wins).
func argmax(row []float64) int {
	best := 0
	for j, v := range row {
		if v > row[best] || math.IsNaN(row[best]) {
			best = j
		}
	}
	return best
}
