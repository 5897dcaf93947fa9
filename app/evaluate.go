package app

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/fid/mnistcnn"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
)

// FIDEvaluator returns the sample-quality evaluation of the main job: FID and KID against the MNIST
// test set with the shipped feature network (mnist-cnn-v1), each beside its real-data floor at the
// same N, the classifier score, the fraction of samples the classifier recognises with confidence
// ≥ fid.ConfidenceThreshold ("confident", beside the same fraction for real images), and the
// classifier's accuracy on the requested classes of class-conditional samples. The network and the reference statistics are loaded at the first call
// (reference statistics and floors are cached under the data directory, see fid.CacheDir).
// The network runs on b (nil: the default backend).
func FIDEvaluator(dataDir string, b compute.Backend) Evaluator {
	var (
		once    sync.Once
		ref     *fid.Reference
		initErr error
	)
	return func(ctx context.Context, images []float32, n int, labels []int, log io.Writer) (*Evaluation, error) {
		once.Do(func() {
			net, err := mnistcnn.DefaultNetwork(b)
			if err != nil {
				initErr = err
				return
			}
			ref, initErr = fid.NewReference(ctx, net, dataDir, fid.CacheDir(mnist.Dir(dataDir)), log)
		})
		if initErr != nil {
			return nil, fmt.Errorf("evaluation: %w", initErr)
		}
		imgs := images
		clipped := 0
		for i, v := range images { // samples are in [-1, 1] when x̂_0 is clipped; clip a copy otherwise
			if v < -1 || v > 1 {
				if clipped == 0 {
					imgs = append([]float32(nil), images...)
				}
				imgs[i] = max(-1, min(1, v))
				clipped++
			}
		}
		if clipped > 0 {
			fmt.Fprintf(log, "evaluation: clipped %d pixel values to [-1, 1]\n", clipped)
		}
		m, err := ref.Measure(ctx, imgs, n, labels)
		if err != nil {
			return nil, fmt.Errorf("evaluation: %w", err)
		}
		ev := &Evaluation{Metrics: map[string]float64{}, Tool: ref.Tool() +
			fmt.Sprintf("; N=%d; *_floor: mean (± std) over %d random subsets of %d MNIST training images vs the same test set",
				n, fid.FloorRepeats, n)}
		add := func(name string, v float64) {
			ev.Names = append(ev.Names, name)
			ev.Metrics[name] = v
		}
		add("fid", m.FID.FID)
		if m.Floor != nil {
			add("fid_floor", m.Floor.FID)
			add("fid_floor_std", m.Floor.FIDStd)
		}
		add("kid", m.KID.Mean)
		if m.Floor != nil {
			add("kid_floor", m.Floor.KID)
		}
		add("score", m.Score)
		if !math.IsNaN(m.Confident) {
			add("confident", m.Confident)
			if m.Floor != nil && m.Floor.Confident != nil {
				add("confident_floor", *m.Floor.Confident)
			}
		}
		if !math.IsNaN(m.Accuracy) {
			add("class_acc", m.Accuracy)
		}
		for _, w := range m.FID.Warnings {
			fmt.Fprintf(log, "evaluation warning: %s\n", w)
		}
		return ev, nil
	}
}

// EpochEvaluator returns an evaluation for training.Options.EpochEval: at the end of each epoch it
// samples n images from the EMA weights (the raw ones without EMA) with the sampling settings s and
// a fixed seed (s.Seed + 2000, so not the grid's samples), cycling through the classes for a
// conditional model, and scores them with evaluate. Deterministic, so resumed runs agree.
func EpochEvaluator(b compute.Backend, s recipe.Sample, n int, evaluate Evaluator) func(context.Context, int,
	*diffusion.Model, *model.Store) (training.EpochEval, error) {
	return func(ctx context.Context, epoch int, m *diffusion.Model, store *model.Store) (training.EpochEval, error) {
		weights, err := training.InferenceStore(store, training.HasEMA(store))
		if err != nil {
			return training.EpochEval{}, err
		}
		o, err := SampleOptions(s)
		if err != nil {
			return training.EpochEval{}, err
		}
		o.Seed = s.Seed + 2000
		res, err := sampler.New(b, weights, m).Sample(ctx, n, sampler.BalancedLabels(m, n), o, io.Discard)
		if err != nil {
			return training.EpochEval{}, err
		}
		ev, err := evaluate(ctx, res.Images, n, res.Labels, io.Discard)
		if err != nil {
			return training.EpochEval{}, err
		}
		return training.EpochEval{N: n, Sampler: fmt.Sprintf("%s, seed %d", o, o.Seed),
			Metrics: ev.Metrics, Tool: ev.Tool}, nil
	}
}
