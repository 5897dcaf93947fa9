package sampler

import (
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
)

// TestCorrectorSampling: Langevin corrector steps change the samples, reproducibly, and start from
// the same x_T as plain sampling (the corrector's noise is drawn after x_T, from the same stream);
// the options name the corrector. The corrector's arithmetic is checked in package diffusion
// (TestLangevinStepFormula, TestLangevinKeepsTheMarginal).
func TestCorrectorSampling(t *testing.T) {
	m, store := tinyModel(0, 6)
	s := New(testutil.GoBackend(t), store, m)
	for _, method := range []string{"ddpm", "ddim"} {
		plain := Options{Method: method, Steps: 3, Variance: "posterior", ClipX0: true, Seed: 4, Record: []int{6}}
		pc := plain
		pc.Corrector, pc.SNR = 2, 0.16
		a, b, c := mustSample(t, s, 2, nil, plain), mustSample(t, s, 2, nil, pc), mustSample(t, s, 2, nil, pc)
		if slices.Equal(a.Images, b.Images) {
			t.Errorf("%s: the corrector did not change the samples", method)
		}
		if !slices.Equal(b.Images, c.Images) {
			t.Errorf("%s: same seed, different samples with the corrector", method)
		}
		if len(a.Frames) == 0 || len(b.Frames) == 0 || !slices.Equal(a.Frames[0].X, b.Frames[0].X) {
			t.Errorf("%s: x_T differs with the corrector", method)
		}
		if got := pc.String(); !strings.Contains(got, "Langevin corrector 2× r=0.16") {
			t.Errorf("%s: options read %q, want the corrector named", method, got)
		}
	}
}
