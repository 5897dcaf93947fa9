package figures

import (
	"math"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/internal/testutil"
)

// images returns n images whose pixels are base + shift + a small per-image pattern, in [−1, 1].
func images(n int, shift float32) []float32 {
	out := make([]float32, n*Pixels)
	for i := range n {
		for p := range Pixels {
			out[i*Pixels+p] = -0.5 + shift + 0.3*float32((i*7+p*3)%11)/11
		}
	}
	return out
}

func TestPixelStats(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shift float32 // added to every pixel of the second set, in [−1, 1] units
		want  float64 // FID: 784·(shift/2)² (the covariances are equal; pixels are rescaled to [0, 1])
	}{
		{"same images", 0, 0},
		{"shifted by 0.2", 0.2, Pixels * 0.1 * 0.1},
		{"shifted by 0.5", 0.5, Pixels * 0.25 * 0.25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := PixelStats(images(40, 0), 40, "a")
			if err != nil {
				t.Fatal(err)
			}
			b, err := PixelStats(images(40, tc.shift), 40, "b")
			if err != nil {
				t.Fatal(err)
			}
			if a.Dim != Pixels || a.N != 40 || a.NetworkHash != PixelNetwork {
				t.Fatalf("stats: dim %d, n %d, hash %q", a.Dim, a.N, a.NetworkHash)
			}
			r, err := fid.FID(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.FID-tc.want) > 1e-3*math.Max(1, tc.want) {
				t.Errorf("FID = %g, want %g", r.FID, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		values int
		n      int
	}{{"one image", Pixels, 1}, {"too few values", Pixels, 2}} {
		if _, err := PixelStats(make([]float32, tc.values), tc.n, "x"); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestLossWeights(t *testing.T) {
	for _, c := range []schedule.Config{
		{Kind: schedule.Linear, Steps: 200, Beta1: 1e-4, BetaT: 0.1},
		{Kind: schedule.Linear, Steps: 200, Beta1: 1e-4, BetaT: 0.02},
		{Kind: schedule.Cosine, Steps: 50},
	} {
		s := schedule.MustNew(c)
		w := LossWeights(s)
		if len(w) != s.T {
			t.Fatalf("%s: %d weights", c, len(w))
		}
		// At t = 1, 1 − ᾱ_1 = β_1: the weight is 1/(2 α_1).
		if want := 1 / (2 * (1 - s.Beta[1])); math.Abs(w[0]-want) > 1e-9 {
			t.Errorf("%s: w_1 = %g, want %g", c, w[0], want)
		}
		for i, v := range w {
			want := s.Beta[i+1] / (2 * (1 - s.Beta[i+1]) * (1 - s.AlphaBar[i+1]))
			if math.IsNaN(v) || v <= 0 || math.Abs(v-want) > 1e-12*want {
				t.Errorf("%s: w_%d = %g, want %g", c, i+1, v, want)
			}
		}
	}
}

func TestImageMSE(t *testing.T) {
	ones := func(n int, v float32) []float32 {
		out := make([]float32, n*Pixels)
		for i := range out {
			out[i] = v * float32(1+i/Pixels)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		a, b    []float32
		want    []float64
		wantErr bool
	}{
		{"equal", ones(2, 1), ones(2, 1), []float64{0, 0}, false},
		{"per image", ones(3, 1), make([]float32, 3*Pixels), []float64{1, 4, 9}, false},
		{"lengths differ", ones(2, 1), ones(1, 1), nil, true},
		{"not whole images", make([]float32, 10), make([]float32, 10), nil, true},
	} {
		got, err := ImageMSE(tc.a, tc.b)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, got, tc.want)
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("%s: image %d: %g, want %g", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

func TestNoiseEach(t *testing.T) {
	b := testutil.GoBackend(t)
	s := schedule.MustNew(schedule.Config{Kind: schedule.Linear, Steps: 200, Beta1: 1e-4, BetaT: 0.1})
	x0 := images(3, 0)
	for _, tc := range []struct {
		name    string
		ts      []int
		wantErr bool
	}{
		{"one step each", []int{0, 50, 200}, false},
		{"same step", []int{7, 7, 7}, false},
		{"step out of range", []int{1, 2, 201}, true},
		{"too few steps", []int{1, 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xt, eps, err := NoiseEach(b, s, x0, tc.ts, 3)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if want := Noise(len(tc.ts), 1, 3); MaxAbsDiff(eps, want) != 0 {
				t.Fatal("ε is not Noise(n, 1, seed)")
			}
			for i, step := range tc.ts {
				for p := i * Pixels; p < (i+1)*Pixels; p++ {
					want := s.SqrtAlphaBar[step]*float64(x0[p]) + s.SqrtOneMinusAlphaBar[step]*float64(eps[p])
					if math.Abs(float64(xt[p])-want) > 1e-5 {
						t.Fatalf("image %d (t=%d), pixel %d: x_t = %g, want %g", i, step, p-i*Pixels, xt[p], want)
					}
				}
			}
		})
	}
}
