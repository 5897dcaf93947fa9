package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/classifier"
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
	sf := addSamplerFlags(fs)
	class := fs.String("class", "", "class(es) to draw: one digit (all samples), or a comma list cycled over the samples")
	grid := fs.String("grid", "", "\"classes\": a 10×10 grid, one row per class, each column from the same starting noise")
	clfDir := fs.String("classifier", "", "noisy classifier for --guidance classifier:S (a `ddpm train-classifier` run directory)")
	out := fs.String("out", "", "PNG grid path (default <model>/sample.png)")
	npy := fs.String("npy", "", ".npy path (default: the PNG path with .npy for .png, e.g. s.png -> s.npy; \"-\" to skip)")
	trajectory := fs.String("trajectory", "", "also write the denoising trajectory of the first samples to this PNG")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelDir == "" {
		fs.Usage()
		return fmt.Errorf("--model is required")
	}
	if _, err := sampler.ParseGuidance(*sf.guidance); err != nil {
		return err
	}
	trained, err := app.LoadTrained(*modelDir, *sf.ema)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "model %s (%s), %s weights\n", trained.Checkpoint, trained.State.Recipe.Name,
		map[bool]string{true: "EMA", false: "raw"}[trained.EMA])
	b, _, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	settings, tuned, err := sf.settings(*modelDir, trained)
	if err != nil {
		return err
	}
	o, err := sf.options(settings, 0)
	if err != nil {
		return err
	}
	sf.setTuned(&o, tuned)
	perClass := trained.Model.Conditional() || *class != "" || *grid != "" || o.Guidance.Kind == "classifier"
	if err := sf.setPrior(ctx, &o, trained, tuned, *data, perClass); err != nil {
		return err
	}
	if *trajectory != "" {
		o.Record = sampler.TrajectorySteps(trained.Model.Schedule.T, o, 10)
	}
	s := sampler.New(b, trained.Store, trained.Model)
	if err := attachClassifier(s, *clfDir, o.Guidance); err != nil {
		return err
	}
	if err := sf.attachGuide(s, o.Guidance); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(*modelDir, "sample.png")
	}
	if *npy == "" { // beside the PNG: s.png -> s.npy
		*npy = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".npy"
	}
	for _, p := range []string{*out, *npy, *trajectory} {
		if p != "" && p != "-" {
			if err := app.CheckWritable(p); err != nil {
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
		if labels == nil && o.Guidance.Kind == "cfg" && trained.Model.Conditional() {
			labels = sampler.BalancedLabels(trained.Model, *n) // no --class: every digit in turn
		}
		if res, err = s.Sample(ctx, *n, labels, o, os.Stderr); err != nil {
			return err
		}
		if err := app.SaveSampleGrid(*out, res, res.N); err != nil {
			return err
		}
	case "classes":
		if res, err = app.ClassGrid(ctx, s, o, 10, os.Stderr); err != nil {
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
		if err := app.WriteSamplesNpy(*npy, res); err != nil {
			return err
		}
		fmt.Printf("samples as N×28×28 float32 in [-1, 1] -> %s\n", *npy)
	}
	if *trajectory != "" {
		if err := app.SaveTrajectory(*trajectory, res, min(res.N, 8), true,
			fmt.Sprintf("Denoising trajectory of %s (%s, seed %d)", trained.State.Recipe.Name, o, o.Seed)); err != nil {
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

// attachClassifier loads the noisy classifier of `--classifier dir` ("" none) into s, for
// --guidance classifier:S.
func attachClassifier(s *sampler.Sampler, dir string, g sampler.Guidance) error {
	if dir == "" {
		return nil
	}
	clf, err := classifier.Load(dir)
	if err != nil {
		return err
	}
	if err := s.WithClassifier(clf.Classifier, clf.Store); err != nil {
		return fmt.Errorf("--classifier %s: %w", dir, err)
	}
	fmt.Fprintf(os.Stderr, "noisy classifier %s (%s)\n", clf.Checkpoint, clf.State.Spec.Schedule)
	if g.Kind != "classifier" {
		fmt.Fprintf(os.Stderr, "warning: --classifier is used only with --guidance classifier:S (got %s)\n", g)
	}
	return nil
}
