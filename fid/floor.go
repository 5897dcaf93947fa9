// The real-data floor: what N real MNIST training images score against the reference.

package fid

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

// Floor is the measure of N real images against the reference: what a perfect generator would
// score at that N. Real images are random subsets of the MNIST training set; FloorRepeats subsets
// (seeds FloorSeed, FloorSeed+1, ...) are measured and summarised by mean and standard deviation,
// so the floor also shows how much FID and KID fluctuate between samples of N images.
type Floor struct {
	Format      string  `json:"format"`
	N           int     `json:"n"`
	Dataset     string  `json:"dataset"`
	Network     string  `json:"network"`
	NetworkHash string  `json:"network_hash"`
	KIDSeed     uint64  `json:"kid_seed"`
	FID         float64 `json:"fid"`       // mean over the subsets
	FIDStd      float64 `json:"fid_std"`   // population std over the subsets
	KID         float64 `json:"kid"`       // mean over the subsets of their KID means
	KIDStd      float64 `json:"kid_std"`   // std over the subsets of their KID means
	Score       float64 `json:"score"`     // classifier score, mean over the subsets (0: not a classifier)
	ScoreStd    float64 `json:"score_std"` // std over the subsets
	// Confident is the fraction of real images classified with confidence ≥ ConfidenceThreshold,
	// mean ± std over the subsets (nil when the network is not a Classifier). Added to format v2
	// without a new version: older code ignores the fields, and a classifier's cache without them is
	// recomputed.
	Confident    *float64   `json:"confident,omitempty"`
	ConfidentStd *float64   `json:"confident_std,omitempty"`
	Runs         []FloorRun `json:"runs"`
}

// FloorRun is the measure of one random training subset.
type FloorRun struct {
	Seed      int64           `json:"seed"` // indices training.Permutation(60000, Seed, 0)[:N]
	FID       float64         `json:"fid"`
	KID       KIDResult       `json:"kid"`
	Score     float64         `json:"score"`
	Histogram [NumClasses]int `json:"class_histogram"`
	Confident *float64        `json:"confident,omitempty"` // nil when the network is not a Classifier
}

// FloorDataset describes the training subsets of a floor.
func FloorDataset(n int) string {
	return fmt.Sprintf("mnist-train-random%d-seeds%d-%d", n, FloorSeed, FloorSeed+FloorRepeats-1)
}

// Floor returns the floor at N (2 ≤ N ≤ 60000), cached in memory and in the cache directory as
// mnist-floor-n<N>-<key>.json (recomputed when it records another format, network hash, N,
// subsets or KID seed).
func (r *Reference) Floor(ctx context.Context, n int) (*Floor, error) {
	if n < 2 || n > 60000 {
		return nil, fmt.Errorf("fid: floor at N=%d: want 2 ≤ N ≤ 60000 training images", n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.floors[n]; ok {
		return f, nil
	}
	want := Floor{Format: floorFormat, N: n, Dataset: FloorDataset(n), Network: r.fx.Name(),
		NetworkHash: r.fx.Hash(), KIDSeed: KIDSeed}
	path := r.cachePath(fmt.Sprintf("mnist-floor-n%d-%s.json", n, r.cacheKey))
	if path != "" {
		if data, err := os.ReadFile(path); err == nil {
			var f Floor
			_, classifier := r.fx.(Classifier)
			if json.Unmarshal(data, &f) == nil && f.Format == want.Format && f.N == n && f.Dataset == want.Dataset &&
				f.NetworkHash == want.NetworkHash && f.KIDSeed == want.KIDSeed && len(f.Runs) == FloorRepeats &&
				!math.IsNaN(f.FID) && (f.Confident != nil || !classifier) {
				r.floors[n] = &f
				return &f, nil
			}
			fmt.Fprintf(r.log, "fid: recomputing the stale floor cache %s (of an older format)\n", filepath.Base(path))
		}
	}
	if r.train == nil {
		var err error
		if r.train, err = mnist.EnsureAndLoad(ctx, r.dataDir, mnist.Train, r.log); err != nil {
			return nil, err
		}
	}
	if n > r.train.N {
		return nil, fmt.Errorf("fid: floor at N=%d: the training set has only %d images", n, r.train.N)
	}
	start := time.Now()
	f := want
	for k := range FloorRepeats {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seed := FloorSeed + int64(k)
		sub := r.train.Subset(training.Permutation(r.train.N, seed, 0)[:n])
		m, err := r.measure(sub.Images, n, nil, fmt.Sprintf("mnist-train-random%d-seed%d", n, seed))
		if err != nil {
			return nil, fmt.Errorf("fid: floor at N=%d: %w", n, err)
		}
		run := FloorRun{Seed: seed, FID: m.FID.FID, KID: m.KID, Score: m.Score, Histogram: m.Histogram}
		if !math.IsNaN(m.Confident) {
			run.Confident = &m.Confident
		}
		f.Runs = append(f.Runs, run)
	}
	var fids, kids, scores, confident []float64
	for _, run := range f.Runs {
		fids, kids, scores = append(fids, run.FID), append(kids, run.KID.Mean), append(scores, run.Score)
		if run.Confident != nil {
			confident = append(confident, *run.Confident)
		}
	}
	f.FID, f.FIDStd = meanStd(fids)
	f.KID, f.KIDStd = meanStd(kids)
	f.Score, f.ScoreStd = meanStd(scores)
	if len(confident) == len(f.Runs) {
		mean, std := meanStd(confident)
		f.Confident, f.ConfidentStd = &mean, &std
	}
	fmt.Fprintf(r.log, "fid: floor at N=%d (%d random training subsets): FID %.4g ± %.2g, KID %.3g ± %.2g in %.1fs\n",
		n, FloorRepeats, f.FID, f.FIDStd, f.KID, f.KIDStd, time.Since(start).Seconds())
	if path != "" {
		data, _ := json.MarshalIndent(&f, "", "  ")
		if err := atomicfile.WriteBytes(path, append(data, '\n')); err != nil {
			fmt.Fprintf(r.log, "warning: floor not cached: %v\n", err)
		}
	}
	r.floors[n] = &f
	return &f, nil
}

// meanStd returns the mean and population standard deviation of xs.
func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}
