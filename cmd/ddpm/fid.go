package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/pipeline"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
	"github.com/gomlx/compute"
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
  --features-a/-b      FID (and KID) of two arbitrary N×D feature matrices (.npy float32/float64),
                       printed with full float64 precision; no network involved.
  --floor              only the real-data floors at each N in --n.

Every row shows the floor at the same N: N random MNIST training images against the same reference
(what a perfect generator would get), as mean ± std over 5 random subsets: the std is also the noise
of a single FID at that N. KID is mean ± std over 100 subsets of min(1000, N) rows.
Numbers come from the project's MNIST CNN (mnist-cnn-v1), not InceptionV3: they are only comparable
with numbers computed with the same network hash (see fid/README.md).`

// fidRow is one line of the table and of --json.
type fidRow struct {
	N             int                  `json:"n"`
	FID           *float64             `json:"fid,omitempty"`
	FIDFloor      *float64             `json:"fid_floor,omitempty"`
	FIDFloorStd   *float64             `json:"fid_floor_std,omitempty"`
	KIDMean       *float64             `json:"kid_mean,omitempty"`
	KIDStd        *float64             `json:"kid_std,omitempty"`
	KIDFloorMean  *float64             `json:"kid_floor_mean,omitempty"`
	KIDFloorStd   *float64             `json:"kid_floor_std,omitempty"`
	Score         *float64             `json:"score,omitempty"`
	ScoreStd      *float64             `json:"score_std,omitempty"`
	ScoreFloor    *float64             `json:"score_floor,omitempty"`
	ClassAccuracy *float64             `json:"class_accuracy,omitempty"`
	Histogram     *[fid.NumClasses]int `json:"class_histogram,omitempty"`
	KIDSubsets    int                  `json:"kid_subsets,omitempty"`
	KIDSubsetSize int                  `json:"kid_subset_size,omitempty"`
	Warnings      []string             `json:"warnings,omitempty"`
}

// fidReport is what --json writes.
type fidReport struct {
	Network      string   `json:"network"`
	NetworkHash  string   `json:"network_hash"`
	FeatureDim   int      `json:"feature_dim"`
	NetworkAcc   float64  `json:"network_test_accuracy"`
	Reference    string   `json:"reference"`
	Floor        string   `json:"floor"`
	Source       string   `json:"source"`
	Rows         []fidRow `json:"rows"`
	Date         string   `json:"date"`
	SampleSecond float64  `json:"sample_seconds,omitempty"`
}

func f64(v float64) *float64 { return &v }

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
	save := fs.String("save", "", "with --model: where to write the samples (default <model>/fid-samples-<N>.npy; \"-\" skips)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	weights := fs.String("weights", "", "directory of other mnist-cnn-v1 weights (ddpm fid-train --out DIR); default: the shipped ones")
	cache := fs.String("cache", "", "cache directory of reference statistics and floors (default: fid/ beside the MNIST directory)")
	// Sampler flags (default: the recipe's sampling settings of the model).
	method := fs.String("sampler", "", "ddpm or ddim (default: the model recipe's)")
	steps := fs.Int("steps", 0, "DDIM steps (default: the recipe's)")
	eta := fs.Float64("eta", 0, "DDIM η (default: the recipe's)")
	variance := fs.String("variance", "", "DDPM σ_t²: beta or posterior (default: the recipe's)")
	clip := fs.Bool("clip", true, "clip the predicted x_0 at each step (when not given: the recipe's)")
	seed := fs.Int64("seed", 0, "sampler seed (default: the recipe's seed + 2000)")
	guidance := fs.String("guidance", "none", "none, cfg:W or classifier:S")
	ema := fs.Bool("ema", true, "use the EMA weights when the model has them")
	batch := fs.Int("batch", 0, "images denoised together (0: 64 on the Go backend, 500 on accelerators)")
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
		for _, name := range []string{"sampler", "steps", "eta", "variance", "clip", "seed", "guidance", "ema", "batch", "estimate", "save"} {
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
	var net *fid.Network
	if *weights != "" {
		net, err = fid.LoadNetwork(b, *weights)
	} else {
		net, err = fid.DefaultNetwork(b)
	}
	if err != nil {
		return err
	}
	defer net.Close()

	var res *sampler.Result
	if *modelDir != "" {
		res, source, err = fidSample(ctx, b, fidSampleArgs{dir: *modelDir, ns: ns, class: *class, method: *method,
			steps: *steps, eta: *eta, variance: *variance, clip: *clip, seed: *seed, guidance: *guidance, ema: *ema,
			batch: *batch, set: set, estimateOnly: *estimate, save: *save})
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

func floorRow(f *fid.Floor) fidRow {
	r := fidRow{N: f.N, FIDFloor: f64(f.FID), FIDFloorStd: f64(f.FIDStd), KIDFloorMean: f64(f.KID), KIDFloorStd: f64(f.KIDStd)}
	if len(f.Runs) > 0 {
		r.KIDSubsets, r.KIDSubsetSize = f.Runs[0].KID.Subsets, f.Runs[0].KID.SubsetSize
	}
	if f.Score != 0 {
		r.ScoreFloor = f64(f.Score)
	}
	return r
}

func measurementRow(m *fid.Measurement) fidRow {
	r := fidRow{N: m.N, FID: f64(m.FID.FID), KIDMean: f64(m.KID.Mean), KIDStd: f64(m.KID.Std),
		KIDSubsets: m.KID.Subsets, KIDSubsetSize: m.KID.SubsetSize, Warnings: m.FID.Warnings}
	if m.Score != 0 {
		r.Score, r.ScoreStd = f64(m.Score), f64(m.ScoreStd)
		h := m.Histogram
		r.Histogram = &h
	}
	if !math.IsNaN(m.Accuracy) {
		r.ClassAccuracy = f64(m.Accuracy)
	}
	if f := m.Floor; f != nil {
		r.FIDFloor, r.FIDFloorStd, r.KIDFloorMean, r.KIDFloorStd = f64(f.FID), f64(f.FIDStd), f64(f.KID), f64(f.KIDStd)
		if f.Score != 0 {
			r.ScoreFloor = f64(f.Score)
		}
	}
	return r
}

func printFIDReport(w io.Writer, rep *fidReport, floorOnly bool) {
	fmt.Fprintf(w, "network %s sha256 %s (D=%d, test accuracy %.2f%%)\n", rep.Network, rep.NetworkHash, rep.FeatureDim, 100*rep.NetworkAcc)
	fmt.Fprintf(w, "reference %s; floor: %s\n", rep.Reference, rep.Floor)
	fmt.Fprintf(w, "source: %s\n", rep.Source)
	fmt.Fprintf(w, "KID: mean ± std over its subsets; score: classifier score (Inception-Score-like, 1..10) ± std over %d splits\n\n", fid.ScoreSplits)
	num := func(p *float64, format string) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf(format, *p)
	}
	pm := func(mean, std *float64, format string) string {
		if mean == nil {
			return "-"
		}
		return fmt.Sprintf(format+" ± "+format, *mean, *std)
	}
	if floorOnly {
		fmt.Fprintf(w, "| N | FID floor | KID floor | score floor |\n|---|---|---|---|\n")
		for _, r := range rep.Rows {
			fmt.Fprintf(w, "| %d | %s | %s | %s |\n", r.N, pm(r.FIDFloor, r.FIDFloorStd, "%.4g"), pm(r.KIDFloorMean, r.KIDFloorStd, "%.4g"),
				num(r.ScoreFloor, "%.3f"))
		}
		return
	}
	fmt.Fprintf(w, "| N | FID | FID floor | KID | KID floor | score | score floor | class accuracy |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.Rows {
		acc := "-"
		if r.ClassAccuracy != nil {
			acc = fmt.Sprintf("%.2f%%", 100**r.ClassAccuracy)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", r.N, num(r.FID, "%.4f"), pm(r.FIDFloor, r.FIDFloorStd, "%.4g"),
			pm(r.KIDMean, r.KIDStd, "%.4g"), pm(r.KIDFloorMean, r.KIDFloorStd, "%.4g"),
			pm(r.Score, r.ScoreStd, "%.3f"), num(r.ScoreFloor, "%.3f"), acc)
	}
	for _, r := range rep.Rows {
		if r.Histogram != nil {
			parts := make([]string, len(r.Histogram))
			for c, k := range r.Histogram {
				parts[c] = fmt.Sprintf("%d:%d", c, k)
			}
			fmt.Fprintf(w, "\npredicted classes (N=%d): %s", r.N, strings.Join(parts, " "))
		}
	}
	fmt.Fprintln(w)
	seen := map[string]bool{}
	for _, r := range rep.Rows {
		for _, warn := range r.Warnings {
			if !seen[warn] {
				seen[warn] = true
				fmt.Fprintf(w, "warning (N=%d): %s\n", r.N, warn)
			}
		}
	}
}

// fidFeatures is the --features-a/--features-b mode.
func fidFeatures(pathA, pathB, jsonOut string) error {
	a, err := fid.ReadNpyMatrix(pathA)
	if err != nil {
		return err
	}
	b, err := fid.ReadNpyMatrix(pathB)
	if err != nil {
		return err
	}
	na, da := a.Dims()
	nb, db := b.Dims()
	if da != db {
		return fmt.Errorf("feature dimensions differ: %s is %d×%d, %s is %d×%d", pathA, na, da, pathB, nb, db)
	}
	for _, x := range []struct {
		path string
		n    int
	}{{pathA, na}, {pathB, nb}} {
		if x.n < 2 {
			return fmt.Errorf("%s has N=%d feature row(s); FID needs N ≥ 2", x.path, x.n)
		}
	}
	sa, err := fid.ComputeStats(a)
	if err != nil {
		return fmt.Errorf("%s: %w", pathA, err)
	}
	sb, err := fid.ComputeStats(b)
	if err != nil {
		return fmt.Errorf("%s: %w", pathB, err)
	}
	sa.Dataset, sb.Dataset = pathA, pathB
	r, err := fid.FID(sa, sb)
	if err != nil {
		return err
	}
	out := map[string]any{"fid": r.FID, "na": na, "nb": nb, "dim": da, "mean_term": r.MeanTerm,
		"trace_a": r.TraceA, "trace_b": r.TraceB, "trace_sqrt": r.TraceSqrt, "clamped": r.Clamped}
	fmt.Printf("FID %.17g\n", r.FID)
	fmt.Printf("NA=%d NB=%d D=%d  ‖μa−μb‖²=%.17g  Tr Σa=%.17g  Tr Σb=%.17g  Tr √(Σa^½ Σb Σa^½)=%.17g\n",
		na, nb, da, r.MeanTerm, r.TraceA, r.TraceB, r.TraceSqrt)
	if min(na, nb) >= 2 {
		k, err := fid.KID(a, b, fid.KIDOptions{Seed: fid.KIDSeed})
		if err != nil {
			return err
		}
		fmt.Printf("KID %.17g ± %.3g (%d subsets of %d)\n", k.Mean, k.Std, k.Subsets, k.SubsetSize)
		out["kid_mean"], out["kid_std"], out["kid_subsets"], out["kid_subset_size"] = k.Mean, k.Std, k.Subsets, k.SubsetSize
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
	if len(r.Warnings) > 0 {
		out["warnings"] = r.Warnings
	}
	if jsonOut != "" {
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(jsonOut, append(data, '\n')); err != nil {
			return err
		}
	}
	return nil
}

type fidSampleArgs struct {
	dir, class, method, variance, guidance, save string
	ns                                           []int
	steps, batch                                 int
	eta                                          float64
	clip, ema, estimateOnly                      bool
	seed                                         int64
	set                                          map[string]bool
}

// fidSample samples max(ns) images from a trained model, after printing an estimate of the
// time it takes; nil result (and no error) with estimateOnly.
func fidSample(ctx context.Context, b compute.Backend, a fidSampleArgs) (*sampler.Result, string, error) {
	trained, err := pipeline.LoadTrained(a.dir, a.ema)
	if err != nil {
		return nil, "", err
	}
	r := trained.State.Recipe
	o := pipeline.SampleOptions(r.Sample)
	o.Seed = r.Sample.Seed + 2000 // neither the grid's nor `ddpm run`'s evaluation samples
	if a.set["sampler"] {
		o.Method = a.method
	}
	if a.set["steps"] {
		o.Steps = a.steps
	}
	if a.set["eta"] {
		o.Eta = a.eta
	}
	if a.set["variance"] {
		o.Variance = diffusion.ReverseVariance(a.variance)
	}
	if a.set["clip"] {
		o.ClipX0 = a.clip
	}
	if a.set["seed"] {
		o.Seed = a.seed
	}
	if o.Guidance, err = sampler.ParseGuidance(a.guidance); err != nil {
		return nil, "", err
	}
	o.BatchSize = a.batch
	maxN := 0
	for _, n := range a.ns {
		maxN = max(maxN, n)
	}
	labels, err := parseClasses(a.class, maxN)
	if err != nil {
		return nil, "", err
	}
	if labels == nil && trained.Model.Conditional() {
		labels = make([]int, maxN) // every class equally often, in every prefix of 10
		for i := range labels {
			labels[i] = i % 10
		}
	}
	if err := o.Validate(trained.Model, len(labels)); err != nil {
		return nil, "", err
	}
	s := sampler.New(b, trained.Store, trained.Model)
	desc := fmt.Sprintf("%s, seed %d", describeOptions(o), o.Seed)
	fmt.Fprintf(os.Stderr, "model %s (%s), %s weights; sampler %s\n", trained.Checkpoint, r.Name,
		map[bool]string{true: "EMA", false: "raw"}[trained.EMA], desc)

	// Estimate: time network evaluations on one batch (DDIM, 1 then 3 steps: the second call
	// reuses the compiled graph), then scale by the steps and batches of the real run.
	bs := min(o.BatchSize, maxN)
	if bs == 0 {
		bs = min(sampler.DefaultBatchSize(b), maxN)
	}
	cal := o
	cal.Method, cal.Eta, cal.Record = "ddim", 0, nil
	var calLabels []int
	if labels != nil {
		calLabels = labels[:bs]
	}
	cal.Steps = 1
	if _, err := s.Sample(ctx, bs, calLabels, cal, io.Discard); err != nil {
		return nil, "", fmt.Errorf("timing the sampler: %w", err)
	}
	cal.Steps = 3
	timed, err := s.Sample(ctx, bs, calLabels, cal, io.Discard)
	if err != nil {
		return nil, "", fmt.Errorf("timing the sampler: %w", err)
	}
	perStep := timed.Seconds / 3
	netSteps := trained.Model.Schedule.T
	if o.Method == "ddim" {
		netSteps = o.Steps
	}
	for _, n := range a.ns {
		est := time.Duration(float64(netSteps) * float64((n+bs-1)/bs) * perStep * float64(time.Second))
		fmt.Fprintf(os.Stderr, "estimated sampling time for N=%d: %s (%d network steps × %d batches of %d, %.2fs per step)\n",
			n, est.Round(time.Second), netSteps, (n+bs-1)/bs, bs, perStep)
	}
	if len(a.ns) > 1 {
		fmt.Fprintf(os.Stderr, "(N=%d is sampled once; smaller N use its first images; --n %d alone is faster)\n", maxN, min(a.ns[0], maxN))
	}
	if a.estimateOnly {
		return nil, "", nil
	}
	res, err := s.Sample(ctx, maxN, labels, o, os.Stderr)
	if err != nil {
		return nil, "", err
	}
	clipped := 0
	for i, v := range res.Images { // x_0 is in [-1, 1] only when the predicted x_0 is clipped
		if v < -1 || v > 1 {
			res.Images[i] = max(-1, min(1, v))
			clipped++
		}
	}
	if clipped > 0 {
		fmt.Fprintf(os.Stderr, "clipped %d pixel values to [-1, 1]\n", clipped)
	}
	path := a.save
	if path == "" {
		path = filepath.Join(a.dir, fmt.Sprintf("fid-samples-%d.npy", maxN))
	}
	if path != "-" {
		if err := fid.WriteNpyImages(path, res.Images, res.N); err != nil {
			return nil, "", err
		}
		fmt.Fprintf(os.Stderr, "samples -> %s\n", path)
		if res.Labels != nil {
			if err := fid.WriteNpyLabels(fid.LabelsPath(path), res.Labels); err != nil {
				return nil, "", err
			}
			fmt.Fprintf(os.Stderr, "requested classes -> %s\n", fid.LabelsPath(path))
		}
	}
	return res, fmt.Sprintf("model %s (%s), %s, %d samples in %.0fs", trained.Checkpoint, r.Name, desc, res.N, res.Seconds), nil
}

func describeOptions(o sampler.Options) string {
	s := fmt.Sprintf("ddpm, σ²=%s, clip=%v", o.Variance, o.ClipX0)
	if o.Method == "ddim" {
		s = fmt.Sprintf("ddim, %d steps, η=%g, clip=%v", o.Steps, o.Eta, o.ClipX0)
	}
	if o.Guidance.Kind != "" {
		s += ", guidance " + o.Guidance.String()
	}
	return s
}
