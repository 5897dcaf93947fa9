// Package sampler draws images from a trained diffusion.Model: DDPM ancestral sampling (all T
// steps) or DDIM (S steps), optionally class-conditional with classifier-free guidance, or guided
// by a noisy classifier (package classifier, attached with Sampler.WithClassifier) whose gradient
// ∇ₓ log p(y | x_t, t) is taken by GoMLX's autodiff inside the compiled step, or guided by a
// weaker model of the same data (autoguidance, attached with Sampler.WithGuide; no classes needed).
// Either sampler can be the predictor of predictor–corrector sampling (Options.Corrector: Langevin
// steps at each t).
//
// Each reverse step is one compiled GoMLX graph (network + update + noise draw), compiled once per
// batch size and called T (or S) times; x_t and the RNG state stay on the device between calls, and
// only the recorded trajectory frames and the final images are copied back to the host.
//
// Determinism: the starting noise and every step's noise come from a PCG/Philox stream of
// (Seed, chunk index): same seed, N, batch size and backend ⇒ identical samples.
package sampler

import (
	"fmt"
	"math"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/gomlx/compute"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/diffusion"
)

// Guidance selects how class information steers sampling.
type Guidance struct {
	// Kind is "" (none), "cfg" (classifier-free), "classifier" or "auto" (autoguidance by a
	// weaker model: autoguide.go).
	Kind string
	// Scale is the guidance weight: w of ε̂ = (1+w)·ε(x,t,y) − w·ε(x,t,∅) for "cfg" (w ≥ −1; w = 0
	// is the plain conditional model, w = −1 the unconditional one); s of the mean shift
	// s·σ_t²·∇ₓ log p(y|x_t,t) (DDPM) or of ε̂ − s·√(1−ᾱ_t)·∇ₓ log p(y|x_t,t) (DDIM) for
	// "classifier" (s ≥ 0; see Sampler.WithClassifier); w of ε̂ = (1+w)·ε_model − w·ε_guide for
	// "auto" (w ≥ 0; see Sampler.WithGuide).
	Scale float64
}

// Gamma is the classifier-free guidance scale as the seed-000 assignment writes it,
// ε̂ = ε(x,t,∅) + γ·(ε(x,t,y) − ε(x,t,∅)): γ = 1 + w (γ = 0 unconditional, γ = 1 conditional).
func (g Guidance) Gamma() float64 { return 1 + g.Scale }

// ParseGuidance parses "none", "cfg:W" (W ≥ −1), "gamma:G" (the assignment's γ ≥ 0, the same as
// cfg:G−1), "classifier:S" (S ≥ 0) or "auto:W" (autoguidance, W ≥ 0).
func ParseGuidance(s string) (Guidance, error) {
	if s == "" || s == "none" {
		return Guidance{}, nil
	}
	kind, value, ok := strings.Cut(s, ":")
	if !ok || (kind != "cfg" && kind != "gamma" && kind != "classifier" && kind != "auto") {
		return Guidance{}, fmt.Errorf("guidance %q: want none, cfg:W, gamma:G, classifier:S or auto:W (e.g. cfg:2.0)", s)
	}
	scale, err := strconv.ParseFloat(value, 64)
	low := map[string]float64{"cfg": -1, "gamma": 0, "classifier": 0, "auto": 0}[kind]
	if err != nil || scale < low || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return Guidance{}, fmt.Errorf("guidance %q: the scale must be a finite number >= %g", s, low)
	}
	if kind == "gamma" {
		return Guidance{Kind: "cfg", Scale: scale - 1}, nil
	}
	return Guidance{Kind: kind, Scale: scale}, nil
}

// String is the inverse of ParseGuidance.
func (g Guidance) String() string {
	if g.Kind == "" {
		return "none"
	}
	return fmt.Sprintf("%s:%g", g.Kind, g.Scale)
}

// Options configures one call of Sample.
type Options struct {
	// Method is "ddpm" (ancestral, all T steps) or "ddim".
	Method string
	// Steps is the number of DDIM steps S (1 ≤ S ≤ T); ignored by ddpm.
	Steps int
	// Eta is DDIM's η in [0, 1].
	Eta float64
	// Variance is DDPM's σ_t² (diffusion.BetaVariance or diffusion.PosteriorVariance).
	Variance diffusion.ReverseVariance
	// ClipX0 clips the predicted x̂_0 to [−1, 1] at every step.
	ClipX0 bool
	// Corrector is the number of Langevin corrector steps taken at each visited step t before the
	// predictor (DDPM or DDIM) step: predictor–corrector sampling (Song et al. 2021, Algorithm 5;
	// diffusion.LangevinStep). Each costs one more evaluation of the network; 0 is none.
	Corrector int
	// SNR is the corrector's signal-to-noise ratio r in (0, 1] (Song et al.: 0.16); used only
	// when Corrector > 0.
	SNR float64
	// CorrectorAt limits the corrector to the visited steps t in this range (the zero value: every
	// step); elsewhere the step is the predictor alone. It spends the corrector's network calls
	// where they help most.
	CorrectorAt diffusion.StepRange
	// Prior, when set, is the distribution x_T is drawn from (diffusion.FitPrior: a Gaussian fit
	// of q(x_T), per class for requested labels); nil is DDPM's N(0, I).
	Prior *diffusion.Prior
	// Seed of all noise.
	Seed int64
	// Guidance for class-conditional sampling.
	Guidance Guidance
	// BatchSize is how many images are denoised together (0: DefaultBatchSize of the backend).
	BatchSize int
	// Record lists diffusion steps t at which to keep x_t and x̂_0 (t = 0: the final images) for
	// trajectory figures. Steps not visited by the sampler (DDIM) are ignored.
	Record []int
}

// DefaultBatchSize is the number of images denoised together when Options.BatchSize is 0: 64 on
// GoMLX's pure-Go backend (larger batches are slower per image there: 250 images × 20 DDIM steps
// took 29 s at batch 250 and 8.3 s at batch 64, cache effects), 500 on accelerators.
func DefaultBatchSize(b compute.Backend) int {
	if layers.IsGoBackend(b) {
		return 64
	}
	return 500
}

// Validate checks the options against a model; labels is the number of requested class labels
// (0 for none). clf is the noisy classifier attached for classifier guidance (Sampler.Classifier),
// if any. Errors are *OptionError values naming the field and its value.
func (o Options) Validate(m *diffusion.Model, labels int, clf ...*classifier.Classifier) error {
	T := m.Schedule.T
	switch o.Method {
	case "ddpm":
		if _, err := diffusion.ParseVariance(string(o.Variance)); err != nil {
			return optionError("Variance", o.Variance, "%v", err)
		}
	case "ddim":
		if _, err := diffusion.DDIMTimesteps(T, o.Steps); err != nil {
			return optionError("Steps", o.Steps, "%v", err)
		}
		if err := diffusion.CheckEta(o.Eta); err != nil {
			return optionError("Eta", o.Eta, "%v", err)
		}
	default:
		return optionError("Method", o.Method, "unknown sampler %q: want ddpm or ddim", o.Method)
	}
	if err := diffusion.CheckCorrector(o.Corrector, o.SNR); err != nil {
		field, value := "Corrector", any(o.Corrector)
		if o.Corrector >= 0 && o.Corrector <= diffusion.MaxCorrectorSteps {
			field, value = "SNR", o.SNR
		}
		return optionError(field, value, "%v", err)
	}
	if err := diffusion.CheckCorrectorRange(o.Corrector, o.CorrectorAt, T); err != nil {
		return optionError("CorrectorAt", o.CorrectorAt.String(), "%v", err)
	}
	if o.Prior != nil {
		if err := o.Prior.Check(m.Schedule, Pixels); err != nil {
			return optionError("Prior", o.Prior.String(), "%v", err)
		}
	}
	if o.BatchSize < 0 {
		return optionError("BatchSize", o.BatchSize, "batch size %d: must be >= 1 (0 for the backend's default)", o.BatchSize)
	}
	for _, t := range o.Record {
		if t < 0 || t > T {
			return optionError("Record", t, "trajectory step %d out of range [0, T=%d]", t, T)
		}
	}
	switch o.Guidance.Kind {
	case "":
	case "cfg":
		if !m.Conditional() {
			return optionError("Guidance", o.Guidance, "classifier-free guidance needs a class-conditional model; "+
				"this one is unconditional (train a conditional one, or use classifier guidance with a noisy classifier)")
		}
		if labels == 0 {
			return optionError("labels", labels, "classifier-free guidance needs class labels")
		}
	case "classifier":
		if labels == 0 {
			return optionError("labels", labels, "classifier guidance needs class labels")
		}
		if len(clf) == 0 || clf[0] == nil {
			return optionError("classifier", "none", "classifier guidance needs a noisy classifier "+
				"(package classifier trains one; attach it with Sampler.WithClassifier)")
		}
		if err := clf[0].CheckSchedule(m.Schedule); err != nil {
			return &OptionError{Field: "classifier", Value: "attached", Problem: err.Error(), Err: err}
		}
	case "auto": // the guide model is checked by Sampler.Check
	default:
		return optionError("Guidance", o.Guidance.Kind, "unknown guidance %q", o.Guidance.Kind)
	}
	if labels > 0 && !m.Conditional() && o.Guidance.Kind != "classifier" {
		return optionError("labels", labels, "class labels given, but the model is unconditional: use a conditional model, "+
			"or classifier guidance with a noisy classifier")
	}
	return nil
}

// String describes the options for titles, reports and logs, e.g. "DDIM, 50 steps, η=0, clip x̂₀,
// CFG w=4 (γ=5)", "DDPM (all T steps), σ²=beta, no clipping" or "DDPM (all T steps),
// σ²=posterior, Langevin corrector 1× r=0.16, clip x̂₀".
func (o Options) String() string {
	var s string
	if o.Method == "ddim" {
		s = fmt.Sprintf("DDIM, %d steps, η=%g", o.Steps, o.Eta)
	} else {
		s = fmt.Sprintf("%s (all T steps), σ²=%s", strings.ToUpper(o.Method), o.Variance)
	}
	if o.Corrector > 0 {
		s += fmt.Sprintf(", Langevin corrector %d× r=%g", o.Corrector, o.SNR)
		if !o.CorrectorAt.All() {
			s += fmt.Sprintf(" at t ∈ [%d, %d]", o.CorrectorAt.Lo, o.CorrectorAt.Hi)
		}
	}
	if o.Prior != nil {
		s += ", " + o.Prior.String()
	}
	if o.ClipX0 {
		s += ", clip x̂₀"
	} else {
		s += ", no clipping"
	}
	switch o.Guidance.Kind {
	case "cfg":
		s += fmt.Sprintf(", CFG w=%g (γ=%g)", o.Guidance.Scale, o.Guidance.Gamma())
	case "classifier":
		s += fmt.Sprintf(", classifier guidance s=%g", o.Guidance.Scale)
	case "auto":
		s += fmt.Sprintf(", autoguidance w=%g", o.Guidance.Scale)
	}
	return s
}
