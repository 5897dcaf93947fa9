package sampler

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/progress"
	"github.com/ddpm-go/ddpm/ddpm/rng"
	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Pixels is the number of values of one image.
const Pixels = scorenet.ImageSize * scorenet.ImageSize

// Frame is the state of the reverse chain at one diffusion step.
type Frame struct {
	Step int       // the diffusion step t of the frame (0: the final images)
	X    []float32 // x_t, N×28×28
	X0   []float32 // x̂_0 predicted at step t (nil at t = 0)
}

// Result holds the samples of one call.
type Result struct {
	N      int
	Images []float32 // N×28×28 row-major, the final x_0 (in [−1, 1] when ClipX0)
	Labels []int     // the requested class of each image (nil if unconditional)
	Frames []Frame   // recorded trajectory, in sampling order (decreasing t)
	// Seconds is the wall time of the reverse chain (compilation included; for SampleFrom, with the
	// interrupted call's).
	Seconds float64
}

// Image returns image i (a view).
func (r *Result) Image(i int) []float32 { return r.Images[i*Pixels : (i+1)*Pixels] }

// Sampler draws images from a model whose weights are in store under diffusion.Scope (see
// training.InferenceStore).
type Sampler struct {
	backend compute.Backend
	store   *model.Store
	model   *diffusion.Model
	execs   map[string]*model.Exec
	// clf is the noisy classifier of classifier guidance (nil if none is attached); its weights
	// are in store under classifier.Scope.
	clf *classifier.Classifier
	// guide is the weaker model of autoguidance (nil if none is attached); its weights are in
	// store under GuideScope.
	guide *diffusion.Model
}

// New returns a sampler. Graphs are compiled on first use and reused.
func New(b compute.Backend, store *model.Store, m *diffusion.Model) *Sampler {
	return &Sampler{backend: b, store: store, model: m, execs: map[string]*model.Exec{}}
}

// Model returns the sampler's model.
func (s *Sampler) Model() *diffusion.Model { return s.model }

// WithClassifier attaches the noisy classifier c for classifier guidance (Options.Guidance
// "classifier:S"); it works with unconditional and conditional models. c's noise schedule must
// be the model's (same T and β_t), else it is an error saying what differs.
//
// weights holds c's variables under classifier.Scope (e.g. classifier.Trained.Store): they are
// copied into the sampler's store, replacing a classifier attached before. With weights nil (or
// the sampler's own store) the sampler's store is used as it is: variables missing there are
// created by their initialisers when a graph first uses them (an untrained classifier, for tests).
func (s *Sampler) WithClassifier(c *classifier.Classifier, weights *model.Store) error {
	if err := c.Net.Validate(); err != nil {
		return err
	}
	if err := c.CheckSchedule(s.model.Schedule); err != nil {
		return err
	}
	if weights != nil && weights != s.store {
		if err := s.replaceWeights(weights, classifier.Scope, classifier.Scope, "sampler: the classifier's store", func() {}); err != nil {
			return err
		}
	}
	s.clf = c
	s.resetExecs() // graphs compiled before may hold another classifier
	return nil
}

// resetExecs drops the compiled graphs.
func (s *Sampler) resetExecs() {
	for key, e := range s.execs {
		e.Finalize()
		delete(s.execs, key)
	}
}

// Classifier returns the attached noisy classifier (nil if none).
func (s *Sampler) Classifier() *classifier.Classifier { return s.clf }

// Sample draws n images. labels (nil, or n values in [0, NumClasses)) requests classes.
func (s *Sampler) Sample(ctx context.Context, n int, labels []int, o Options, log io.Writer) (*Result, error) {
	return s.SampleFrom(ctx, n, labels, o, log, nil, nil)
}

// SampleFrom is Sample continuing an interrupted call from done (nil: from the start), with save
// (nil: none) called after every chunk of o.BatchSize images with the images drawn so far; see
// Partial. The result is bit-identical to one uninterrupted Sample call with the same arguments.
func (s *Sampler) SampleFrom(ctx context.Context, n int, labels []int, o Options, log io.Writer,
	done *Partial, save func(Partial) error) (*Result, error) {
	if n < 1 {
		return nil, optionError("n", n, "number of samples %d: must be >= 1", n)
	}
	if labels != nil && len(labels) != n {
		return nil, optionError("labels", len(labels), "%d labels for %d samples", len(labels), n)
	}
	if err := s.Check(o, len(labels)); err != nil {
		return nil, err
	}
	if s.model.Conditional() || o.Guidance.Kind == "classifier" {
		classes := s.model.Net.NumClasses() // the model's classes, or the noisy classifier's
		if o.Guidance.Kind == "classifier" {
			classes = classifier.NumClasses
		}
		for i, y := range labels {
			if y < 0 || y >= classes {
				return nil, optionError("labels", y, "class %d (sample %d) out of range [0, %d]", y, i, classes-1)
			}
		}
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize(s.backend)
	}
	first, err := done.chunks(n, o)
	if err != nil {
		return nil, err
	}
	steps := VisitedSteps(s.model.Schedule.T, o)
	res := &Result{N: n, Images: make([]float32, 0, n*Pixels), Labels: slices.Clone(labels)}
	var before float64 // seconds spent by the interrupted call
	if done != nil {
		res.Images, before = append(res.Images, done.Images...), done.Seconds
	}
	frames := map[int]*Frame{}
	for _, t := range o.Record {
		frames[t] = &Frame{Step: t}
	}
	if log == nil {
		log = io.Discard
	}
	start := time.Now()
	bar := progress.New(log, fmt.Sprintf("sample %s", o.Method), len(steps)*ceilDiv(n, o.BatchSize), "steps")
	ticks := first * len(steps)
	bar.Resume(ticks)
	for chunk := first; chunk*o.BatchSize < n; chunk++ {
		lo, hi := chunk*o.BatchSize, min(n, (chunk+1)*o.BatchSize)
		var chunkLabels []int
		if labels != nil {
			chunkLabels = labels[lo:hi]
		}
		images, err := s.chain(ctx, hi-lo, chunk, chunkLabels, steps, o, frames, func() {
			ticks++
			bar.Update(ticks, "")
		})
		if err != nil {
			return nil, err
		}
		res.Images = append(res.Images, images...)
		if save != nil {
			if err := save(Partial{Images: res.Images, Seconds: before + time.Since(start).Seconds()}); err != nil {
				return nil, fmt.Errorf("sampling: saving the first %d samples: %w", hi, err)
			}
		}
	}
	bar.Finish("")
	res.Seconds = before + time.Since(start).Seconds()
	for _, t := range append(slices.Clone(steps), 0) {
		if f, ok := frames[t]; ok && f.X != nil {
			res.Frames = append(res.Frames, *f)
		}
	}
	return res, nil
}

// chain runs the reverse chain for one chunk of b images and returns x_0 on the host.
func (s *Sampler) chain(ctx context.Context, b, chunk int, labels []int, steps []int, o Options,
	frames map[int]*Frame, tick func()) ([]float32, error) {
	initExec, err := s.exec("init", b, o, func(scope *model.Scope, in []*Node) []*Node {
		rng, x := RandomNormal(in[0], shapes.Make(dtypes.Float32, b, scorenet.ImageSize, scorenet.ImageSize, 1))
		return []*Node{x, rng}
	})
	if err != nil {
		return nil, err
	}
	outs, err := initExec.Call(rng.GraphState(o.Seed, rng.Sampling, int64(chunk)))
	if err != nil {
		return nil, fmt.Errorf("sampling: drawing x_T: %w", err)
	}
	x, rng := outs[0], outs[1]
	if o.Prior != nil { // x_T = m + L ε, on the host (one matrix-vector product per image)
		eps := tensors.MustCopyFlatData[float32](x)
		classes, err := priorClasses(o.Prior, labels, o.Seed, chunk, b)
		if err != nil {
			return nil, fmt.Errorf("sampling: drawing x_T: %w", err)
		}
		if err := o.Prior.Apply(eps, classes); err != nil {
			return nil, fmt.Errorf("sampling: drawing x_T: %w", err)
		}
		x.MustFinalizeAll()
		x = tensors.FromFlatDataAndDimensions(eps, b, scorenet.ImageSize, scorenet.ImageSize, 1)
	}
	labelsT := s.labelTensor(b, labels, o.Guidance)
	stepExec, err := s.exec("step", b, o, s.stepGraph(b, o))
	if err != nil {
		return nil, err
	}
	plainExec := stepExec // the step outside the corrector's range (Options.CorrectorAt)
	if o.Corrector > 0 && !o.CorrectorAt.All() {
		plain := o
		plain.Corrector = 0
		if plainExec, err = s.exec("step", b, plain, s.stepGraph(b, plain)); err != nil {
			return nil, err
		}
	}
	for i, t := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tPrev := 0
		if i+1 < len(steps) {
			tPrev = steps[i+1]
		}
		args := []any{x, rng, tensors.FromValue(int32(t)), tensors.FromValue(int32(tPrev))}
		if labelsT != nil {
			args = append(args, labelsT)
		}
		exec := stepExec
		if !o.CorrectorAt.Contains(t) {
			exec = plainExec
		}
		outs, err := exec.Call(args...)
		if err != nil {
			return nil, fmt.Errorf("sampling step t=%d: %w", t, err)
		}
		if f, ok := frames[t]; ok {
			f.X = append(f.X, tensors.MustCopyFlatData[float32](x)...)
			f.X0 = append(f.X0, tensors.MustCopyFlatData[float32](outs[1])...)
		}
		x.MustFinalizeAll()
		outs[1].MustFinalizeAll()
		x, rng = outs[0], outs[2]
		tick()
	}
	images := tensors.MustCopyFlatData[float32](x)
	if f, ok := frames[0]; ok {
		f.X = append(f.X, images...)
	}
	return images, nil
}

// labelTensor is the [b] int32 label input of the step: for a conditional model the requested
// classes, or the "no class" token when none were requested; for classifier guidance the requested
// classes. Nil when neither needs labels.
func (s *Sampler) labelTensor(b int, labels []int, g Guidance) *tensors.Tensor {
	if !s.model.Conditional() && g.Kind != "classifier" {
		return nil
	}
	l := make([]int32, b)
	for i := range l {
		if labels == nil {
			l[i] = int32(s.model.Net.NullClass())
		} else {
			l[i] = int32(labels[i])
		}
	}
	return tensors.FromFlatDataAndDimensions(l, b)
}

// exec returns a compiled executable, cached by kind, batch size and the options that shape it.
func (s *Sampler) exec(kind string, b int, o Options, fn func(*model.Scope, []*Node) []*Node) (*model.Exec, error) {
	key := fmt.Sprintf("%s/%d/%s/%g/%s/%v/%s/%d/%g", kind, b, o.Method, o.Eta, o.Variance, o.ClipX0, o.Guidance,
		o.Corrector, o.SNR)
	if e, ok := s.execs[key]; ok {
		return e, nil
	}
	e, err := model.NewExec(s.backend, s.store, fn)
	if err != nil {
		return nil, fmt.Errorf("sampler: building %s graph: %w", kind, err)
	}
	s.execs[key] = e
	return e, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
