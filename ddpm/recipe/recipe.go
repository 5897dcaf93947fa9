// Package recipe holds every hyperparameter of a run in one documented place, with the named
// recipes of the project: "quick" (CPU, minutes), "scorenet" (seed 003) and "assignment1"
// (seed 000), and their class-conditional variants. Command-line flags override single fields.
package recipe

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/ddpm-go/ddpm/ddpm/unet"
)

// Train holds the optimisation hyperparameters.
type Train struct {
	// Dataset is "mnist" or "fashion-mnist".
	Dataset string `json:"dataset"`
	// TrainExamples > 0 trains on the first TrainExamples images only (quick runs); 0 = all 60,000.
	TrainExamples int `json:"train_examples"`
	Epochs        int `json:"epochs"`
	BatchSize     int `json:"batch_size"`
	// LR is Adam's learning rate at epoch 0.
	LR float64 `json:"lr"`
	// LRDecay and LRFloor give the per-epoch schedule lr·max(LRFloor, LRDecay^epoch) (PyTorch's
	// LambdaLR idiom of the tutorials); LRDecay = 1 is a constant learning rate.
	LRDecay float64 `json:"lr_decay"`
	LRFloor float64 `json:"lr_floor"`
	// LRSchedule is "" (the per-epoch schedule above) or "cosine": lr·(LRFloor + (1−LRFloor)·
	// ½(1 + cos(π·s/S))) at (0-based) step s of the run's S = Epochs × steps-per-epoch steps
	// (LRDecay is then unused).
	LRSchedule string `json:"lr_schedule,omitempty"`
	// LRWarmup > 0 multiplies the schedule by min(1, (s+1)/LRWarmup): a linear warm-up over the
	// first LRWarmup steps.
	LRWarmup int `json:"lr_warmup,omitempty"`
	// Seed determines initial weights, data order and every noise draw: same seed, same backend,
	// same numbers.
	Seed int64 `json:"seed"`
	// EMADecay > 0 keeps an exponential moving average of the weights, with the decay at (1-based)
	// step n min(EMADecay, (n−1)/(n+9)) (training.EMADecayAt); sampling uses it when the model has
	// it. 0 disables it.
	EMADecay float64 `json:"ema_decay"`
	// PUncond is the label-dropout probability of conditional training (classifier-free guidance).
	PUncond float64 `json:"p_uncond"`
	// CheckpointEvery saves a checkpoint every N steps (0: only at the end of each epoch).
	CheckpointEvery int `json:"checkpoint_every"`
	// KeepCheckpoints is how many intact checkpoints to keep (>= 1).
	KeepCheckpoints int `json:"keep_checkpoints"`
	// EvalSamples > 0 evaluates the EMA weights at the end of every epoch: FID, KID and score of
	// that many samples (the recipe's sampler settings, a fixed seed) beside the real-data floor,
	// kept with the loss history (the "FID against epoch" figure). 0 disables it.
	EvalSamples int `json:"eval_samples,omitempty"`
	// Init, if not empty, is a trained model (run directory, exported model or checkpoint) whose
	// network weights start this run instead of a random initialisation (its EMA weights when it has
	// them); the optimiser, the step count, the learning-rate schedule and the EMA start afresh. Its
	// network and noise schedule must equal this recipe's. A warm start: "continue a finished run
	// with a new learning-rate schedule".
	Init string `json:"init,omitempty"`
}

// Sample holds the sampling and evaluation settings.
type Sample struct {
	// N is the number of samples drawn by `ddpm sample` and `ddpm run`.
	N int `json:"n"`
	// Sampler is "ddpm" (ancestral, T steps) or "ddim".
	Sampler string `json:"sampler"`
	// Steps is the number of DDIM steps (ignored by ddpm, which uses all T).
	Steps int `json:"steps"`
	// Eta is DDIM's stochasticity (0 = deterministic).
	Eta float64 `json:"eta"`
	// Variance is σ_t² of DDPM: "beta" (β_t) or "posterior" (β̃_t).
	Variance string `json:"variance"`
	// ClipX0 clips the predicted x_0 to [−1, 1] at each step.
	ClipX0 bool `json:"clip_x0"`
	// Seed of the starting noise and of every step's noise.
	Seed int64 `json:"seed"`
	// FIDSamples is the number of samples for the FID/KID evaluation of `ddpm run`.
	FIDSamples int `json:"fid_samples"`
	// Guidance is "" or "none" (no guidance), or "cfg:W": classifier-free guidance of weight W ≥ −1
	// for a class-conditional network (the samples of `ddpm run` and of its evaluations are then
	// drawn with balanced class labels). Classifier guidance needs a separately trained classifier
	// and is chosen on the command line only.
	Guidance string `json:"guidance,omitempty"`
	// Corrector is the number of Langevin corrector steps taken before each sampler step
	// (predictor–corrector sampling, Song et al. 2021; 0 = none, at most
	// diffusion.MaxCorrectorSteps); each costs one more network evaluation. The fixed check of a
	// shipped model (check.json) samples without it.
	Corrector int `json:"corrector,omitempty"`
	// SNR is the corrector's signal-to-noise ratio r in (0, 1] (Song et al.: 0.16); used only when
	// Corrector > 0.
	SNR float64 `json:"snr,omitempty"`
	// CorrectorAt limits the corrector to the steps t in "LO:HI" (inclusive; "" or "all": every
	// step; diffusion.ParseStepRange).
	CorrectorAt string `json:"corrector_at,omitempty"`
}

// CFGWeight returns the classifier-free guidance weight W of Guidance "cfg:W" (ok = false for no
// guidance). It does not validate: see Validate.
func (s Sample) CFGWeight() (w float64, ok bool, err error) {
	if s.Guidance == "" || s.Guidance == "none" {
		return 0, false, nil
	}
	v, found := strings.CutPrefix(s.Guidance, "cfg:")
	if !found {
		return 0, false, fmt.Errorf("sample: guidance %q: want none or cfg:W", s.Guidance)
	}
	w, err = strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(w) || math.IsInf(w, 0) || w < -1 {
		return 0, false, fmt.Errorf("sample: guidance %q: W must be a finite number >= -1", s.Guidance)
	}
	return w, true, nil
}

// Recipe is a complete, named set of hyperparameters.
type Recipe struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schedule    schedule.Config `json:"schedule"`
	Net         network.Config  `json:"net"`
	Train       Train           `json:"train"`
	Sample      Sample          `json:"sample"`
}

var (
	linear1000 = schedule.Config{Kind: schedule.Linear, Steps: 1000, Beta1: 1e-4, BetaT: 0.02}
	linear300  = schedule.Config{Kind: schedule.Linear, Steps: 300, Beta1: 1e-4, BetaT: 0.02}
	linear200  = schedule.Config{Kind: schedule.Linear, Steps: 200, Beta1: 1e-4, BetaT: 0.1}
)

// DatasetClasses is the number of classes of MNIST and Fashion-MNIST.
const DatasetClasses = 10

// assignment1 is seed 000's recipe with the assignment's U-Net at width d (the seed: 128).
//
// Values from the original (notebook and PDF): T = 300 with β linear 1e-4 → 0.02 (1-based t in
// 1..T with β_1 = 1e-4 and β_T = 0.02, as the published solution reads the PDF's off-by-one);
// batch 64; 20 epochs; Adam 1e-3 with ExponentialLR γ = 0.1^(1/20) stepped once per epoch (×0.1
// over the run); no EMA; seed 180; UpConv kernel 4 (the PDF's specification; the solution used 2);
// images in [−1, 1] (the solution's Normalize(0.5, 0.5)); the sampler is the assignment's
// Algorithm 2: DDPM over all T steps, σ_t² = β_t, no clipping of x̂_0. The conditional variant
// drops labels with probability 0.1 (an all-zeros one-hot).
func assignment1(d int) Recipe {
	name, net := "assignment1", unet.Default()
	if d != net.Hidden {
		name = fmt.Sprintf("assignment1-d%d", d)
	}
	net.Hidden = d
	return Recipe{
		Name: name,
		Description: fmt.Sprintf("seed 000: the assignment's U-Net (D=%d), T=300 linear β 1e-4→0.02, batch 64, "+
			"20 epochs, Adam 1e-3 decayed ×0.1 over the run, no EMA, DDPM sampler σ²=β without clipping, unconditional", d),
		Schedule: linear300,
		Net:      network.FromUNet(net),
		Train: Train{Dataset: "mnist", Epochs: 20, BatchSize: 64, LR: 1e-3,
			LRDecay: math.Pow(0.1, 1.0/20), LRFloor: 0,
			Seed: 180, EMADecay: 0, CheckpointEvery: 0, KeepCheckpoints: 3},
		Sample: Sample{N: 64, Sampler: "ddpm", Steps: 50, Variance: "beta", ClipX0: false, Seed: 1, FIDSamples: 1000},
	}
}

// quick is the main job's recipe on a CPU: class-conditional digits in about 3 minutes of training
// on 2 quiet cores, tuned by measurement (bench/QUICK.md): over seeds 1-3, FID 5.4-8.3× its
// real-data floor at N = 500 and 92-96 % of the samples classified with confidence ≥ 0.9.
//
// A smaller ScoreNet whose GroupNorms keep several channels per group (with one channel per group,
// as in ScoreNet's decoder, a norm cancels the time and class projection added before it), with
// Fourier frequencies of scale 1 instead of 30 (a time embedding that varies smoothly with t/T:
// FID 3006 → 1190 in the same 937 steps); one epoch at batch 8 (7,500 steps: at equal cost, more
// steps beat larger batches); Adam 1e-2 warmed up over 100 steps and decayed to 0 by a cosine;
// DDIM with 25 steps and classifier-free guidance w = 2.5 over balanced labels.
func quick() Recipe {
	net := scorenet.Default()
	net.Channels = [4]int{32, 64, 64, 64}
	net.EmbedDim = 64
	net.FourierScale = 1
	net.EncoderGroups = [4]int{4, 8, 8, 8}
	net.DecoderGroups = [3]int{8, 8, 8}
	net.NumClasses = DatasetClasses
	return Recipe{
		Name: "quick",
		Description: "CPU main job (about 3 minutes of training on 2 cores): class-conditional smaller ScoreNet " +
			"(channels 32,64,64,64, embed 64, Fourier scale 1, GroupNorm 4/8 groups, label dropout 0.1), " +
			"T=200 linear β 1e-4→0.1, one epoch of MNIST at batch 8 (7,500 steps), Adam 1e-2 with 100 warm-up steps " +
			"and cosine decay to 0, EMA 0.99; DDIM 25 steps with classifier-free guidance w=2.5",
		Schedule: linear200,
		Net:      network.FromScoreNet(net),
		Train: Train{Dataset: "mnist", Epochs: 1, BatchSize: 8, LR: 1e-2, LRDecay: 1, LRFloor: 0,
			LRSchedule: "cosine", LRWarmup: 100, Seed: 1, EMADecay: 0.99, PUncond: 0.1,
			CheckpointEvery: 1000, KeepCheckpoints: 2},
		Sample: Sample{N: 64, Sampler: "ddim", Steps: 25, Eta: 0, Variance: "beta", ClipX0: true, Seed: 1,
			FIDSamples: 500, Guidance: "cfg:2.5"},
	}
}

// Conditional returns the class-conditional variant of an unconditional recipe, "<name>-cond":
// 10 classes, and labels dropped with probability 0.1 for classifier-free guidance.
func Conditional(r Recipe) Recipe {
	r.Name += "-cond"
	r.Description = strings.Replace(r.Description, "unconditional", "class-conditional (label dropout 0.1 for classifier-free guidance)", 1)
	if !strings.Contains(r.Description, "class-conditional") {
		r.Description += ", class-conditional (label dropout 0.1)"
	}
	*r.Net.NumClassesField() = DatasetClasses
	r.Train.PUncond = 0.1
	return r
}

// Recipes returns the named recipes. Values marked "seed" come from the course notebooks; the
// others are this project's documented choices.
func Recipes() map[string]Recipe {
	sample := Sample{N: 64, Sampler: "ddpm", Steps: 50, Variance: "beta", ClipX0: true, Seed: 1, FIDSamples: 1000}
	// Seed 003's network is the tutorial ScoreNet with GroupNorm(4 groups) at every level (the
	// original's ScoreNet(group_num=4), Code I and II alike). The tutorial's own 4/32/32/32 and
	// 32/32/32 groups (scorenet.Default) leave one channel per group in the last decoder level,
	// where the norm removes the time projection dense7 adds before it: a network that never
	// learns from dense7. Runs trained before 2026-12-04 used those groups; their recipe.json says so.
	seed003Net := scorenet.Default()
	seed003Net.EncoderGroups = [4]int{4, 4, 4, 4} // seed
	seed003Net.DecoderGroups = [3]int{4, 4, 4}    // seed
	scorenet003 := Recipe{
		Name:        "scorenet",
		Description: "seed 003: ScoreNet (GroupNorm 4 groups), T=200 linear β 1e-4→0.1, batch 100, Adam lr 0.01 decayed per epoch, 60 epochs",
		Schedule:    linear200, // seed
		Net:         network.FromScoreNet(seed003Net),
		Train: Train{Dataset: "mnist", Epochs: 60, BatchSize: 100, LR: 1e-2, // seed
			LRDecay: 0.98, LRFloor: 0.2, // the tutorials' LambdaLR(max(0.2, 0.98**epoch))
			Seed: 3, EMADecay: 0.999, CheckpointEvery: 0, KeepCheckpoints: 3},
		Sample: sample,
	}
	all := []Recipe{scorenet003, assignment1(unet.Default().Hidden), assignment1(WideCPUHidden), assignment1(CPUHidden)}
	all = append(all, quick())
	for _, r := range slices.Clone(all) {
		if !r.Net.Conditional() { // quick is conditional already
			all = append(all, Conditional(r))
		}
	}
	m := make(map[string]Recipe, len(all))
	for _, r := range all {
		m[r.Name] = r
	}
	return m
}

// Names lists the recipe names, sorted.
func Names() []string {
	var names []string
	for n := range Recipes() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns a copy of the named recipe.
func Get(name string) (Recipe, error) {
	r, ok := Recipes()[name]
	if !ok {
		return Recipe{}, fmt.Errorf("unknown recipe %q: want one of %s", name, strings.Join(Names(), ", "))
	}
	return r, nil
}

// Validate reports the first invalid hyperparameter, naming the field and value.
func (r Recipe) Validate() error {
	if _, err := schedule.New(r.Schedule); err != nil {
		return fmt.Errorf("recipe %q: %w", r.Name, err)
	}
	if err := r.Net.Validate(); err != nil {
		return fmt.Errorf("recipe %q: %w", r.Name, err)
	}
	t := r.Train
	switch {
	case t.Dataset != "mnist" && t.Dataset != "fashion-mnist":
		return fmt.Errorf("recipe %q: dataset %q: want mnist or fashion-mnist", r.Name, t.Dataset)
	case t.BatchSize < 1:
		return fmt.Errorf("recipe %q: batch size %d: must be >= 1", r.Name, t.BatchSize)
	case t.Epochs < 1:
		return fmt.Errorf("recipe %q: epochs %d: must be >= 1", r.Name, t.Epochs)
	case t.TrainExamples < 0:
		return fmt.Errorf("recipe %q: train examples %d: must be >= 0 (0 = all)", r.Name, t.TrainExamples)
	case !(t.LR > 0) || t.LR > 10:
		return fmt.Errorf("recipe %q: learning rate %g: must be in (0, 10]", r.Name, t.LR)
	case !(t.LRDecay > 0 && t.LRDecay <= 1):
		return fmt.Errorf("recipe %q: lr decay %g: must be in (0, 1]", r.Name, t.LRDecay)
	case !(t.LRFloor >= 0 && t.LRFloor <= 1):
		return fmt.Errorf("recipe %q: lr floor %g: must be in [0, 1]", r.Name, t.LRFloor)
	case t.LRSchedule != "" && t.LRSchedule != "cosine":
		return fmt.Errorf("recipe %q: lr schedule %q: want \"\" (per epoch) or cosine", r.Name, t.LRSchedule)
	case t.LRWarmup < 0:
		return fmt.Errorf("recipe %q: lr warm-up %d: must be >= 0 steps", r.Name, t.LRWarmup)
	case !(t.EMADecay >= 0 && t.EMADecay < 1):
		return fmt.Errorf("recipe %q: ema decay %g: must be in [0, 1)", r.Name, t.EMADecay)
	case !(t.PUncond >= 0 && t.PUncond < 1):
		return fmt.Errorf("recipe %q: p_uncond %g: must be in [0, 1)", r.Name, t.PUncond)
	case r.Net.Conditional() && r.Net.NumClasses() != DatasetClasses:
		return fmt.Errorf("recipe %q: num_classes %d: a conditional network is trained on the dataset's labels, "+
			"and %s has %d classes", r.Name, r.Net.NumClasses(), t.Dataset, DatasetClasses)
	case t.PUncond > 0 && !r.Net.Conditional():
		return fmt.Errorf("recipe %q: p_uncond %g needs a conditional network (num_classes > 0)", r.Name, t.PUncond)
	case t.CheckpointEvery < 0:
		return fmt.Errorf("recipe %q: checkpoint every %d: must be >= 0", r.Name, t.CheckpointEvery)
	case t.KeepCheckpoints < 1:
		return fmt.Errorf("recipe %q: keep checkpoints %d: must be >= 1", r.Name, t.KeepCheckpoints)
	case t.EvalSamples < 0 || t.EvalSamples == 1:
		return fmt.Errorf("recipe %q: eval samples %d: must be 0 (off) or >= 2", r.Name, t.EvalSamples)
	}
	if err := r.Sample.Validate(r.Schedule.Steps); err != nil {
		return fmt.Errorf("recipe %q: %w", r.Name, err)
	}
	if _, cfg, _ := r.Sample.CFGWeight(); cfg && !r.Net.Conditional() {
		return fmt.Errorf("recipe %q: sample guidance %q needs a class-conditional network (num_classes > 0)",
			r.Name, r.Sample.Guidance)
	}
	return nil
}

// Validate checks the sampling settings against a schedule of T steps.
func (s Sample) Validate(T int) error {
	switch {
	case s.N < 1:
		return fmt.Errorf("sample: n = %d: must be >= 1", s.N)
	case s.Sampler != "ddpm" && s.Sampler != "ddim":
		return fmt.Errorf("sample: sampler %q: want ddpm or ddim", s.Sampler)
	case s.Sampler == "ddim" && (s.Steps < 1 || s.Steps > T):
		return fmt.Errorf("sample: ddim steps %d: must be in [1, T=%d]", s.Steps, T)
	case !(s.Eta >= 0 && s.Eta <= 1):
		return fmt.Errorf("sample: eta %g: must be in [0, 1]", s.Eta)
	case s.Variance != "beta" && s.Variance != "posterior":
		return fmt.Errorf("sample: variance %q: want beta or posterior", s.Variance)
	case s.FIDSamples < 0:
		return fmt.Errorf("sample: fid samples %d: must be >= 0", s.FIDSamples)
	}
	if err := diffusion.CheckCorrector(s.Corrector, s.SNR); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	at, err := diffusion.ParseStepRange(s.CorrectorAt)
	if err == nil {
		err = diffusion.CheckCorrectorRange(s.Corrector, at, T)
	}
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	_, _, err = s.CFGWeight()
	return err
}

// LRFactor is the factor of LR at (0-based) step of a run of totalSteps steps of stepsPerEpoch
// each: the schedule (per epoch, or cosine) times the warm-up. Training computes the same inside
// the graph (training.setLearningRate).
func (t Train) LRFactor(step, stepsPerEpoch, totalSteps int64) float64 {
	f := 1.0
	if t.LRWarmup > 0 {
		f = min(1, float64(step+1)/float64(t.LRWarmup))
	}
	if t.LRSchedule == "cosine" {
		p := float64(min(step, totalSteps)) / float64(totalSteps)
		return f * (t.LRFloor + (1-t.LRFloor)*0.5*(1+math.Cos(math.Pi*p)))
	}
	return f * t.LearningRate(int(step/stepsPerEpoch)) / t.LR
}

// LearningRate returns the learning rate used during epoch (0-based) by the per-epoch schedule,
// without warm-up.
func (t Train) LearningRate(epoch int) float64 {
	f := 1.0
	for range epoch {
		f *= t.LRDecay
	}
	return t.LR * max(f, t.LRFloor)
}

// JSON is the recipe as indented JSON (stored beside checkpoints and results).
func (r Recipe) JSON() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return b
}
