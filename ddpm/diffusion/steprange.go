package diffusion

import (
	"fmt"
	"strconv"
	"strings"
)

// StepRange is an inclusive range [Lo, Hi] of diffusion steps t, e.g. the steps at which a
// predictor–corrector sampler takes its Langevin corrector steps. The zero value is every step.
type StepRange struct{ Lo, Hi int }

// All reports whether r is the zero value: every step.
func (r StepRange) All() bool { return r == StepRange{} }

// Contains reports whether step t is in r.
func (r StepRange) Contains(t int) bool { return r.All() || (r.Lo <= t && t <= r.Hi) }

// String is "all" or "LO:HI", the form ParseStepRange reads.
func (r StepRange) String() string {
	if r.All() {
		return "all"
	}
	return fmt.Sprintf("%d:%d", r.Lo, r.Hi)
}

// ParseStepRange reads "LO:HI" (inclusive); "" and "all" are every step. It checks the form only:
// Check validates the bounds against a schedule.
func ParseStepRange(s string) (StepRange, error) {
	if s == "" || s == "all" {
		return StepRange{}, nil
	}
	lo, hi, ok := strings.Cut(s, ":")
	a, errA := strconv.Atoi(strings.TrimSpace(lo))
	b, errB := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || errA != nil || errB != nil {
		return StepRange{}, fmt.Errorf("step range %q: want LO:HI (inclusive diffusion steps, e.g. 1:100) or all", s)
	}
	return StepRange{Lo: a, Hi: b}, nil
}

// Check validates r on a schedule of T steps: every step, or 1 ≤ Lo ≤ Hi ≤ T.
func (r StepRange) Check(T int) error {
	if r.All() || (1 <= r.Lo && r.Lo <= r.Hi && r.Hi <= T) {
		return nil
	}
	return fmt.Errorf("step range %d:%d: want 1 <= LO <= HI <= T=%d", r.Lo, r.Hi, T)
}

// CheckCorrectorRange validates where a predictor–corrector sampler with steps corrector steps
// per diffusion step takes them: every step, or a range of a schedule of T steps (which needs
// steps > 0).
func CheckCorrectorRange(steps int, r StepRange, T int) error {
	if r.All() {
		return nil
	}
	if steps == 0 {
		return fmt.Errorf("corrector range %s given without corrector steps: set the number of steps too", r)
	}
	if err := r.Check(T); err != nil {
		return fmt.Errorf("corrector %w", err)
	}
	return nil
}
