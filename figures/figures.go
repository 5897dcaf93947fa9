package figures

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

// The files written by Generate, in order.
const (
	FileNoising         = "noising.png"
	FileLossUncond      = "loss_uncond.png"
	FileLossCond        = "loss_cond.png"
	FileSamplesUncond   = "samples_uncond.png"
	FileSamplesCond     = "samples_cond.png"
	FileTrajectory      = "trajectory.png"
	FileGuidanceSamples = "guidance_samples.png"
	FileFIDEpochs       = "fid_epochs.png"
	FileKIDEpochs       = "kid_epochs.png"
	FileGuidanceSweep   = "guidance_sweep.png"
	FileIndex           = "README.md"
)

// ExpectedFiles lists every file Generate writes.
func ExpectedFiles() []string {
	return []string{FileNoising, FileLossUncond, FileLossCond, FileSamplesUncond, FileSamplesCond, FileTrajectory,
		FileGuidanceSamples, FileFIDEpochs, FileKIDEpochs, FileGuidanceSweep, FileIndex}
}

// NoisingFigure shows the forward process q(x_t | x_0) of the assignment1 schedule: one row per
// digit 0..9 (the first of each class in the training set), one column per t = 0, T/10, ..., T,
// with the same noise ε along a row.
func (e *Env) NoisingFigure(ctx context.Context) (Figure, error) {
	r, err := e.Recipe(Assignment1)
	if err != nil {
		return Figure{}, err
	}
	s, err := schedule.New(r.Schedule)
	if err != nil {
		return Figure{}, err
	}
	set, err := mnist.EnsureAndLoad(ctx, mnist.Dir(e.DataDir), mnist.Train, e.Log)
	if err != nil {
		return Figure{}, err
	}
	x0, _ := Digits(set)
	ts := Steps(s.T, 11)
	xt, _, err := NoiseImages(e.Backend, s, x0, 10, ts, 0)
	if err != nil {
		return Figure{}, err
	}
	labels := make([]string, 0, 10*len(ts))
	for range 10 {
		for _, t := range ts {
			labels = append(labels, fmt.Sprintf("t=%d", t))
		}
	}
	title := fmt.Sprintf("Forward process q(x_t | x_0), %s: rows digits 0–9 (the first of each class in the training set), "+
		"the same noise ε along a row", r.Schedule)
	img, err := LabeledGrid(xt, 10*len(ts), len(ts), labels, title)
	if err != nil {
		return Figure{}, err
	}
	return imageFigure(FileNoising, title, img)
}

// LossFigure plots the training loss of a model against the iteration (the assignment's "batch
// loss" curve, with the epoch means).
func (e *Env) LossFigure(m *Model, name string) (Figure, error) {
	p, err := LossPlot(fmt.Sprintf("Batch loss: %s (%d iterations of batch %d)", m.Recipe.Name, m.State.Step,
		m.Recipe.Train.BatchSize), m.State)
	if err != nil {
		return Figure{}, err
	}
	return plotFigure(name, p)
}

// SamplesFigure draws Settings.GridN samples (classes cycling 0..9 for a conditional model) with
// the grid sampler.
func (e *Env) SamplesFigure(ctx context.Context, m *Model, name string) (Figure, error) {
	n := e.Settings.GridN
	res, err := e.Sample(ctx, m, n, sampler.BalancedLabels(m.Model, n), e.Settings.Sample)
	if err != nil {
		return Figure{}, err
	}
	title := fmt.Sprintf("%d samples of %s after %d epochs (%s, seed %d)", n, m.Recipe.Name, m.Epochs(),
		SamplerLabel(m, e.Settings.Sample), e.Settings.Sample.Seed)
	img, err := LabeledGrid(res.Images, n, SquareCols(n), DigitLabels(res.Labels), title)
	if err != nil {
		return Figure{}, err
	}
	return imageFigure(name, title, img)
}

// ClassGridFigure draws the 10×10 class-conditional grid: row c holds ten samples of class c,
// column j starts from the same noise in every row; guided with weight w (0: plain conditional).
func (e *Env) ClassGridFigure(ctx context.Context, m *Model, name string, w float64) (Figure, error) {
	o := e.Settings.Sample
	if w != 0 {
		o.Guidance = sampler.Guidance{Kind: "cfg", Scale: w}
	}
	res, err := app.ClassGrid(ctx, m.Sampler, o, 10, e.Log)
	if err != nil {
		return Figure{}, err
	}
	title := fmt.Sprintf("%s after %d epochs: one row per class 0–9, column j from the same noise x_T in every row "+
		"(%s, seed %d)", m.Recipe.Name, m.Epochs(), SamplerLabel(m, o), o.Seed)
	img, err := LabeledGrid(res.Images, res.N, 10, DigitLabels(res.Labels), title)
	if err != nil {
		return Figure{}, err
	}
	return imageFigure(name, title, img)
}

// TrajectoryFigure records a reverse chain of 6 images (classes 0..5 for a conditional model):
// for each image a row of x_t from noise to the sample and a row of the x̂_0 predicted at each
// recorded step.
func (e *Env) TrajectoryFigure(ctx context.Context, m *Model, name string) (Figure, error) {
	o := e.Settings.Sample
	o.Record = sampler.TrajectorySteps(m.Model.Schedule.T, o, e.Settings.TrajectoryFrames)
	res, err := e.Sample(ctx, m, 6, sampler.BalancedLabels(m.Model, 6), o)
	if err != nil {
		return Figure{}, err
	}
	title := fmt.Sprintf("Reverse process of %s (%s, seed %d): for each of 6 chains, x_t (upper row) and the "+
		"network's x̂_0 (lower row), from noise (left) to the sample (right)", m.Recipe.Name, SamplerLabel(m, o), o.Seed)
	if m.Model.Conditional() {
		title += ", digits 0–5"
	}
	img, err := TrajectoryImage(res, 6, true, title)
	if err != nil {
		return Figure{}, err
	}
	return imageFigure(name, title, img)
}

// GuidanceSamplesFigure draws one row of the ten classes for each weight of the guidance sweep,
// every row from the same noise.
func (e *Env) GuidanceSamplesFigure(ctx context.Context, m *Model, name string) (Figure, error) {
	var cells []float32
	var tiles []string
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, w := range e.Settings.GuidanceSweep {
		o := e.Settings.Sample
		if w != 0 {
			o.Guidance = sampler.Guidance{Kind: "cfg", Scale: w}
		}
		res, err := e.Sample(ctx, m, 10, labels, o)
		if err != nil {
			return Figure{}, err
		}
		cells = append(cells, res.Images...)
		for _, c := range labels {
			tiles = append(tiles, fmt.Sprintf("γ=%g: %d", 1+w, c))
		}
	}
	gammas := make([]float64, len(e.Settings.GuidanceSweep))
	for i, w := range e.Settings.GuidanceSweep {
		gammas[i] = 1 + w
	}
	title := fmt.Sprintf("%s after %d epochs: one row per guidance scale γ = %s (w = γ−1), requested digit under "+
		"each sample, every row from the same noise (%s, seed %d)", m.Recipe.Name, m.Epochs(), joinFloats(gammas),
		e.Settings.Sample.String(), e.Settings.Sample.Seed)
	img, err := LabeledGrid(cells, len(cells)/Pixels, 10, tiles, title)
	if err != nil {
		return Figure{}, err
	}
	return imageFigure(name, title, img)
}

// epochTitle is "<metric> against epoch", with the sample count and sampler when every series
// shares them (else each legend entry names its own).
func epochTitle(metric string, evals ...[]Eval) string {
	title := metric + " against epoch"
	if mixedSettings(evals...) {
		return title
	}
	for _, ev := range evals {
		if len(ev) > 0 {
			return fmt.Sprintf("%s (N=%d, %s)", title, ev[0].N, ev[0].Sampler)
		}
	}
	return title
}

// EpochFigures plots FID and KID against the epoch for the given per-epoch evaluations.
func EpochFigures(evals ...[]Eval) ([]Figure, error) {
	fidPlot, err := MetricPlot(epochTitle("FID", evals...), "FID vs MNIST test",
		func(v Eval) float64 { return v.FID }, func(v Eval) float64 { return v.FIDFloor }, evals...)
	if err != nil {
		return nil, err
	}
	kidPlot, err := MetricPlot(epochTitle("KID", evals...), "KID vs MNIST test",
		func(v Eval) float64 { return v.KID }, func(v Eval) float64 { return v.KIDFloor }, evals...)
	if err != nil {
		return nil, err
	}
	f1, err := plotFigure(FileFIDEpochs, fidPlot)
	if err != nil {
		return nil, err
	}
	f2, err := plotFigure(FileKIDEpochs, kidPlot)
	return []Figure{f1, f2}, err
}

// GuidanceFigure plots the guidance sweep against the assignment's scale γ: class accuracy and
// FID side by side.
func GuidanceFigure(evals []Eval) (Figure, error) {
	acc, fd, err := GuidancePlots(evals)
	if err != nil {
		return Figure{}, err
	}
	how, _, _ := strings.Cut(evals[0].Sampler, ", CFG")
	data, err := sideBySide(acc, fd)
	return Figure{Name: FileGuidanceSweep, PNG: data, Title: fmt.Sprintf("guidance sweep of %s: class accuracy and FID "+
		"against γ (N=%d each, %s)", evals[0].Model, evals[0].N, how)}, err
}

// Generate computes every report figure of the Env's mode and writes them to out (created if
// needed), with an index README.md holding the captions and the evaluation table. It trains or
// reuses the two assignment1 models in RunsDir. When the FID network is missing, the other figures
// are still written and the error (wrapping ErrNoEvaluation) names the missing ones.
func Generate(ctx context.Context, e *Env, out string) ([]string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var written []string
	var figs []Figure
	save := func(f Figure, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := WriteFile(filepath.Join(out, f.Name), f.PNG); err != nil {
			return err
		}
		fmt.Fprintf(e.Log, "figures: wrote %s\n", filepath.Join(out, f.Name))
		written = append(written, f.Name)
		figs = append(figs, f)
		return nil
	}
	if err := save(e.NoisingFigure(ctx)); err != nil {
		return written, err
	}
	uncond, err := e.Train(ctx, Assignment1)
	if err != nil {
		return written, err
	}
	cond, err := e.Train(ctx, Assignment1Cond)
	if err != nil {
		return written, err
	}
	steps := []func() (Figure, error){
		func() (Figure, error) { return e.LossFigure(uncond, FileLossUncond) },
		func() (Figure, error) { return e.LossFigure(cond, FileLossCond) },
		func() (Figure, error) { return e.SamplesFigure(ctx, uncond, FileSamplesUncond) },
		func() (Figure, error) { return e.ClassGridFigure(ctx, cond, FileSamplesCond, e.Settings.Guidance) },
		func() (Figure, error) { return e.TrajectoryFigure(ctx, uncond, FileTrajectory) },
		func() (Figure, error) { return e.GuidanceSamplesFigure(ctx, cond, FileGuidanceSamples) },
	}
	for _, step := range steps {
		if err := save(step()); err != nil {
			return written, err
		}
	}
	var evalErr error
	var uncondEvals, condEvals, sweep []Eval
	if _, err := e.Reference(ctx); err != nil {
		evalErr = fmt.Errorf("%w: %s, %s and %s not written: %v", ErrNoEvaluation, FileFIDEpochs, FileKIDEpochs,
			FileGuidanceSweep, err)
		fmt.Fprintf(e.Log, "figures: %v\n", evalErr)
	} else {
		if uncondEvals, err = e.EpochEvals(ctx, uncond); err != nil {
			return written, err
		}
		if condEvals, err = e.EpochEvals(ctx, cond); err != nil {
			return written, err
		}
		ef, err := EpochFigures(uncondEvals, condEvals)
		if err != nil {
			return written, err
		}
		for _, f := range ef {
			if err := save(f, nil); err != nil {
				return written, err
			}
		}
		if sweep, err = e.GuidanceEvals(ctx, cond); err != nil {
			return written, err
		}
		if err := save(GuidanceFigure(sweep)); err != nil {
			return written, err
		}
	}
	index := Index(e, figs, [][]Eval{uncondEvals, condEvals, sweep}, []*Model{uncond, cond})
	if err := WriteFile(filepath.Join(out, FileIndex), []byte(index)); err != nil {
		return written, err
	}
	written = append(written, FileIndex)
	return written, evalErr
}

// Index is the README.md of a figures directory: what made the figures, their captions and the
// evaluations as a table (no timings, so that it is as reproducible as the figures).
func Index(e *Env, figs []Figure, evals [][]Eval, models []*Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Report figures (%s mode)\n\n", e.Mode)
	fmt.Fprintf(&b, "Written by `GOEXPERIMENT=simd go run ./cmd/ddpm figures --mode %s` (package `figures`). "+
		"Same mode, seeds, checkpoints and backend ⇒ byte-identical files.\n\n", e.Mode)
	if e.Mode == Quick {
		shipped := 0
		for _, m := range models {
			if m.Shipped {
				shipped++
			}
		}
		switch shipped {
		case 0:
			b.WriteString("**Quick mode**: small networks trained for a few minutes on the CPU and small evaluation sets, " +
				"to exercise every step; the digits are blurry and the FID/KID values are far from a full training's.\n\n")
		default:
			b.WriteString("**Quick mode** on the CPU: models shipped under `models/` are loaded (see below; any other is a " +
				"small network trained for a few minutes), sampled with few DDIM steps and evaluated on small sets; " +
				"FID/KID at small N sit far above their values at the protocol's N (compare each with its floor).\n\n")
		}
	}
	b.WriteString("Models:\n\n")
	for _, m := range models {
		src := "trained by the command (run directory <runs>/" + filepath.Base(m.Dir) + ")"
		if m.Shipped {
			src = "shipped checkpoint " + filepath.ToSlash(e.Rel(m.Dir))
		}
		fmt.Fprintf(&b, "- `%s`: %s; %d steps (%d epochs), EMA weights: %v; %s.\n", m.Recipe.Name, m.Recipe.Description,
			m.State.Step, m.Epochs(), m.EMA, src)
	}
	b.WriteString("\n| file | figure |\n|---|---|\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "| [%s](%s) | %s |\n", f.Name, f.Name, f.Title)
	}
	evalTable(&b, "FID and KID at the end of each epoch", append(append([]Eval{}, evals[0]...), evals[1]...))
	evalTable(&b, "Guidance sweep", evals[2])
	return b.String()
}

// evalTable writes a markdown table of evaluations.
func evalTable(b *strings.Builder, title string, rows []Eval) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s (%s; *floor*: the same number of real MNIST training images):\n\n", title, rows[0].Tool)
	b.WriteString("| model | epoch | w | N | sampler | FID | FID floor | KID | KID floor | score | class acc. |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, v := range rows {
		acc := "–"
		if v.HasAccuracy() {
			acc = fmt.Sprintf("%.1f%%", 100*v.Accuracy)
		}
		fmt.Fprintf(b, "| %s | %d | %g | %d | %s | %.2f | %.2f | %.4f | %.4f | %.2f | %s |\n", v.Model, v.Epoch,
			v.Guidance, v.N, v.Sampler, v.FID, v.FIDFloor, v.KID, v.KIDFloor, v.Score, acc)
	}
}

// WriteFile writes data to path atomically (package atomicfile: temporary file, fsync, rename),
// readable by all (0644), creating path's directory.
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, data)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%g", x)
	}
	return strings.Join(s, ", ")
}
