package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/fid/mnistcnn"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

func init() {
	register("fid", "sample quality: FID, KID, classifier score and accuracy vs the MNIST test set, beside the real-data floor", runFID)
}

const fidSynopsis = `(--samples S.npy | --model RUN_DIR | --features-a A.npy --features-b B.npy | --floor) [flags]

Modes:
  --samples S.npy      measure images written by ` + "`ddpm sample`" + ` (N×28×28 float32 in [-1,1]) at their N.
                       Class-conditional samples: --class (as for ddpm sample), --labels L.npy, or the
                       sidecar S.labels.npy when present; the classifier's accuracy on them is reported.
  --model RUN_DIR      sample max(--n) images from a trained model (after printing an estimate of the
                       sampling time) and measure the first N for each N in --n (default 1000,10000).
                       The samples done are kept after every batch (S.partial.npy and S.partial.json beside
                       the samples file S.npy): an interrupted run continues when the same command runs again.
  --features-a/-b      FID (and KID) of two arbitrary N×D feature matrices (.npy float32/float64),
                       printed with full float64 precision; no network involved.
  --floor              only the real-data floors at each N in --n.

Every row shows the floor at the same N: N random MNIST training images against the same reference
(what a perfect generator would get), as mean ± std over 5 random subsets: the std is also the noise
of a single FID at that N. KID is mean ± std over 100 subsets of min(1000, N) rows.
Numbers come from the project's MNIST CNN (mnist-cnn-v1), not InceptionV3: they are only comparable
with numbers computed with the same network hash (see fid/README.md).`

func runFID(ctx context.Context, args []string) error {
	fs := newFlags("fid", fidSynopsis)
	samples := fs.String("samples", "", "N×28×28 float32 .npy of images in [-1,1] (as written by ddpm sample)")
	labelsFile := fs.String("labels", "", "with --samples: .npy of the N requested classes (float32/float64/uint8, shape N or N×1)")
	class := fs.String("class", "", "requested class(es): one digit, or a comma list cycled over the samples (as ddpm sample --class)")
	modelDir := fs.String("model", "", "run directory (or checkpoint directory) of a trained model to sample from")
	nList := fs.String("n", "1000,10000", "with --model or --floor: comma list of sample counts N")
	featA := fs.String("features-a", "", "N×D features (.npy, float32 or float64)")
	featB := fs.String("features-b", "", "M×D features (.npy, float32 or float64)")
	floorOnly := fs.Bool("floor", false, "print only the real-data floors at each N of --n")
	estimate := fs.Bool("estimate", false, "with --model: print the estimated sampling time and exit")
	clfDir := fs.String("classifier", "", "with --model: noisy classifier for --guidance classifier:S (a `ddpm train-classifier` run directory); samples cycle over its 10 classes unless --class says")
	save := fs.String("save", "", "with --model: where to write the samples (default <model>/fid-samples-<N>.npy; \"-\" skips)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	weights := fs.String("weights", "", "directory of other mnist-cnn-v1 weights (ddpm fid-train --out DIR); default: the shipped ones")
	cache := fs.String("cache", "", "cache directory of reference statistics and floors (default: fid/ beside the MNIST directory)")
	// Sampler flags (default: the model recipe's sampling settings, seed + fidSeedOffset).
	sf := addSamplerFlags(fs)
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	modes := 0
	for _, on := range []bool{*samples != "", *modelDir != "", *featA != "" || *featB != "", *floorOnly} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		fs.Usage()
		return errors.New("give exactly one of --samples, --model, --features-a/--features-b, --floor")
	}
	if *featA != "" || *featB != "" {
		if *featA == "" || *featB == "" {
			return errors.New("--features-a and --features-b go together")
		}
		return fidFeatures(*featA, *featB, *jsonOut)
	}
	if *labelsFile != "" && *class != "" {
		return errors.New("give --labels or --class, not both")
	}
	if *modelDir == "" {
		for _, name := range []string{"sampler", "steps", "eta", "variance", "clip", "seed", "guidance", "ema", "batch", "estimate", "save", "classifier", "guide"} {
			if set[name] {
				return fmt.Errorf("--%s applies to --model only", name)
			}
		}
	}
	var ns []int
	if *modelDir != "" || *floorOnly {
		var err error
		if ns, err = parseNs(*nList); err != nil {
			return err
		}
	} else if set["n"] {
		return errors.New("--n applies to --model and --floor; --samples is measured at its own N")
	}

	// Read the inputs before any expensive work, so that argument errors come first.
	var images []float32
	var n int
	var labels []int
	source := ""
	if *samples != "" {
		var err error
		if images, n, err = fid.ReadNpyImages(*samples); err != nil {
			return err
		}
		if n < 2 {
			return fmt.Errorf("%s holds %d image; FID needs N ≥ 2 (at least 1000 for numbers comparable with the protocol)", *samples, n)
		}
		if err := fid.CheckImages(images, n); err != nil {
			return fmt.Errorf("%s: %w", *samples, err)
		}
		switch {
		case *labelsFile != "":
			if labels, err = fid.ReadNpyLabels(*labelsFile); err != nil {
				return err
			}
		case *class != "":
			if labels, err = parseClasses(*class, n); err != nil {
				return err
			}
		default:
			if side := fid.LabelsPath(*samples); fileExists(side) {
				if labels, err = fid.ReadNpyLabels(side); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "requested classes from the sidecar %s\n", side)
			}
		}
		if labels != nil && len(labels) != n {
			return fmt.Errorf("%d labels for the %d images of %s", len(labels), n, *samples)
		}
		source = fmt.Sprintf("samples %s (N=%d)", *samples, n)
	}

	b, _, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	var net *mnistcnn.Network
	if *weights != "" {
		net, err = mnistcnn.LoadNetwork(b, *weights)
	} else {
		net, err = mnistcnn.DefaultNetwork(b)
	}
	if err != nil {
		return err
	}
	defer net.Close()

	var res *sampler.Result
	if *modelDir != "" {
		res, source, err = fidSample(ctx, b, fidSampleArgs{dir: *modelDir, ns: ns, class: *class, flags: sf,
			estimateOnly: *estimate, save: *save, data: *data, classifier: *clfDir})
		if err != nil || res == nil {
			return err
		}
		images, n, labels = res.Images, res.N, res.Labels
	}

	cacheDir := *cache
	if cacheDir == "" {
		cacheDir = fid.CacheDir(mnist.Dir(*data))
	}
	ref, err := fid.NewReference(ctx, net, *data, cacheDir, os.Stderr)
	if err != nil {
		return err
	}
	m := net.Manifest()
	rep := fidReport{Network: net.Name(), NetworkHash: net.Hash(), FeatureDim: net.Dim(), NetworkAcc: m.Training.TestAccuracy,
		Reference: fid.ReferenceDataset + " (the 10,000 MNIST test images)",
		Floor: fmt.Sprintf("N random MNIST training images (training.Permutation(60000, seed, 0)[:N]) vs the same reference, "+
			"mean ± std over %d subsets (seeds %d..%d)", fid.FloorRepeats, fid.FloorSeed, fid.FloorSeed+fid.FloorRepeats-1),
		Source: source, Date: time.Now().UTC().Format(time.RFC3339)}
	if res != nil {
		rep.SampleSecond = res.Seconds
	}
	rep.Compute = net.ComputeIdentity()
	if *floorOnly {
		rep.Source = "floors only"
		for _, n := range ns {
			f, err := ref.Floor(ctx, n)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, floorRow(f))
		}
	} else {
		if *modelDir == "" {
			ns = []int{n}
		}
		for _, k := range ns {
			var l []int
			if labels != nil {
				l = labels[:k]
			}
			meas, err := ref.Measure(ctx, images[:k*fid.ImagePixels], k, l)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, measurementRow(meas))
		}
	}
	printFIDReport(os.Stdout, &rep, *floorOnly)
	if *jsonOut != "" {
		data, err := json.MarshalIndent(&rep, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(*jsonOut, append(data, '\n')); err != nil {
			return err
		}
		fmt.Printf("-> %s\n", *jsonOut)
	}
	return nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// parseNs parses --n: a comma list of sample counts ≥ 2.
func parseNs(s string) ([]int, error) {
	var ns []int
	for _, p := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || k < 2 {
			return nil, fmt.Errorf("--n %q: %q is not a sample count ≥ 2", s, p)
		}
		ns = append(ns, k)
	}
	return ns, nil
}
