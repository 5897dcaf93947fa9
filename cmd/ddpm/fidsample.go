// `ddpm fid --model`: sampling the images to measure, after an estimate of the time it takes.

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/gomlx/compute"
)

type fidSampleArgs struct {
	dir, class, save string
	classifier       string // noisy classifier for --guidance classifier:S
	data             string // MNIST directory, for --prior data
	ns               []int
	flags            *samplerFlags
	estimateOnly     bool
}

// fidSeedOffset is added to a recipe's sampling seed for `ddpm fid --model`: neither the grid's
// nor `ddpm run`'s evaluation samples.
const fidSeedOffset = 2000

// fidSample samples max(ns) images from a trained model, after printing an estimate of the
// time it takes; nil result (and no error) with estimateOnly.
func fidSample(ctx context.Context, b compute.Backend, a fidSampleArgs) (*sampler.Result, string, error) {
	trained, err := app.LoadTrained(a.dir, *a.flags.ema)
	if err != nil {
		return nil, "", err
	}
	settings, tuned, err := a.flags.settings(a.dir, trained)
	if err != nil {
		return nil, "", err
	}
	o, err := a.flags.options(settings, fidSeedOffset)
	if err != nil {
		return nil, "", err
	}
	a.flags.setTuned(&o, tuned)
	maxN := 0
	for _, n := range a.ns {
		maxN = max(maxN, n)
	}
	labels, err := parseClasses(a.class, maxN)
	if err != nil {
		return nil, "", err
	}
	if labels == nil && trained.Model.Conditional() {
		labels = sampler.BalancedLabels(trained.Model, maxN) // every class equally often, in every prefix
	}
	if labels == nil && o.Guidance.Kind == "classifier" { // the classifier's classes, balanced as above
		labels = sampler.CycleClasses(maxN, classifier.NumClasses)
	}
	if err := a.flags.setPrior(ctx, &o, trained, tuned, a.data, labels != nil); err != nil {
		return nil, "", err
	}
	s := sampler.New(b, trained.Store, trained.Model)
	if err := attachClassifier(s, a.classifier, o.Guidance); err != nil {
		return nil, "", err
	}
	if err := a.flags.attachGuide(s, o.Guidance); err != nil {
		return nil, "", err
	}
	if err := s.Check(o, len(labels)); err != nil {
		return nil, "", err
	}
	desc := fmt.Sprintf("%s, seed %d", o, o.Seed)
	switch o.Guidance.Kind {
	case "classifier":
		desc = fmt.Sprintf("%s (noisy classifier %s), seed %d", o, a.classifier, o.Seed)
	case "auto":
		desc = fmt.Sprintf("%s (guide %s), seed %d", o, a.flags.guideDir, o.Seed)
	}
	fmt.Fprintf(os.Stderr, "model %s (%s), %s weights; sampler %s\n", trained.Checkpoint, trained.State.Recipe.Name,
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
	perStep := timed.Seconds / 3 // the timed steps include the corrector's network calls
	visited := sampler.VisitedSteps(trained.Model.Schedule.T, o)
	netSteps, corrected := len(visited), 0
	for _, t := range visited {
		if o.CorrectorAt.Contains(t) {
			corrected++
		}
	}
	calls := ""
	if o.Corrector > 0 {
		calls = fmt.Sprintf(", %d of them with %d network calls", corrected, 1+o.Corrector)
		// Steps outside the corrector's range cost one call of the 1+Corrector timed.
		perCall := perStep / float64(1+o.Corrector)
		perStep = perCall * float64(netSteps+o.Corrector*corrected) / float64(netSteps)
	}
	for _, n := range a.ns {
		est := time.Duration(float64(netSteps) * float64((n+bs-1)/bs) * perStep * float64(time.Second))
		fmt.Fprintf(os.Stderr, "estimated sampling time for N=%d: %s (%d sampler steps%s × %d batches of %d, %.2fs per step)\n",
			n, est.Round(time.Second), netSteps, calls, (n+bs-1)/bs, bs, perStep)
	}
	if len(a.ns) > 1 {
		fmt.Fprintf(os.Stderr, "(N=%d is sampled once; smaller N use its first images; --n %d alone is faster)\n", maxN, min(a.ns[0], maxN))
	}
	if a.estimateOnly {
		return nil, "", nil
	}
	path := a.save
	if path == "" {
		path = filepath.Join(a.dir, fmt.Sprintf("fid-samples-%d.npy", maxN))
	}
	res, err := sampleResumable(ctx, s, path, maxN, labels, o, bs, trained.Checkpoint, trained.EMA, desc)
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
		if err := removePartial(path); err != nil {
			return nil, "", err
		}
	}
	weights := "" // raw weights of a recipe with EMA are named: the results tables assume the EMA ones
	if !trained.EMA && trained.State.Recipe.Train.EMADecay > 0 {
		weights = "raw weights, "
	}
	return res, fmt.Sprintf("model %s (%s), %s%s, %d samples in %.0fs", trained.Checkpoint, trained.State.Recipe.Name,
		weights, desc, res.N, res.Seconds), nil
}

// sampleResumable draws the n samples of fidSample, keeping those done in path's partial files
// after every batch (unless path is "-") and continuing from them when they belong to this run.
// desc is the sampler's description with its seed (and the classifier or guide it attaches).
func sampleResumable(ctx context.Context, s *sampler.Sampler, path string, n int, labels []int,
	o sampler.Options, bs int, checkpoint string, ema bool, desc string) (*sampler.Result, error) {
	if path == "-" {
		return s.Sample(ctx, n, labels, o, os.Stderr)
	}
	o.BatchSize = bs // the chunks of the kept samples are those of this batch size
	run := partialRun{Source: fmt.Sprintf("%s, EMA %t, %s", checkpoint, ema, desc),
		N: n, Batch: bs, Labels: labelsDigest(labels)}
	done, note, err := loadPartial(path, run)
	if err != nil {
		return nil, err
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, note)
	}
	res, err := s.SampleFrom(ctx, n, labels, o, os.Stderr, done, func(p sampler.Partial) error {
		if len(p.Images) == n*sampler.Pixels {
			return nil // complete: written as the samples themselves
		}
		return savePartial(path, run, p)
	})
	if err != nil && ctx.Err() != nil {
		if images, _ := partialPaths(path); fileExists(images) {
			fmt.Fprintf(os.Stderr, "interrupted: the samples done are kept in %s; the same command continues them\n", images)
		}
	}
	return res, err
}
