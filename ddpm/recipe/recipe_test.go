package recipe

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestRecipesAreValid(t *testing.T) {
	for _, name := range Names() {
		r, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("recipe %s: %v", name, err)
		}
	}
	// The main job's CPU recipe draws class-conditional digits with classifier-free guidance; it has
	// no "-cond" twin.
	q, _ := Get("quick")
	if w, cfg, _ := q.Sample.CFGWeight(); !q.Net.Conditional() || !cfg || w <= 0 || q.Train.PUncond != 0.1 {
		t.Errorf("quick: conditional %v, guidance %q, p_uncond %g", q.Net.Conditional(), q.Sample.Guidance, q.Train.PUncond)
	}
	if _, err := Get("quick-cond"); err == nil {
		t.Error("quick-cond exists beside the conditional quick")
	}
	s, _ := Get("scorenet")
	if s.Schedule.Steps != 200 || s.Schedule.BetaT != 0.1 || s.Train.BatchSize != 100 || s.Train.LR != 0.01 || s.Train.Epochs != 60 {
		t.Errorf("scorenet recipe drifted from seed 003: %+v", s)
	}
	if g := s.Net.ScoreNet; g.EncoderGroups != [4]int{4, 4, 4, 4} || g.DecoderGroups != [3]int{4, 4, 4} {
		t.Errorf("scorenet GroupNorm groups %v / %v, want the seed's 4 at every level", g.EncoderGroups, g.DecoderGroups)
	}
	// Seed 000 (outline §5-§7): T=300, β 1e-4→0.02, batch 64, 20 epochs, Adam 1e-3 with
	// ExponentialLR(0.1^(1/20)) per epoch, no EMA, label dropout 0.1, the U-Net at D=128, DDPM
	// sampling with σ²=β and no clipping.
	for _, name := range []string{"assignment1", "assignment1-cond", "assignment1-d16", "assignment1-d16-cond",
		"assignment1-d64", "assignment1-d64-cond"} {
		a, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		wantD, wantClasses, wantPUncond := 128, 0, 0.0
		if strings.Contains(name, "-d16") {
			wantD = 16
		}
		if strings.Contains(name, "-d64") {
			wantD = 64
		}
		if want := fmt.Sprintf("(D=%d)", wantD); !strings.Contains(a.Description, want) {
			t.Errorf("%s: description %q does not say %s", name, a.Description, want)
		}
		if strings.HasSuffix(name, "-cond") {
			wantClasses, wantPUncond = 10, 0.1
		}
		if a.Schedule.Steps != 300 || a.Schedule.Beta1 != 1e-4 || a.Schedule.BetaT != 0.02 || a.Train.Epochs != 20 ||
			a.Train.BatchSize != 64 || a.Train.LR != 1e-3 || a.Train.EMADecay != 0 || a.Train.Seed != 180 ||
			a.Net.Arch != "unet" || a.Net.UNet.Hidden != wantD || a.Net.UNet.UpKernel != 4 ||
			a.Net.NumClasses() != wantClasses || a.Train.PUncond != wantPUncond ||
			a.Sample.Sampler != "ddpm" || a.Sample.Variance != "beta" || a.Sample.ClipX0 {
			t.Errorf("%s recipe drifted from seed 000: %+v", name, a)
		}
		for epoch, want := range map[int]float64{0: 1e-3, 10: 1e-3 * math.Sqrt(0.1), 19: 1e-3 * math.Pow(0.1, 0.95), 20: 1e-4} {
			if got := a.Train.LearningRate(epoch); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: learning rate at epoch %d = %g, want %g", name, epoch, got, want)
			}
		}
	}
	if math.Abs(s.Train.LearningRate(0)-0.01) > 1e-15 || math.Abs(s.Train.LearningRate(200)-0.002) > 1e-15 {
		t.Errorf("scorenet lr schedule: epoch 0 %g, epoch 200 %g", s.Train.LearningRate(0), s.Train.LearningRate(200))
	}
}

// TestValidateScheduleAndGuidance: the learning-rate schedule, warm-up, sampling guidance and corrector fields
// are checked, with the field and value named.
func TestValidateScheduleAndGuidance(t *testing.T) {
	cond, _ := Get("quick")
	uncond, _ := Get("scorenet")
	for _, tc := range []struct {
		name    string
		base    Recipe
		change  func(r *Recipe)
		wantErr string // "" = valid
	}{
		{"cosine", cond, func(r *Recipe) { r.Train.LRSchedule = "cosine" }, ""},
		{"unknown schedule", cond, func(r *Recipe) { r.Train.LRSchedule = "linear" }, `lr schedule "linear"`},
		{"warm-up", cond, func(r *Recipe) { r.Train.LRWarmup = 100 }, ""},
		{"negative warm-up", cond, func(r *Recipe) { r.Train.LRWarmup = -1 }, "lr warm-up -1"},
		{"cfg on a conditional net", cond, func(r *Recipe) { r.Sample.Guidance = "cfg:2.5" }, ""},
		{"none", uncond, func(r *Recipe) { r.Sample.Guidance = "none" }, ""},
		{"cfg on an unconditional net", uncond, func(r *Recipe) { r.Sample.Guidance = "cfg:2" }, "needs a class-conditional network"},
		{"classifier guidance", cond, func(r *Recipe) { r.Sample.Guidance = "classifier:2" }, `guidance "classifier:2": want none or cfg:W`},
		{"weight below -1", cond, func(r *Recipe) { r.Sample.Guidance = "cfg:-1.5" }, ">= -1"},
		{"not a number", cond, func(r *Recipe) { r.Sample.Guidance = "cfg:NaN" }, ">= -1"},
		{"corrector", uncond, func(r *Recipe) { r.Sample.Corrector, r.Sample.SNR = 2, 0.16 }, ""},
		{"corrector without r", uncond, func(r *Recipe) { r.Sample.Corrector = 2 }, "signal-to-noise ratio 0"},
		{"negative corrector", uncond, func(r *Recipe) { r.Sample.Corrector, r.Sample.SNR = -1, 0.16 }, "corrector steps -1"},
		{"too many corrector steps", uncond, func(r *Recipe) { r.Sample.Corrector, r.Sample.SNR = 21, 0.16 }, "corrector steps 21"},
		{"corrector range", uncond, func(r *Recipe) { r.Sample.Corrector, r.Sample.SNR, r.Sample.CorrectorAt = 2, 0.16, "1:50" }, ""},
		{"corrector range past T", uncond, func(r *Recipe) { r.Sample.Corrector, r.Sample.SNR, r.Sample.CorrectorAt = 2, 0.16, "1:5000" }, "step range 1:5000"},
		{"corrector range, no corrector", uncond, func(r *Recipe) { r.Sample.CorrectorAt = "1:50" }, "without corrector steps"},
		{"corrector range, bad form", uncond, func(r *Recipe) { r.Sample.Corrector, r.Sample.SNR, r.Sample.CorrectorAt = 2, 0.16, "50" }, "want LO:HI"},
		{"r above 1", uncond, func(r *Recipe) { r.Sample.Corrector, r.Sample.SNR = 1, 1.5 }, "signal-to-noise ratio 1.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.base
			tc.change(&r)
			err := r.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if w, ok, err := (Sample{Guidance: "cfg:3"}).CFGWeight(); w != 3 || !ok || err != nil {
		t.Errorf("CFGWeight(cfg:3) = %v, %v, %v", w, ok, err)
	}
}

// Relabel gives a recipe whose width was changed the name and description of the recipe at that
// width: the seed's recipe at D = 64 is "assignment1-d64-cond", field for field.
func TestRelabel(t *testing.T) {
	for _, c := range []struct {
		base string
		d    int
		want string
	}{
		{"assignment1-cond", WideCPUHidden, "assignment1-d64-cond"},
		{"assignment1", CPUHidden, "assignment1-d16"},
		{"assignment1-d16-cond", 128, "assignment1-cond"},
		{"assignment1-d64", 64, "assignment1-d64"},
	} {
		r, err := Get(c.base)
		if err != nil {
			t.Fatal(err)
		}
		r.Net.UNet.Hidden = c.d
		want, err := Get(c.want)
		if err != nil {
			t.Fatal(err)
		}
		if got := Relabel(r); !reflect.DeepEqual(got, want) {
			t.Errorf("Relabel(%s at D=%d) = %s %q, want the %s recipe %q", c.base, c.d, got.Name, got.Description, want.Name, want.Description)
		}
	}
	for _, name := range []string{"scorenet", "quick"} {
		r, _ := Get(name)
		if got := Relabel(r); !reflect.DeepEqual(got, r) {
			t.Errorf("Relabel changed the %s recipe: %s", name, got.Name)
		}
	}
}
