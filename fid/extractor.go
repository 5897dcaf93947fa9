package fid

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// MNIST image geometry and number of classes.
const (
	ImageSize   = 28                    // height and width of an image
	ImagePixels = ImageSize * ImageSize // pixels per image (784)
	NumClasses  = 10                    // digit classes
)

// pixelTolerance is how far outside [-1, 1] a pixel may stray (float32
// round-off of a clipped sample) before [CheckImages] rejects it.
const pixelTolerance = 1e-3

// FeatureExtractor maps MNIST images to feature vectors, typically the
// penultimate layer of a classifier trained on MNIST.
//
// Implementations must be deterministic: the same weights and images must
// give the same features, so that statistics can be cached under Hash().
// They batch internally (n may be 60000) and must not rescale the inputs
// differently from training. The MNIST CNN of package fid/mnistcnn
// implements both FeatureExtractor (penultimate activations) and
// [Classifier] (softmax outputs).
type FeatureExtractor interface {
	// Name is a short human-readable name of the network, e.g. "mnist-cnn-v1".
	Name() string
	// Hash identifies the weights, e.g. the hex SHA-256 of the serialized
	// parameters. It is recorded beside any statistics computed from the
	// features; statistics with different hashes are never compared.
	Hash() string
	// Dim is the feature dimension D.
	Dim() int
	// Features returns the N×D (N = n, D = Dim()) float64 features of n images
	// given as a flat slice of n×28×28 float32 pixels in [-1, 1], row-major.
	Features(images []float32, n int) (*mat.Dense, error)
}

// ComputeIdentifier is implemented by feature networks whose outputs depend, at the level of
// float32 round-off, on the software that runs them (backend, its release, its build). A
// [Reference] folds ComputeIdentity into the names of its cache files, so that features and
// statistics cached under another backend or release are recomputed rather than reused: reused,
// they would move recorded metrics by ~1e-8 and break exact reproductions.
type ComputeIdentifier interface {
	ComputeIdentity() string
}

// Classifier is optionally implemented by a FeatureExtractor that is also a
// digit classifier; check with a type assertion.
type Classifier interface {
	// Probabilities returns the N×10 class probabilities (rows sum to 1) of n
	// images given as a flat slice of n×28×28 float32 pixels in [-1, 1].
	Probabilities(images []float32, n int) (*mat.Dense, error)
}

// CheckImages validates a flat batch of n images: len(images) must be
// n×28×28, n ≥ 1, and every pixel finite and within [-1, 1] (up to a 1e-3
// tolerance). Samples from a diffusion model must be clipped to [-1, 1]
// before measuring them, as the feature network was trained on that range.
func CheckImages(images []float32, n int) error {
	if n < 1 {
		return fmt.Errorf("fid: need at least 1 image, got n=%d", n)
	}
	if len(images) != n*ImagePixels {
		return fmt.Errorf("fid: images has %d values, want n×28×28 = %d×%d = %d",
			len(images), n, ImagePixels, n*ImagePixels)
	}
	for i, v := range images {
		x := float64(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("fid: image %d pixel (%d,%d) is %v",
				i/ImagePixels, i%ImagePixels/ImageSize, i%ImageSize, v)
		}
		if x < -1-pixelTolerance || x > 1+pixelTolerance {
			return fmt.Errorf("fid: image %d pixel (%d,%d) = %v is outside [-1,1]; clip samples first",
				i/ImagePixels, i%ImagePixels/ImageSize, i%ImageSize, v)
		}
	}
	return nil
}

// StatsFromImages validates n images (see [CheckImages]), extracts their
// N×D features with fx and returns their statistics, labelled with fx's
// name and weight hash and with the given dataset name (e.g.
// "mnist-train-60000" or "ddpm-T1000-seed1").
func StatsFromImages(fx FeatureExtractor, dataset string, images []float32, n int) (*Stats, error) {
	if err := CheckImages(images, n); err != nil {
		return nil, err
	}
	feats, err := fx.Features(images, n)
	if err != nil {
		return nil, fmt.Errorf("fid: %s features: %w", fx.Name(), err)
	}
	if feats == nil {
		return nil, fmt.Errorf("fid: %s returned nil features", fx.Name())
	}
	if r, c := feats.Dims(); r != n || c != fx.Dim() {
		return nil, fmt.Errorf("fid: %s returned %d×%d features, want %d×%d",
			fx.Name(), r, c, n, fx.Dim())
	}
	s, err := ComputeStats(feats)
	if err != nil {
		return nil, fmt.Errorf("fid: %s features: %w", fx.Name(), err)
	}
	s.Network, s.NetworkHash, s.Dataset = fx.Name(), fx.Hash(), dataset
	return s, nil
}
