// Package schedule holds DDPM noise schedules: pure float64 math, no network, no GoMLX.
//
// Indices follow the paper (Ho et al. 2020): steps t = 1..T. Every table has T+1 entries and
// entry 0 is the clean-data convention (β₀ = 0, ᾱ₀ = 1), so Beta[t] is β_t.
//
//	α_t = 1 − β_t            ᾱ_t = ∏_{s≤t} α_s
//	q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I)
//	q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I),  μ̃_t = c0_t x_0 + ct_t x_t
//	c0_t = β_t √ᾱ_{t−1} / (1 − ᾱ_t),  ct_t = (1 − ᾱ_{t−1}) √α_t / (1 − ᾱ_t),
//	β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)
package schedule

import (
	"errors"
	"fmt"
	"math"
)

// Kind names a family of schedules.
type Kind string

const (
	// Linear: β_t linear from β₁ to β_T (Ho et al. 2020).
	Linear Kind = "linear"
	// Cosine: ᾱ_t = f(t)/f(0), f(t) = cos²(π/2 · (t/T + s)/(1 + s)), β_t clipped to MaxCosineBeta
	// (Nichol & Dhariwal 2021).
	Cosine Kind = "cosine"
)

// MaxCosineBeta is the clip of Nichol & Dhariwal, which avoids singularities near t = T.
const MaxCosineBeta = 0.999

// DefaultCosineOffset is s in the cosine schedule.
const DefaultCosineOffset = 0.008

// Config describes a schedule; it is what recipes and checkpoints store.
type Config struct {
	Kind  Kind    `json:"kind"`
	Steps int     `json:"steps"`            // T
	Beta1 float64 `json:"beta1,omitempty"`  // β₁ (linear)
	BetaT float64 `json:"beta_t,omitempty"` // β_T (linear)
	// Offset is s of the cosine schedule (0 means DefaultCosineOffset).
	Offset float64 `json:"offset,omitempty"`
}

// String describes the config, e.g. "linear β 0.0001→0.02, T=1000".
func (c Config) String() string {
	if c.Kind == Cosine {
		return fmt.Sprintf("cosine s=%g, T=%d", c.offset(), c.Steps)
	}
	return fmt.Sprintf("%s β %g→%g, T=%d", c.Kind, c.Beta1, c.BetaT, c.Steps)
}

func (c Config) offset() float64 {
	if c.Offset == 0 {
		return DefaultCosineOffset
	}
	return c.Offset
}

// Schedule holds the precomputed float64 tables, each of length T+1 (index 0 is t = 0).
type Schedule struct {
	Config Config
	T      int

	Beta                 []float64 // β_t
	Alpha                []float64 // α_t = 1 − β_t
	AlphaBar             []float64 // ᾱ_t
	SqrtAlphaBar         []float64 // √ᾱ_t
	SqrtOneMinusAlphaBar []float64 // √(1 − ᾱ_t)
	PosteriorVariance    []float64 // β̃_t (β̃₁ = 0)
	PosteriorCoefX0      []float64 // c0_t, coefficient of x_0 in μ̃_t
	PosteriorCoefXt      []float64 // ct_t, coefficient of x_t in μ̃_t
}

// MaxSteps bounds T (the tables and every sampler are linear in it; published schedules use at
// most a few thousand steps).
const MaxSteps = 100_000

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid noise schedule")

// New validates c and precomputes the tables.
func New(c Config) (*Schedule, error) {
	if c.Steps < 1 || c.Steps > MaxSteps {
		return nil, fmt.Errorf("%w: T = %d, must be in [1, %d]", ErrInvalid, c.Steps, MaxSteps)
	}
	betas := make([]float64, c.Steps+1)
	switch c.Kind {
	case Linear:
		if err := checkBeta("beta1", c.Beta1); err != nil {
			return nil, err
		}
		if err := checkBeta("beta_t", c.BetaT); err != nil {
			return nil, err
		}
		if c.Beta1 > c.BetaT {
			return nil, fmt.Errorf("%w: beta1 = %g > beta_t = %g (β must not decrease)", ErrInvalid, c.Beta1, c.BetaT)
		}
		for t := 1; t <= c.Steps; t++ {
			if c.Steps == 1 {
				betas[t] = c.Beta1
				continue
			}
			betas[t] = c.Beta1 + (c.BetaT-c.Beta1)*float64(t-1)/float64(c.Steps-1)
		}
	case Cosine:
		s := c.offset()
		if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("%w: cosine offset s = %g, must be >= 0", ErrInvalid, s)
		}
		f := func(t int) float64 {
			v := math.Cos((float64(t)/float64(c.Steps) + s) / (1 + s) * math.Pi / 2)
			return v * v
		}
		for t := 1; t <= c.Steps; t++ {
			betas[t] = math.Min(1-f(t)/f(t-1), MaxCosineBeta)
		}
	default:
		return nil, fmt.Errorf("%w: unknown kind %q (want %q or %q)", ErrInvalid, c.Kind, Linear, Cosine)
	}
	return fromBetas(c, betas), nil
}

// MustNew is New for configurations known to be valid (recipes, tests); it panics otherwise.
func MustNew(c Config) *Schedule {
	s, err := New(c)
	if err != nil {
		panic(err)
	}
	return s
}

func checkBeta(name string, b float64) error {
	if !(b > 0 && b < 1) { // also rejects NaN
		return fmt.Errorf("%w: %s = %g, must be in (0, 1)", ErrInvalid, name, b)
	}
	return nil
}

func fromBetas(c Config, betas []float64) *Schedule {
	n := len(betas)
	s := &Schedule{
		Config: c, T: n - 1, Beta: betas,
		Alpha: make([]float64, n), AlphaBar: make([]float64, n),
		SqrtAlphaBar: make([]float64, n), SqrtOneMinusAlphaBar: make([]float64, n),
		PosteriorVariance: make([]float64, n), PosteriorCoefX0: make([]float64, n), PosteriorCoefXt: make([]float64, n),
	}
	s.Alpha[0], s.AlphaBar[0], s.SqrtAlphaBar[0] = 1, 1, 1
	for t := 1; t < n; t++ {
		s.Alpha[t] = 1 - betas[t]
		s.AlphaBar[t] = s.AlphaBar[t-1] * s.Alpha[t]
		s.SqrtAlphaBar[t] = math.Sqrt(s.AlphaBar[t])
		s.SqrtOneMinusAlphaBar[t] = math.Sqrt(1 - s.AlphaBar[t])
		prev := s.AlphaBar[t-1]
		s.PosteriorVariance[t] = betas[t] * (1 - prev) / (1 - s.AlphaBar[t])
		s.PosteriorCoefX0[t] = betas[t] * math.Sqrt(prev) / (1 - s.AlphaBar[t])
		s.PosteriorCoefXt[t] = (1 - prev) * math.Sqrt(s.Alpha[t]) / (1 - s.AlphaBar[t])
	}
	return s
}

// CheckStep reports whether t is a valid diffusion step 1..T.
func (s *Schedule) CheckStep(t int) error {
	if t < 1 || t > s.T {
		return fmt.Errorf("diffusion step t = %d out of range [1, %d]", t, s.T)
	}
	return nil
}

// SNR returns the signal-to-noise ratio ᾱ_t / (1 − ᾱ_t).
func (s *Schedule) SNR(t int) float64 { return s.AlphaBar[t] / (1 - s.AlphaBar[t]) }

// FirstDifference compares s with o: 0 when they are the same schedule (the same T and the same β_t
// at every step, to 1e-12 relative); −1 when T differs; else the first step t whose β_t differs.
func (s *Schedule) FirstDifference(o *Schedule) int {
	if s.T != o.T {
		return -1
	}
	for t := 1; t <= s.T; t++ {
		if math.Abs(s.Beta[t]-o.Beta[t]) > 1e-12*math.Abs(o.Beta[t]) {
			return t
		}
	}
	return 0
}
