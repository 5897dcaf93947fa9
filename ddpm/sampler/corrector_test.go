package sampler

import (
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
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

// TestCorrectorRange: a corrector limited to steps t in a range (Options.CorrectorAt) corrects the
// visited steps in it and no other: a range holding every visited step samples as the corrector
// everywhere, one holding none as no corrector, bit for bit (the plain step draws the same noise
// as a predictor without corrector), and one holding some as neither; the options name the range,
// and Validate refuses a range outside 1..T or without corrector steps.
func TestCorrectorRange(t *testing.T) {
	m, store := tinyModel(0, 6)
	s := New(testutil.GoBackend(t), store, m)
	plain := Options{Method: "ddim", Steps: 3, Eta: 1, ClipX0: true, Seed: 9, Record: []int{6}} // visits 6, 4, 2
	pc := plain
	pc.Corrector, pc.SNR = 1, 0.16
	at := func(lo, hi int) Options {
		o := pc
		o.CorrectorAt = diffusion.StepRange{Lo: lo, Hi: hi}
		return o
	}
	a, b := mustSample(t, s, 2, nil, plain), mustSample(t, s, 2, nil, pc)
	cases := []struct {
		what      string
		o         Options
		wantPlain bool
		wantPC    bool
	}{
		{"every visited step in range", at(1, 6), false, true},
		{"no visited step in range", at(3, 3), true, false},
		{"the first step only", at(5, 6), false, false},
		{"the last step only", at(1, 2), false, false},
	}
	for _, c := range cases {
		got := mustSample(t, s, 2, nil, c.o)
		if isPlain := slices.Equal(got.Images, a.Images); isPlain != c.wantPlain {
			t.Errorf("%s: same as without corrector: %v, want %v", c.what, isPlain, c.wantPlain)
		}
		if isPC := slices.Equal(got.Images, b.Images); isPC != c.wantPC {
			t.Errorf("%s: same as the corrector at every step: %v, want %v", c.what, isPC, c.wantPC)
		}
		if !slices.Equal(got.Frames[0].X, a.Frames[0].X) {
			t.Errorf("%s: x_T differs", c.what)
		}
	}
	if got := at(5, 6).String(); !strings.Contains(got, "Langevin corrector 1× r=0.16 at t ∈ [5, 6]") {
		t.Errorf("options read %q, want the corrector's range named", got)
	}
	for _, bad := range []Options{at(0, 3), at(4, 3), at(1, 7), func() Options { o := plain; o.CorrectorAt.Lo, o.CorrectorAt.Hi = 1, 2; return o }()} {
		if err := bad.Validate(m, 0); err == nil || !strings.Contains(err.Error(), "CorrectorAt") {
			t.Errorf("Validate(corrector %d× at %s) = %v, want an error naming CorrectorAt", bad.Corrector, bad.CorrectorAt, err)
		}
	}
}
