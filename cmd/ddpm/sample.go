package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/pipeline"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/viz"
)

func init() {
	register("sample", "draw samples from a trained model: PNG grid and .npy (N×28×28 float32 in [-1,1])", runSample)
}

func runSample(ctx context.Context, args []string) error {
	fs := newFlags("sample", "--model DIR [flags]")
	modelDir := fs.String("model", "", "run directory (or checkpoint directory) of a trained model (required)")
	n := fs.Int("n", 64, "number of samples")
	method := fs.String("sampler", "ddpm", "ddpm (ancestral, all T steps) or ddim")
	steps := fs.Int("steps", 50, "DDIM steps S (1..T), spaced τ_i = round(i·T/S)")
	eta := fs.Float64("eta", 0, "DDIM η in [0, 1] (0 = deterministic)")
	variance := fs.String("variance", "beta", "DDPM σ_t²: beta (β_t) or posterior (β̃_t)")
	clip := fs.Bool("clip", true, "clip the predicted x_0 to [-1, 1] at each step")
	seed := fs.Int64("seed", 1, "seed of the sampler's noise")
	class := fs.String("class", "", "class(es) to draw: one digit (all samples), or a comma list cycled over the samples")
	grid := fs.String("grid", "", "\"classes\": a 10×10 grid, one row per class, each column from the same starting noise")
	guidance := fs.String("guidance", "none", "none, cfg:W (classifier-free, conditional models) or classifier:S (with --classifier)")
	clfDir := fs.String("classifier", "", "noisy classifier for --guidance classifier:S (a `ddpm train-classifier` run directory)")
	ema := fs.Bool("ema", true, "use the EMA weights when the model has them (false: the raw weights)")
	out := fs.String("out", "", "PNG grid path (default <model>/sample.png)")
	npy := fs.String("npy", "", ".npy path (default: the PNG path with .npy for .png, e.g. s.png -> s.npy; \"-\" to skip)")
	trajectory := fs.String("trajectory", "", "also write the denoising trajectory of the first samples to this PNG")
	batch := fs.Int("batch", 0, "images denoised together (0: 64 on the Go backend, 500 on accelerators)")
	backendCfg := backendFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelDir == "" {
		fs.Usage()
		return fmt.Errorf("--model is required")
	}
	g, err := sampler.ParseGuidance(*guidance)
	if err != nil {
		return err
	}
	trained, err := pipeline.LoadTrained(*modelDir, *ema)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "model %s (%s), %s weights\n", trained.Checkpoint, trained.State.Recipe.Name,
		map[bool]string{true: "EMA", false: "raw"}[trained.EMA])
	b, _, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	o := sampler.Options{Method: *method, Steps: *steps, Eta: *eta, Variance: diffusion.ReverseVariance(*variance),
		ClipX0: *clip, Seed: *seed, Guidance: g, BatchSize: *batch}
	if *trajectory != "" {
		o.Record = pipeline.TrajectorySteps(trained.Model.Schedule.T, 10)
	}
	s := sampler.New(b, trained.Store, trained.Model)
	if *clfDir != "" {
		clf, err := classifier.Load(*clfDir)
		if err != nil {
			return err
		}
		if err := s.WithClassifier(clf.Classifier, clf.Store); err != nil {
			return fmt.Errorf("--classifier %s: %w", *clfDir, err)
		}
		fmt.Fprintf(os.Stderr, "noisy classifier %s (%s)\n", clf.Checkpoint, clf.State.Spec.Schedule)
		if g.Kind != "classifier" {
			fmt.Fprintf(os.Stderr, "warning: --classifier is used only with --guidance classifier:S (got %s)\n", g)
		}
	}
	if *out == "" {
		*out = filepath.Join(*modelDir, "sample.png")
	}
	if *npy == "" { // beside the PNG: s.png -> s.npy
		*npy = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".npy"
	}
	for _, p := range []string{*out, *npy, *trajectory} {
		if p != "" && p != "-" {
			if err := pipeline.CheckWritable(p); err != nil {
				return err
			}
		}
	}
	var res *sampler.Result
	switch *grid {
	case "":
		labels, err := parseClasses(*class, *n)
		if err != nil {
			return err
		}
		if res, err = s.Sample(ctx, *n, labels, o, os.Stderr); err != nil {
			return err
		}
		if err := pipeline.SaveSampleGrid(*out, res, res.N); err != nil {
			return err
		}
	case "classes":
		if res, err = pipeline.ClassGrid(ctx, s, o, 10, os.Stderr); err != nil {
			return err
		}
		img, err := viz.Grid(res.Images, res.N, 10, 2, 2)
		if err != nil {
			return err
		}
		if err := viz.SavePNG(*out, img); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--grid %q: want \"classes\" or nothing", *grid)
	}
	fmt.Printf("%d samples in %.1fs (%.1f/s) -> %s\n", res.N, res.Seconds, float64(res.N)/res.Seconds, *out)
	if *npy != "-" {
		if err := pipeline.WriteSamplesNpy(*npy, res); err != nil {
			return err
		}
		fmt.Printf("samples as N×28×28 float32 in [-1, 1] -> %s\n", *npy)
	}
	if *trajectory != "" {
		if err := pipeline.SaveTrajectory(*trajectory, res, min(res.N, 8), true); err != nil {
			return err
		}
		fmt.Printf("trajectory (rows: x_t, x̂_0 per sample; columns: t = %v) -> %s\n", o.Record, *trajectory)
	}
	return nil
}

// parseClasses turns --class into per-sample labels (nil when empty).
func parseClasses(s string, n int) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var classes []int
	for _, p := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || c < 0 || c > 9 {
			return nil, fmt.Errorf("--class %q: %q is not a digit class 0..9", s, p)
		}
		classes = append(classes, c)
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = classes[i%len(classes)]
	}
	return labels, nil
}
