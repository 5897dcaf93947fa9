package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
)

// SamplerFile is the name of a shipped model's default sampler, beside its recipe.json and
// check.json (as diffusers ships a scheduler_config.json beside the network's weights).
const SamplerFile = "sampler.json"

// SamplerDefaults is how `ddpm sample` and `ddpm fid` sample a shipped model when no flag says
// otherwise: the settings measured best for it, which may differ from its training recipe's
// (recipe.Sample, the original's sampler for the seed recipes). The file holds only what it
// changes:
//
//	{
//	  "measured": "results/prior/assignment1-d16-cond-ddim50-clip-gamma2-prior-n10000.json",
//	  "why": "FID 44.7 = 4.63× the floor and 99.08% class accuracy at N = 10,000 (N(0, I): 15.0×)",
//	  "prior": "data",
//	  "sample": {"sampler": "ddim", "steps": 50, "eta": 0, "clip_x0": true, "guidance": "cfg:1"}
//	}
//
// The model's fixed check (check.json) does not use it: it samples with the recipe's settings.
type SamplerDefaults struct {
	// File is the sampler.json this was read from.
	File string `json:"-"`
	// Measured names the evaluation (a results/ JSON file) that chose these settings.
	Measured string `json:"measured"`
	// Why says in words what the measurement showed.
	Why string `json:"why,omitempty"`
	// Prior is the distribution of x_T: "standard" (N(0, I)) or "data" (SetPrior).
	Prior string `json:"prior,omitempty"`
	// Sample is the recipe's sampling settings with the file's "sample" fields overlaid.
	Sample recipe.Sample `json:"sample"`
	// Autoguidance, when set, guides the model by a weaker one (sampler.Guidance "auto:W").
	Autoguidance *Autoguidance `json:"autoguidance,omitempty"`
}

// Autoguidance is a tuned sampler's autoguidance (sampler.Sampler.WithGuide): the guide model
// and the weight, e.g. {"guide": "../scorenet-epoch5", "w": 0.5}.
type Autoguidance struct {
	// Guide is the guide model's directory, relative to the directory of the sampler.json.
	Guide string `json:"guide"`
	// W is the guidance weight w ≥ 0 of ε̂ = (1+w)·ε_model − w·ε_guide.
	W float64 `json:"w"`
}

// GuideDir is the guide model's directory of d's autoguidance ("" without autoguidance).
func (d *SamplerDefaults) GuideDir() string {
	if d.Autoguidance == nil {
		return ""
	}
	return filepath.Join(filepath.Dir(d.File), d.Autoguidance.Guide)
}

// Guidance is the guidance of d's autoguidance, or ok = false without it.
func (d *SamplerDefaults) Guidance() (g sampler.Guidance, ok bool) {
	if d.Autoguidance == nil {
		return g, false
	}
	return sampler.Guidance{Kind: "auto", Scale: d.Autoguidance.W}, true
}

// LoadSamplerDefaults reads dir/sampler.json over the sampling settings of t's recipe; nil (and
// no error) when dir has none. Unknown fields, invalid settings, guidance for an unconditional
// network or an unknown prior are errors naming the file.
func LoadSamplerDefaults(dir string, t *Trained) (*SamplerDefaults, error) {
	path := filepath.Join(dir, SamplerFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := &SamplerDefaults{File: path, Sample: t.State.Recipe.Sample}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if d.Measured == "" {
		return nil, fmt.Errorf("%s: field \"measured\" is empty: name the evaluation (results/*.json) that chose these settings", path)
	}
	if err := CheckPrior(d.Prior); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := d.Sample.Validate(t.Model.Schedule.T); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	_, cfg, _ := d.Sample.CFGWeight()
	if cfg && !t.Model.Conditional() {
		return nil, fmt.Errorf("%s: guidance %q needs a class-conditional network, and %s is unconditional",
			path, d.Sample.Guidance, t.State.Recipe.Name)
	}
	if a := d.Autoguidance; a != nil {
		switch {
		case cfg:
			return nil, fmt.Errorf("%s: \"autoguidance\" and guidance %q: choose one", path, d.Sample.Guidance)
		case a.Guide == "":
			return nil, fmt.Errorf("%s: \"autoguidance\": field \"guide\" is empty: name the guide model's directory", path)
		case !(a.W >= 0) || math.IsInf(a.W, 0):
			return nil, fmt.Errorf("%s: \"autoguidance\": w = %g, must be a finite number >= 0", path, a.W)
		}
		if _, err := os.Stat(d.GuideDir()); err != nil {
			return nil, fmt.Errorf("%s: \"autoguidance\": guide %q: %w", path, a.Guide, err)
		}
	}
	return d, nil
}

// Source says where the settings come from, for logs and result files.
func (d *SamplerDefaults) Source() string {
	return fmt.Sprintf("%s (measured: %s)", d.File, d.Measured)
}
