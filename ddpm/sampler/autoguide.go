package sampler

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Autoguidance (Karras et al. 2024, "Guiding a diffusion model with a bad version of itself")
// steers a model away from the errors of a weaker model of the same data — here typically the
// same network trained for fewer epochs — in the way classifier-free guidance steers away from
// the unconditional model:
//
//	ε̂ = (1+w)·ε_model(x_t, t) − w·ε_guide(x_t, t)   (Guidance "auto:W", w ≥ 0; w = 0: no guidance)
//
// which is the paper's D_w = w'·D_1 + (1−w')·D_0 with w' = 1 + w. Unlike classifier-free
// guidance it needs no classes, so it applies to unconditional models. Each evaluation of the
// model costs one evaluation of the guide as well.

// GuideScopeName is the scope of the guide network's weights in the sampler's store (Scope: its
// absolute path); WithGuide copies them there from the guide's own store.
const (
	GuideScopeName = "guide"
	GuideScope     = "/" + GuideScopeName
)

// ErrNoGuide is wrapped by the error of autoguidance requested with no guide model attached.
var ErrNoGuide = errors.New("autoguidance needs a guide model (a weaker model of the same data; attach it with Sampler.WithGuide)")

// WithGuide attaches the guide model g of autoguidance (Guidance "auto:W"). g must use the
// model's noise schedule (same T and β_t) and be conditional exactly when the model is, else it
// is an error saying what differs. weights holds g's variables under diffusion.Scope (as a loaded
// model's store does); they are copied into the sampler's store under GuideScope, replacing a
// guide attached before.
func (s *Sampler) WithGuide(g *diffusion.Model, weights *model.Store) error {
	if err := g.Net.Validate(); err != nil {
		return fmt.Errorf("guide model: %w", err)
	}
	if err := sameSchedule(g, s.model); err != nil {
		return err
	}
	if g.Conditional() != s.model.Conditional() {
		return fmt.Errorf("guide model: conditional = %v, the model's = %v: the guide must take the same inputs",
			g.Conditional(), s.model.Conditional())
	}
	if weights == nil {
		return errors.New("guide model: no weights")
	}
	if err := s.replaceWeights(weights, diffusion.Scope, GuideScope, "guide model: its store", func() { s.guide = nil }); err != nil {
		return err
	}
	s.guide = g
	s.resetExecs() // graphs compiled before may hold another guide
	return nil
}

// GuideModel returns the attached guide model of autoguidance (nil if none).
func (s *Sampler) GuideModel() *diffusion.Model { return s.guide }

// sameSchedule reports whether the guide g was trained with m's noise schedule (the same T and β_t).
func sameSchedule(g, m *diffusion.Model) error {
	gs, ms := g.Schedule, m.Schedule
	switch t := gs.FirstDifference(ms); {
	case t < 0:
		return fmt.Errorf("guide model: T = %d diffusion steps (%s), the model's T = %d (%s)", gs.T, gs.Config, ms.T, ms.Config)
	case t > 0:
		return fmt.Errorf("guide model: its noise schedule (%s) differs from the model's (%s): β_%d = %g vs %g",
			gs.Config, ms.Config, t, gs.Beta[t], ms.Beta[t])
	}
	return nil
}

// replaceWeights replaces the variables under the scope to of the sampler's store with local
// clones of src's variables under from (the same paths below it), not trainable. When src has
// none the store is left as it was and the error says "<what> has no weights under <from>";
// otherwise deleted runs once the old variables are gone.
func (s *Sampler) replaceWeights(src *model.Store, from, to, what string, deleted func()) error {
	type variable struct {
		path  string
		value *tensors.Tensor
	}
	var copies []variable
	for v := range src.IterVariables() {
		if rest, ok := strings.CutPrefix(v.Path(), from+"/"); ok {
			copies = append(copies, variable{to + "/" + rest, v.MustValue()})
		}
	}
	if len(copies) == 0 {
		return fmt.Errorf("%s has no weights under %s", what, from)
	}
	if err := s.store.DeleteVariablesInScope(to); err != nil {
		return err
	}
	deleted()
	for _, c := range copies {
		clone, err := c.value.LocalClone()
		if err != nil {
			return fmt.Errorf("sampler: copying %s: %w", c.path, err)
		}
		nv, err := s.store.CreateVariable(c.path, clone)
		if err != nil {
			return fmt.Errorf("sampler: %w", err)
		}
		nv.SetTrainable(false)
	}
	return nil
}

// Check validates o for this sampler: Options.Validate with the attached classifier, and the
// guide model that autoguidance needs. labels is the number of requested class labels.
func (s *Sampler) Check(o Options, labels int) error {
	if err := o.Validate(s.model, labels, s.clf); err != nil {
		return err
	}
	if o.Guidance.Kind == "auto" && s.guide == nil {
		return &OptionError{Field: "guide", Value: "none", Problem: ErrNoGuide.Error(), Err: ErrNoGuide}
	}
	return nil
}
