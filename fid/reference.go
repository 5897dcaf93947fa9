package fid

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"gonum.org/v1/gonum/mat"
)

// The evaluation protocol of this project:
//
//   - reference: the 10,000 MNIST test images ("mnist-test-10000"); their features and
//     statistics are cached per network hash;
//   - samples: N generated images, N = 1000 (the seed's protocol) and N = 10000; FID and KID are
//     biased at small N, so numbers are only compared at equal N;
//   - floor: the same measures for N real images, random subsets of the 60,000 MNIST training
//     images (indices training.Permutation(60000, seed, 0)[:N] for FloorRepeats seeds from
//     FloorSeed), against the same reference: the value a perfect generator would get at that N,
//     as mean ± std over the subsets;
//   - KID: 100 subsets of min(1000, N) rows, seed [KIDSeed]; classifier score: 10 splits.
const (
	// ReferenceDataset names the reference statistics: the MNIST test set.
	ReferenceDataset = "mnist-test-10000"
	// FloorSeed is the first seed of the training subsets of the floors.
	FloorSeed int64 = 1
	// KIDSeed seeds the KID subsets of every evaluation.
	KIDSeed uint64 = 1
	// ScoreSplits is the number of splits of the classifier score.
	ScoreSplits = 10
)

// Reference is the MNIST test set measured with a feature network, plus the real-data floors.
// Build it with [NewReference]; its methods are safe for concurrent use.
type Reference struct {
	fx       FeatureExtractor
	dataDir  string
	cacheDir string // "" disables the caches
	cacheKey string // hash12 of the network hash and, if any, its compute identity: cache file names
	log      io.Writer

	TestStats    *Stats     // statistics of the 10k test features
	testFeatures *mat.Dense // 10000×D

	mu     sync.Mutex
	train  *mnist.Set
	floors map[int]*Floor
}

// CacheDir returns the default cache directory of the reference statistics and floors: "fid" beside
// the MNIST directory (data/fid for data/mnist), else <user cache dir>/ddpm/fid when that is not
// writable.
func CacheDir(mnistDir string) string {
	dir := filepath.Join(filepath.Dir(filepath.Clean(mnistDir)), "fid")
	if os.MkdirAll(dir, 0o755) == nil && writable(dir) {
		return dir
	}
	if uc, err := os.UserCacheDir(); err == nil {
		d := filepath.Join(uc, "ddpm", "fid")
		if os.MkdirAll(d, 0o755) == nil {
			return d
		}
	}
	return dir
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// CacheKey names the cache files of fx (mnist-test-<key>.stats, mnist-floor-n<N>-<key>.json): the
// first 12 hex digits of its Hash alone, or, for a [ComputeIdentifier], of the SHA-256 of its Hash
// and ComputeIdentity, so that each backend and release has its own files.
func CacheKey(fx FeatureExtractor) string {
	var id string
	if c, ok := fx.(ComputeIdentifier); ok {
		id = c.ComputeIdentity()
	}
	if id == "" {
		return hash12(fx.Hash())
	}
	sum := sha256.Sum256([]byte(fx.Hash() + "\n" + id))
	return hash12(hex.EncodeToString(sum[:]))
}

// hash12 is the short form of a hash used in file names and tool descriptions.
func hash12(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// NewReference loads the MNIST test set from mnistDir ("" resolves mnist.Dir("")), fetching it
// if missing, and returns its features and statistics with fx. Both are cached in cacheDir
// ("" disables caching) as mnist-test-<key>.features and mnist-test-<key>.stats (key: [CacheKey]),
// recomputed when the cached file is missing, corrupt, of another format version, or records
// another network hash, dataset or N. log (nil: discarded) receives what is computed.
func NewReference(ctx context.Context, fx FeatureExtractor, mnistDir, cacheDir string, log io.Writer) (*Reference, error) {
	if log == nil {
		log = io.Discard
	}
	if fx.Hash() == "" {
		return nil, errors.New("fid: NewReference: the feature network has no hash")
	}
	mnistDir = mnist.Dir(mnistDir)
	r := &Reference{fx: fx, dataDir: mnistDir, cacheDir: cacheDir, cacheKey: CacheKey(fx), log: log,
		floors: map[int]*Floor{}}
	var test *mnist.Set
	loadTest := func() (*mnist.Set, error) {
		if test == nil {
			var err error
			if test, err = mnist.EnsureAndLoad(ctx, mnistDir, mnist.Test, log); err != nil {
				return nil, err
			}
			if test.N != 10000 || test.Height != ImageSize || test.Width != ImageSize {
				return nil, fmt.Errorf("fid: %s has %d images of %d×%d, want 10000 of 28×28", test.Name, test.N, test.Height, test.Width)
			}
		}
		return test, nil
	}
	base := "mnist-test-" + r.cacheKey
	featPath := r.cachePath(base + ".features")
	if featPath != "" {
		if f, err := loadFeatures(featPath, fx.Hash(), ReferenceDataset, 10000, fx.Dim()); err == nil {
			r.testFeatures = f
		} else if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(log, "fid: recomputing the cached test features %s: %v\n", featPath, err)
		}
	}
	if r.testFeatures == nil {
		set, err := loadTest()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if r.testFeatures, err = fx.Features(set.Images, set.N); err != nil {
			return nil, fmt.Errorf("fid: features of the MNIST test set: %w", err)
		}
		if rows, cols := r.testFeatures.Dims(); rows != set.N || cols != fx.Dim() {
			return nil, fmt.Errorf("fid: %s returned %d×%d features of the MNIST test set, want %d×%d", fx.Name(), rows, cols, set.N, fx.Dim())
		}
		fmt.Fprintf(log, "fid: features of the %d MNIST test images with %s %s in %.1fs\n", set.N, fx.Name(), hash12(fx.Hash()),
			time.Since(start).Seconds())
		if featPath != "" {
			if err := saveFeatures(featPath, fx.Name(), fx.Hash(), ReferenceDataset, r.testFeatures); err != nil {
				fmt.Fprintf(log, "warning: not cached: %v\n", err)
			}
		}
	}
	compute := func() (*Stats, error) {
		s, err := ComputeStats(r.testFeatures)
		if err != nil {
			return nil, err
		}
		s.Network, s.NetworkHash, s.Dataset = fx.Name(), fx.Hash(), ReferenceDataset
		return s, nil
	}
	var err error
	if statsPath := r.cachePath(base + ".stats"); statsPath != "" {
		var recomputed bool
		r.TestStats, recomputed, err = CachedStats(statsPath, fx.Hash(), ReferenceDataset, 10000, compute)
		if err != nil {
			return nil, err
		}
		if recomputed {
			fmt.Fprintf(log, "fid: reference statistics (%s, %s %s) -> %s\n", ReferenceDataset, fx.Name(), hash12(fx.Hash()), statsPath)
		}
	} else if r.TestStats, err = compute(); err != nil {
		return nil, err
	}
	return r, nil
}

// cachePath returns the path of a cache file, or "" when caching is off.
func (r *Reference) cachePath(name string) string {
	if r.cacheDir == "" {
		return ""
	}
	if err := os.MkdirAll(r.cacheDir, 0o755); err != nil {
		fmt.Fprintf(r.log, "warning: cache directory: %v; not caching\n", err)
		return ""
	}
	return filepath.Join(r.cacheDir, name)
}

// Network returns the feature network.
func (r *Reference) Network() FeatureExtractor { return r.fx }

// Tool describes the measurement: network name, short hash and reference set.
func (r *Reference) Tool() string {
	return fmt.Sprintf("%s %s vs MNIST test (10k)", r.fx.Name(), hash12(r.fx.Hash()))
}

// FloorRepeats is the number of random training subsets of a floor.
const FloorRepeats = 5

const floorFormat = "ddpm-fid-floor-v2"

// Measurement is what [Reference.Measure] reports about N images.
type Measurement struct {
	N   int
	FID Result    // FID against the reference, with its diagnostics and warnings
	KID KIDResult // KID against the reference features
	// Classifier measures (zero when the network is not a Classifier).
	Score, ScoreStd float64         // classifier score (Inception-Score-like), mean ± std over splits
	Histogram       [NumClasses]int // images per predicted class
	// Accuracy is the fraction of images classified as their requested label (NaN without labels).
	Accuracy float64
	// Confident is the fraction of images whose largest class probability is ≥ ConfidenceThreshold
	// (NaN when the network is not a Classifier).
	Confident float64
	Floor     *Floor // real-data floor at the same N (nil if N > 60000)
}

// Measure validates n images (flat n×28×28 in [-1, 1], see [CheckImages]) and measures them
// against the reference: FID, KID, classifier score, class histogram, the accuracy of the
// classifier on the requested labels (nil: none; else n labels in 0..9) and the floor at N.
func (r *Reference) Measure(ctx context.Context, images []float32, n int, labels []int) (*Measurement, error) {
	if n < 2 {
		return nil, fmt.Errorf("fid: need N ≥ 2 images for a covariance, got %d", n)
	}
	if labels != nil {
		if len(labels) != n {
			return nil, fmt.Errorf("fid: %d labels for %d images", len(labels), n)
		}
		for i, l := range labels {
			if l < 0 || l >= NumClasses {
				return nil, fmt.Errorf("fid: label %d of image %d is not a digit class 0..9", l, i)
			}
		}
	}
	m, err := r.measure(images, n, labels, "samples")
	if err != nil {
		return nil, err
	}
	if n <= 60000 {
		if m.Floor, err = r.Floor(ctx, n); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (r *Reference) measure(images []float32, n int, labels []int, dataset string) (*Measurement, error) {
	if err := CheckImages(images, n); err != nil {
		return nil, err
	}
	feats, probs, err := outputs(r.fx, images, n)
	if err != nil {
		return nil, err
	}
	s, err := ComputeStats(feats)
	if err != nil {
		return nil, err
	}
	s.Network, s.NetworkHash, s.Dataset = r.fx.Name(), r.fx.Hash(), fmt.Sprintf("%s-%d", dataset, n)
	m := &Measurement{N: n, Accuracy: math.NaN(), Confident: math.NaN()}
	if m.FID, err = FID(s, r.TestStats); err != nil {
		return nil, err
	}
	if m.KID, err = KID(feats, r.testFeatures, KIDOptions{Seed: KIDSeed}); err != nil {
		return nil, err
	}
	if probs != nil {
		if m.Score, m.ScoreStd, err = InceptionScore(probs, min(ScoreSplits, n)); err != nil {
			return nil, err
		}
		m.Histogram = ClassHistogram(probs)
		m.Confident = Confident(probs, ConfidenceThreshold)
		if labels != nil {
			m.Accuracy = Accuracy(probs, labels)
		}
	}
	return m, nil
}

// OneSweep is implemented by networks that give features and class probabilities in one pass over
// the images (mnistcnn.Network), which outputs then prefers.
type OneSweep interface {
	Outputs(images []float32, n int) (features, probs *mat.Dense, err error)
}

// outputs returns the features and, when fx is also a Classifier, the class probabilities (nil
// otherwise), in one pass when fx is a OneSweep.
func outputs(fx FeatureExtractor, images []float32, n int) (feats, probs *mat.Dense, err error) {
	if net, ok := fx.(OneSweep); ok {
		return net.Outputs(images, n)
	}
	if feats, err = fx.Features(images, n); err != nil {
		return nil, nil, fmt.Errorf("fid: %s features: %w", fx.Name(), err)
	}
	if r, c := feats.Dims(); r != n || c != fx.Dim() {
		return nil, nil, fmt.Errorf("fid: %s returned %d×%d features, want %d×%d", fx.Name(), r, c, n, fx.Dim())
	}
	if cl, ok := fx.(Classifier); ok {
		if probs, err = cl.Probabilities(images, n); err != nil {
			return nil, nil, fmt.Errorf("fid: %s probabilities: %w", fx.Name(), err)
		}
		if err := checkProbs(probs); err != nil {
			return nil, nil, err
		}
		if r, c := probs.Dims(); r != n || c != NumClasses {
			return nil, nil, fmt.Errorf("fid: %s returned %d×%d probabilities, want %d×10", fx.Name(), r, c, n)
		}
	}
	return feats, probs, nil
}
