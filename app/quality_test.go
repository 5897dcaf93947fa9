package app

import (
	"strings"
	"testing"
)

// TestQuality: the verdict of the report against the bar (FID ≤ 10× floor, ≥ 90% confident), at
// and around its edges, and no verdict without the numbers it needs.
func TestQuality(t *testing.T) {
	ev := func(kv ...float64) *Evaluation {
		e := &Evaluation{Metrics: map[string]float64{}}
		names := []string{"fid", "fid_floor", "confident", "confident_floor"}
		for i, v := range kv {
			e.Metrics[names[i]] = v
			e.Names = append(e.Names, names[i])
		}
		return e
	}
	for _, tc := range []struct {
		name         string
		ev           *Evaluation
		nilWant      bool
		ratio        float64
		recognisable bool
		want         []string
	}{
		{"both met", ev(300, 60, 0.95, 0.99), false, 5, true,
			[]string{"N=500", "FID 300.0 = 5.0× its real-data floor 60.0", "(target ≤ 10×: met)", "95.0% of the samples",
				"(target ≥ 90%: met; real MNIST images: 99.0%)", ": recognisable digits."}},
		{"FID exactly 10× passes", ev(600, 60, 0.9), false, 10, true, []string{"10.0×", "target ≤ 10×: met", "90.0%"}},
		{"FID too high", ev(601, 60, 0.99), false, 601.0 / 60, false,
			[]string{"10.0×", "target ≤ 10×: NOT met", "target ≥ 90%: met)", "not yet recognisable"}},
		{"too few confident", ev(100, 60, 0.899), false, 100.0 / 60, false,
			[]string{"target ≤ 10×: met", "89.9%", "target ≥ 90%: NOT met)", "not yet recognisable"}},
		{"no confident metric", ev(100, 60), true, 0, false, nil},
		{"no floor", ev(100), true, 0, false, nil},
		{"zero floor", ev(100, 0, 0.95), true, 0, false, nil},
		{"no evaluation", nil, true, 0, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQuality(tc.ev, 500)
			if tc.nilWant {
				if q != nil {
					t.Fatalf("NewQuality = %+v, want nil", q)
				}
				return
			}
			if q == nil {
				t.Fatal("NewQuality = nil")
			}
			if q.Recognisable != tc.recognisable || q.FIDOverFloor != tc.ratio || q.N != 500 {
				t.Errorf("quality %+v, want ratio %v, recognisable %v", q, tc.ratio, tc.recognisable)
			}
			md := q.Markdown()
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("markdown lacks %q:\n%s", w, md)
				}
			}
		})
	}
}

// TestReportMarkdownQuality: report.md carries the verdict when the evaluation allows one.
func TestReportMarkdownQuality(t *testing.T) {
	rep := &Report{EvalSamples: 500, Evaluation: &Evaluation{Names: []string{"fid", "fid_floor", "confident"},
		Metrics: map[string]float64{"fid": 120, "fid_floor": 60, "confident": 0.97}, Tool: "test"}}
	rep.Quality = NewQuality(rep.Evaluation, rep.EvalSamples)
	md := rep.Markdown()
	for _, w := range []string{"| fid | fid_floor | confident |", "Quality at N=500: FID 120.0 = 2.0×", "97.0% of the samples"} {
		if !strings.Contains(md, w) {
			t.Errorf("report.md lacks %q:\n%s", w, md)
		}
	}
	rep.Quality = nil
	if strings.Contains(rep.Markdown(), "Quality at") {
		t.Error("a verdict without a quality")
	}
}
