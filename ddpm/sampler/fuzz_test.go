package sampler

import (
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
)

// FuzzOptions feeds arbitrary sampling options (all reachable from `ddpm sample` and `ddpm fid`
// flags) to Validate on a conditional and an unconditional model: an error or nil, never a panic.
func FuzzOptions(f *testing.F) {
	f.Add("ddim", 0, 0.0, "beta", "cfg:2", 3, -1, 0, 0, "")
	f.Add("ddpm", 10, -0.5, "posterior", "classifier:1", 0, 0, 11, 2, "1:5")
	f.Add("heun", -4, 1e308, "", "none", 1, 5, -1, -1, "7:3")
	f.Fuzz(func(t *testing.T, method string, steps int, eta float64, variance, guidance string, labels, batch, record,
		corrector int, correctorAt string) {
		g, err := ParseGuidance(guidance)
		if err != nil {
			return
		}
		at, err := diffusion.ParseStepRange(correctorAt)
		if err != nil {
			return
		}
		o := Options{Method: method, Steps: steps, Eta: eta, Variance: diffusion.ReverseVariance(variance),
			Guidance: g, BatchSize: batch, Record: []int{record}, Corrector: corrector, SNR: 0.16, CorrectorAt: at}
		for _, classes := range []int{0, 10} {
			m, _ := tinyModel(classes, 10)
			_ = o.Validate(m, labels)
		}
	})
}
