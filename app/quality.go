package app

import (
	"fmt"

	"github.com/ddpm-go/ddpm/fid"
)

// The main job's bar for "recognisable digits" (issue 12): the FID at most MaxFIDOverFloor times
// its real-data floor at the same N, and at least MinConfident of the samples classified with
// confidence ≥ fid.ConfidenceThreshold by the project's classifier (mnist-cnn-v1).
const (
	MaxFIDOverFloor = 10.0
	MinConfident    = 0.9
)

// Quality is the report's verdict on the evaluated samples against that bar.
type Quality struct {
	N int `json:"n"`
	// FIDOverFloor is the FID divided by its floor (the mean FID of N real images) at the same N.
	FID          float64 `json:"fid"`
	FIDFloor     float64 `json:"fid_floor"`
	FIDOverFloor float64 `json:"fid_over_floor"`
	// Confident is the fraction of samples whose largest class probability is ≥ Threshold;
	// ConfidentFloor the same fraction for real images (0 when unknown).
	Confident      float64 `json:"confident"`
	ConfidentFloor float64 `json:"confident_floor,omitempty"`
	Threshold      float64 `json:"threshold"`
	// Recognisable: FIDOverFloor ≤ MaxFIDOverFloor and Confident ≥ MinConfident.
	Recognisable bool `json:"recognisable"`
}

// NewQuality judges an evaluation of n samples; nil when it lacks the FID, its floor or the
// confident fraction (e.g. a feature network that is not a classifier).
func NewQuality(ev *Evaluation, n int) *Quality {
	if ev == nil {
		return nil
	}
	f, okF := ev.Metrics["fid"]
	floor, okFloor := ev.Metrics["fid_floor"]
	c, okC := ev.Metrics["confident"]
	if !okF || !okFloor || !okC || !(floor > 0) {
		return nil
	}
	q := &Quality{N: n, FID: f, FIDFloor: floor, FIDOverFloor: f / floor, Confident: c, ConfidentFloor: ev.Metrics["confident_floor"],
		Threshold: fid.ConfidenceThreshold}
	q.Recognisable = q.FIDOverFloor <= MaxFIDOverFloor && q.Confident >= MinConfident
	return q
}

// Markdown is the verdict in two sentences, with the numbers, the targets and pass/fail.
func (q *Quality) Markdown() string {
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	real := ""
	if q.ConfidentFloor > 0 {
		real = fmt.Sprintf("; real MNIST images: %.1f%%", 100*q.ConfidentFloor)
	}
	verdict := "recognisable digits"
	if !q.Recognisable {
		verdict = "not yet recognisable digits by this bar"
	}
	return fmt.Sprintf("Quality at N=%d: FID %.1f = %.1f× its real-data floor %.1f (target ≤ %g×: %s); "+
		"%.1f%% of the samples classified with confidence ≥ %g by mnist-cnn-v1 (target ≥ %g%%: %s%s): %s.\n",
		q.N, q.FID, q.FIDOverFloor, q.FIDFloor, MaxFIDOverFloor, mark(q.FIDOverFloor <= MaxFIDOverFloor),
		100*q.Confident, q.Threshold, 100*MinConfident, mark(q.Confident >= MinConfident), real, verdict)
}
