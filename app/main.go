package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
	"github.com/gomlx/compute"
)

// Evaluation is what an Evaluator reports about a set of samples.
type Evaluation struct {
	// Metrics by name (e.g. "fid", "fid_floor", "kid_mean"), in the order of Names.
	Metrics map[string]float64 `json:"metrics"`
	Names   []string           `json:"names"`
	// Tool describes how the numbers were computed (feature network and its hash, N, reference set).
	Tool string `json:"tool"`
}

// Evaluator scores samples (N×28×28 in [−1, 1]); labels are the requested classes or nil.
type Evaluator func(ctx context.Context, images []float32, n int, labels []int, log io.Writer) (*Evaluation, error)

// MainOptions configures Main.
type MainOptions struct {
	Recipe      recipe.Recipe
	Dir         string // run directory
	Resume      bool
	Backend     compute.Backend
	BackendInfo backend.Info
	DataDir     string
	Log         io.Writer
	// Evaluate scores Recipe.Sample.FIDSamples samples; nil skips the evaluation.
	Evaluate Evaluator
	// Compare, if not empty, is a trained model (e.g. a shipped one under models/) whose samples
	// are drawn beside the run's in compare.png.
	Compare string
}

// Report is written to report.json and summarised in report.md.
type Report struct {
	Recipe        recipe.Recipe `json:"recipe"`
	Backend       string        `json:"backend"`
	Device        string        `json:"device"`
	Steps         int64         `json:"steps"`
	TrainSeconds  float64       `json:"train_seconds"`
	FinalLoss     float64       `json:"final_epoch_loss"`
	Sampler       string        `json:"sampler"`
	SampleSeconds float64       `json:"sample_seconds"`
	SamplesPerSec float64       `json:"samples_per_second"`
	Evaluation    *Evaluation   `json:"evaluation,omitempty"`
	Quality       *Quality      `json:"quality,omitempty"`
	Comparison    *Comparison   `json:"comparison,omitempty"`
	EvalSamples   int           `json:"eval_samples"`
	Files         []string      `json:"files"`
	Date          string        `json:"date"`
}

// Main trains (or resumes) the recipe, samples a grid and a trajectory, evaluates, and writes
// samples.png, samples.npy, trajectory.png, loss.png, report.json and report.md in the run directory.
func Main(ctx context.Context, o MainOptions) (*Report, error) {
	log := o.Log
	if log == nil {
		log = os.Stdout
	}
	r := o.Recipe
	fmt.Fprintf(log, "== train %s: %s\n", r.Name, r.Description)
	topts := training.Options{Recipe: r, Dir: o.Dir, Resume: o.Resume, Backend: o.Backend, DataDir: o.DataDir, Log: log}
	if r.Train.EvalSamples > 0 && o.Evaluate != nil {
		topts.EpochEval = EpochEvaluator(o.Backend, r.Sample, r.Train.EvalSamples, o.Evaluate)
	}
	res, err := training.Run(ctx, topts)
	if err != nil {
		return nil, err
	}
	useEMA := training.HasEMA(res.Store)
	store, err := training.InferenceStore(res.Store, useEMA)
	if err != nil {
		return nil, err
	}
	s := sampler.New(o.Backend, store, res.Model)
	opts, err := SampleOptions(r.Sample)
	if err != nil {
		return nil, err
	}
	rep := &Report{Recipe: r, Backend: o.BackendInfo.Identity, Device: o.BackendInfo.Device, Steps: res.State.Step,
		TrainSeconds: res.State.TrainSeconds, Sampler: opts.String(), Date: time.Now().UTC().Format(time.DateOnly)}
	if n := len(res.State.EpochLosses); n > 0 {
		rep.FinalLoss = res.State.EpochLosses[n-1]
	}

	fmt.Fprintf(log, "== sample %d images (%s, EMA weights: %v)\n", r.Sample.N, rep.Sampler, useEMA)
	labels := sampler.BalancedLabels(res.Model, r.Sample.N)
	samples, err := s.Sample(ctx, r.Sample.N, labels, opts, log)
	if err != nil {
		return nil, err
	}
	rep.SampleSeconds, rep.SamplesPerSec = samples.Seconds, float64(samples.N)/samples.Seconds
	add := func(name string, err error) error {
		if err == nil {
			rep.Files = append(rep.Files, name)
		}
		return err
	}
	if err := add("samples.png", SaveSampleGrid(filepath.Join(o.Dir, "samples.png"), samples, r.Sample.N)); err != nil {
		return nil, err
	}
	if err := add("samples.npy", WriteSamplesNpy(filepath.Join(o.Dir, "samples.npy"), samples)); err != nil {
		return nil, err
	}
	if err := add("loss.png", SaveLossCurve(filepath.Join(o.Dir, "loss.png"), "training loss: "+r.Name, res.State)); err != nil {
		return nil, err
	}
	traj := opts
	traj.Record = sampler.TrajectorySteps(res.Model.Schedule.T, traj, 10)
	trajectory, err := s.Sample(ctx, 6, sampler.BalancedLabels(res.Model, 6), traj, io.Discard)
	if err != nil {
		return nil, err
	}
	if err := add("trajectory.png", SaveTrajectory(filepath.Join(o.Dir, "trajectory.png"), trajectory, 6, true,
		fmt.Sprintf("Denoising trajectory of %s (%s): x_t above, predicted x̂₀ below", r.Name, traj))); err != nil {
		return nil, err
	}

	if o.Compare != "" {
		if rep.Comparison, err = compareWithShipped(ctx, o, r.Name, samples, r.Sample.N, log); err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, rep.Comparison.File)
	}

	if o.Evaluate != nil && r.Sample.FIDSamples > 0 {
		n := r.Sample.FIDSamples
		fmt.Fprintf(log, "== evaluate %d samples\n", n)
		evalOpts := opts
		evalOpts.Seed = r.Sample.Seed + 1000 // not the grid's samples
		evalSamples, err := s.Sample(ctx, n, sampler.BalancedLabels(res.Model, n), evalOpts, log)
		if err != nil {
			return nil, err
		}
		if rep.Evaluation, err = o.Evaluate(ctx, evalSamples.Images, n, evalSamples.Labels, log); err != nil {
			return nil, err
		}
		rep.EvalSamples = n
		rep.Quality = NewQuality(rep.Evaluation, n)
	}
	if err := writeReport(o.Dir, rep); err != nil {
		return nil, err
	}
	fmt.Fprint(log, rep.Markdown())
	return rep, nil
}

// SampleOptions converts a recipe's sampling settings; the error is a guidance setting that is
// not "none" or "cfg:W", or a corrector range that is not "LO:HI" (recipe.Sample.Validate reports
// the same).
func SampleOptions(s recipe.Sample) (sampler.Options, error) {
	o := sampler.Options{Method: s.Sampler, Steps: s.Steps, Eta: s.Eta, Variance: diffusion.ReverseVariance(s.Variance),
		ClipX0: s.ClipX0, Seed: s.Seed, Corrector: s.Corrector, SNR: s.SNR}
	at, err := diffusion.ParseStepRange(s.CorrectorAt)
	if err != nil {
		return o, fmt.Errorf("sample: %w", err)
	}
	o.CorrectorAt = at
	w, cfg, err := s.CFGWeight()
	if cfg {
		o.Guidance = sampler.Guidance{Kind: "cfg", Scale: w}
	}
	return o, err
}

func writeReport(dir string, rep *Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "report.json"), data); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "report.md"), []byte(rep.Markdown()))
}

// Markdown is a results table in the style of research repositories.
func (rep *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| recipe | backend | steps | train time | final epoch loss | sampler | samples/s |")
	var names []string
	if rep.Evaluation != nil {
		names = rep.Evaluation.Names
		for _, n := range names {
			fmt.Fprintf(&b, " %s |", n)
		}
	}
	fmt.Fprintf(&b, "\n|---|---|---|---|---|---|---|%s\n", strings.Repeat("---|", len(names)))
	fmt.Fprintf(&b, "| %s | %s | %d | %s | %.4f | %s | %.1f |", rep.Recipe.Name, rep.Backend, rep.Steps,
		(time.Duration(rep.TrainSeconds) * time.Second).String(), rep.FinalLoss, rep.Sampler, rep.SamplesPerSec)
	for _, n := range names {
		fmt.Fprintf(&b, " %.4g |", rep.Evaluation.Metrics[n])
	}
	b.WriteString("\n")
	if rep.Evaluation != nil {
		fmt.Fprintf(&b, "\nEvaluation: %d samples; %s\n", rep.EvalSamples, rep.Evaluation.Tool)
		if q := rep.Quality; q != nil {
			b.WriteString("\n" + q.Markdown())
		}
	}
	if c := rep.Comparison; c != nil {
		fmt.Fprintf(&b, "\n%s: this run's samples beside those of the shipped %s (%s, %d epochs; %s)\n",
			c.File, c.Model, c.Recipe, c.Epochs, c.Sampler)
	}
	return b.String()
}
