package diffusion

import (
	"strings"
	"testing"
)

// TestStepRange: parsing, bounds on a schedule of T steps, membership and the corrector's checks.
func TestStepRange(t *testing.T) {
	const T = 200
	cases := []struct {
		in      string
		want    StepRange
		parseOK bool
		checkOK bool
	}{
		{"", StepRange{}, true, true},
		{"all", StepRange{}, true, true},
		{"1:100", StepRange{1, 100}, true, true},
		{" 20 : 20 ", StepRange{20, 20}, true, true},
		{"1:200", StepRange{1, 200}, true, true},
		{"0:100", StepRange{0, 100}, true, false},
		{"100:50", StepRange{100, 50}, true, false},
		{"1:201", StepRange{1, 201}, true, false},
		{"-3:5", StepRange{-3, 5}, true, false},
		{"100", StepRange{}, false, false},
		{"1:2:3", StepRange{}, false, false},
		{"a:b", StepRange{}, false, false},
	}
	for _, c := range cases {
		got, err := ParseStepRange(c.in)
		if (err == nil) != c.parseOK {
			t.Errorf("ParseStepRange(%q): error %v, want ok = %v", c.in, err, c.parseOK)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), "LO:HI") {
				t.Errorf("ParseStepRange(%q): error %q does not say the form", c.in, err)
			}
			continue
		}
		if got != c.want {
			t.Errorf("ParseStepRange(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if err := got.Check(T); (err == nil) != c.checkOK {
			t.Errorf("%q.Check(T=%d) = %v, want ok = %v", c.in, T, err, c.checkOK)
		}
		if back, err := ParseStepRange(got.String()); err != nil || back != got {
			t.Errorf("%q: String %q reads back as %+v, %v", c.in, got.String(), back, err)
		}
	}
	r := StepRange{10, 20}
	for tt, want := range map[int]bool{9: false, 10: true, 15: true, 20: true, 21: false} {
		if r.Contains(tt) != want {
			t.Errorf("[10, 20] contains %d: %v, want %v", tt, !want, want)
		}
	}
	if !(StepRange{}).Contains(1) || !(StepRange{}).Contains(T) {
		t.Error("the zero range must contain every step")
	}
	if err := CheckCorrectorRange(0, r, T); err == nil {
		t.Error("a corrector range without corrector steps was accepted")
	}
	if err := CheckCorrectorRange(0, StepRange{}, T); err != nil {
		t.Errorf("no corrector, every step: %v", err)
	}
	if err := CheckCorrectorRange(3, StepRange{1, T + 1}, T); err == nil {
		t.Error("a corrector range past T was accepted")
	}
}
