// Package figures regenerates the report figures of the project from seeds and checkpoints, and is
// the small shared layer of the GoNB notebooks: the two modes (quick on the CPU, full for a GPU),
// the models of the course notebooks in each mode, training that reuses an earlier run (or loads
// shipped checkpoints), FID/KID evaluation per epoch and per guidance weight, and every figure as
// PNG bytes. The computations themselves are the library's (ddpm/..., fid): this package only
// chooses settings, caches and draws.
//
// Determinism: with the same mode, seeds, checkpoints and backend, every figure is byte-identical
// (training, sampling and the evaluation are functions of their seeds; plots and grids are pure
// functions of the numbers; nothing time-dependent is drawn).
package figures

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
)

// Mode selects the size of every computation.
type Mode string

const (
	// Quick runs on the pure-Go CPU backend in minutes: small networks (channels 32,32,32,32,
	// embedding 32) trained for 300 steps (3 epochs of 3,200 images, batch 32), DDIM sampling, FID/KID on 200 samples.
	// Enough to exercise and teach every step; the digits are blurry and the metrics far from the
	// seeds'.
	Quick Mode = "quick"
	// Full uses the seed recipes as they are (ScoreNet, 60,000 images, their epochs): for a GPU.
	Full Mode = "full"
)

// ModeEnv names the environment variable that overrides the mode of the notebooks (see ModeFrom).
const ModeEnv = "DDPM_NOTEBOOK_MODE"

// ParseMode parses "quick" or "full".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Quick, Full:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: want quick or full", s)
}

// ModeFrom returns $DDPM_NOTEBOOK_MODE when it is set (so that one command can run every notebook
// in full mode), else the mode named by the notebook's own variable. It panics on an invalid name.
func ModeFrom(notebookSetting string) Mode {
	s := notebookSetting
	if env := os.Getenv(ModeEnv); env != "" {
		s = env
	}
	m, err := ParseMode(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Names of the models of the notebooks and figures (seed recipes of package recipe, plus one
// experiment).
const (
	Assignment1     = "assignment1"      // seed 000: the assignment's U-Net, T = 300, linear β 1e-4→0.02
	Assignment1Cond = "assignment1-cond" // seed 000: class-conditional with label dropout 0.1
	ScoreNet        = "scorenet"         // seed 003: T = 200, linear β 1e-4→0.1
	ScoreNetCosine  = "scorenet-cosine"  // seed 003 with the cosine schedule (test notebook)
)

// Models lists the model names in a stable order.
func Models() []string { return []string{Assignment1, Assignment1Cond, ScoreNet, ScoreNetCosine} }

// Quick-mode sizes.
const (
	quickExamples = 3200
	quickBatch    = 32
	quickEpochs   = 3
	quickHidden   = 16 // U-Net width of the quick assignment1 figures
)

// Recipe returns the recipe of a model in a mode. In quick mode the seed's schedule, seed and
// conditioning are kept and the rest is shrunk (network, data, epochs, learning rate); its name
// gets the suffix "-quick". Checkpoints are written at the end of every epoch only and all of
// them are kept (the FID-against-epoch figure evaluates each).
func Recipe(name string, mode Mode) (recipe.Recipe, error) {
	if !slices.Contains(Models(), name) {
		return recipe.Recipe{}, fmt.Errorf("unknown model %q: want one of %s", name, strings.Join(Models(), ", "))
	}
	base := name
	if name == ScoreNetCosine {
		base = ScoreNet
	}
	r, err := recipe.Get(base)
	if err != nil {
		return r, err
	}
	if name == ScoreNetCosine {
		r.Name = ScoreNetCosine
		r.Description = "seed 003 with the cosine schedule of Nichol & Dhariwal (T=200): the schedule experiment"
		r.Schedule = schedule.Config{Kind: schedule.Cosine, Steps: r.Schedule.Steps}
	}
	switch mode {
	case Full:
	case Quick:
		r.Name += "-quick"
		net := "channels 32,32,32,32, embed 32"
		if r.Net.Arch == network.UNet {
			net = fmt.Sprintf("U-Net D=%d", quickHidden)
			r.Net.UNet.Hidden = quickHidden
		} else {
			r.Net.ScoreNet.Channels = [4]int{32, 32, 32, 32}
			r.Net.ScoreNet.EmbedDim = 32
			r.Net.ScoreNet.EncoderGroups = [4]int{4, 8, 8, 8}
			r.Net.ScoreNet.DecoderGroups = [3]int{8, 8, 8}
		}
		r.Description = fmt.Sprintf("quick CPU version of %s (%s): %s, %d images, %d epochs of batch %d, "+
			"Adam 2e-3, EMA 0.99", base, r.Schedule, net, quickExamples, quickEpochs, quickBatch)
		r.Train.TrainExamples = quickExamples
		r.Train.Epochs = quickEpochs
		r.Train.BatchSize = quickBatch
		r.Train.LR, r.Train.LRDecay, r.Train.LRFloor = 2e-3, 1, 1
		r.Train.EMADecay = 0.99
		r.Sample.Sampler, r.Sample.Steps, r.Sample.Eta = "ddim", 20, 0
		r.Sample.FIDSamples = 200
	default:
		return r, fmt.Errorf("mode %q: want quick or full", mode)
	}
	r.Train.CheckpointEvery = 0
	r.Train.KeepCheckpoints = r.Train.Epochs + 1
	return r, r.Validate()
}

// Settings are the sampling and evaluation sizes of a mode.
type Settings struct {
	Mode Mode
	// Sample is the sampler of the sample grids and trajectories.
	Sample sampler.Options
	// Eval is the sampler of the FID/KID samples; EvalN their number.
	Eval  sampler.Options
	EvalN int
	// GridN is the number of images of the unconditional sample grid.
	GridN int
	// Guidance is the classifier-free guidance weight w of the class-conditional grid, in this
	// project's convention ε̂ = (1+w)·ε(x,t,y) − w·ε(x,t,∅) (w = 4 is the course's scale 5).
	Guidance float64
	// GuidanceSweep lists the weights w of the guidance experiment: the assignment's scales
	// GuidanceGammas (w = γ − 1).
	GuidanceSweep []float64
	// EpochGrids lists the epochs whose samples the assignment shows (OriginalEpochs).
	EpochGrids []int
	// TrajectoryFrames is the number of recorded steps of a denoising trajectory.
	TrajectoryFrames int
}

// SettingsFor returns the settings of a mode.
func SettingsFor(mode Mode) Settings {
	s := Settings{Mode: mode, GridN: 64, Guidance: 4, TrajectoryFrames: 10}
	switch mode {
	case Full:
		// The seeds sample with DDPM's ancestral sampler over all T steps; the evaluations (every
		// epoch, every guidance weight, 1,000 samples each) use DDIM with 100 steps.
		s.Sample = sampler.Options{Method: "ddpm", Variance: diffusion.BetaVariance, ClipX0: true, Seed: 1}
		s.Eval = sampler.Options{Method: "ddim", Steps: 100, Eta: 0, ClipX0: true, Seed: 1001}
		s.EvalN = 1000
	default:
		s.Sample = sampler.Options{Method: "ddim", Steps: 20, Eta: 0, ClipX0: true, Seed: 1}
		s.Eval = sampler.Options{Method: "ddim", Steps: 10, Eta: 0, ClipX0: true, Seed: 1001}
		s.EvalN = 200
	}
	for _, g := range GuidanceGammas {
		s.GuidanceSweep = append(s.GuidanceSweep, g-1)
	}
	s.EpochGrids = OriginalEpochs
	return s
}

// GuidanceGammas are the guidance scales γ of the assignment's experiment (§3.4), in its
// convention ε̂ = ε(x,t,∅) + γ·(ε(x,t,y) − ε(x,t,∅)): γ = 0 is the unconditional model, γ = 1 the
// plain conditional one, γ = 5 the assignment's default. This library's weight is w = γ − 1.
var GuidanceGammas = []float64{0, 1, 5, 7, 10, 15}

// OriginalEpochs are the epochs after which the assignment shows samples (§2.3 and §3.3).
var OriginalEpochs = []int{1, 5, 10, 15, 20}
