package figures

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/unet"
	"github.com/ddpm-go/ddpm/internal/testutil"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
)

// TestCompareFindsWrongLayers checks that the exercise check accepts the library's Conv written
// out and rejects the usual mistakes: another activation, a missing BatchNorm (which matters in
// training mode), another scope name, another stride.
func TestCompareFindsWrongLayers(t *testing.T) {
	b := testutil.GoBackend(t)
	o := LessonOps
	lib := func(s *model.Scope, in []*Node) *Node { return o.Conv(s, in[0], 4) }
	x := []*tensors.Tensor{RandomTensor(1, 2, 8, 8, 3)}
	conv := func(act func(*Node) *Node, bn bool, convScope string, stride int) GraphFn {
		return func(s *model.Scope, in []*Node) *Node {
			y := o.Conv2D(s.In("%s", convScope), in[0], 4, 3, stride, 1)
			if bn {
				y = layers.BatchNorm(s.In("bn"), y, 3)
			}
			return act(y)
		}
	}
	if err := Compare(b, "Conv", x, conv(activation.Gelu, true, "conv", 1), lib).Check(1e-5); err != nil {
		t.Errorf("the library's Conv written out: %v", err)
	}
	for name, mine := range map[string]GraphFn{
		"ReLU":       conv(activation.Relu, true, "conv", 1),
		"no BN":      conv(activation.Gelu, false, "conv", 1),
		"scope name": conv(activation.Gelu, true, "conv2d", 1),
		"stride 2":   conv(activation.Gelu, true, "conv", 2),
		"panics": func(s *model.Scope, in []*Node) *Node {
			return layers.BatchNorm(s.In("bn"), in[0], 1) // not a channel axis
		},
	} {
		c := Compare(b, "Conv", x, mine, lib)
		if err := c.Check(1e-5); err == nil {
			t.Errorf("%s: accepted (%+v)", name, c)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestCountParameters checks the count against the network's documented size (D = 8 is cheap).
func TestCountParameters(t *testing.T) {
	b := testutil.GoBackend(t)
	cfg := unet.Config{Hidden: 8, UpKernel: 4}
	got, err := CountParameters(b, []*tensors.Tensor{RandomTensor(1, 1, 28, 28, 1), RandomTensor(2, 1)},
		func(s *model.Scope, in []*Node) *Node { return cfg.Apply(s, in[0], in[1], nil, layers.Patches) })
	// By hand for D = 8: the same formula as unet's parameter test, evaluated at D = 8.
	if err != nil || got != unetParams(8) {
		t.Errorf("CountParameters = %d, %v; want %d", got, err, unetParams(8))
	}
}

// unetParams counts the unconditional U-Net's trainable parameters at width d with UpConv kernel 4
// (convolutions with bias, BatchNorm γ and β, dense layers with bias).
func unetParams(d int) int {
	conv := func(k, in, out int) int { return k*k*in*out + out + 2*out } // conv + BN
	convBlock := func(in, out int) int { return conv(3, in, out) + conv(3, out, out) }
	fcBlock := func(in, out int) int { return in*out + out + out*out + out }
	return convBlock(1, d) + conv(3, d, d) + convBlock(d, d) + conv(3, d, 2*d) + convBlock(2*d, 2*d) + // e1, e2, e3
		conv(7, 2*d, 2*d) + // unflatten
		conv(4, 4*d, d) + convBlock(d, d) + conv(4, 2*d, d) + convBlock(d, d) + // u1, u2
		convBlock(2*d, d) + 9*d + 1 + fcBlock(1, 2*d) + fcBlock(1, d) // h, out, t1, t2
}

// TestReverseStep checks the library's step against the assignment's formula in float64.
func TestReverseStep(t *testing.T) {
	b := testutil.GoBackend(t)
	s, err := schedule.New(schedule.Config{Kind: schedule.Linear, Steps: 300, Beta1: 1e-4, BetaT: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	xt := tensors.MustCopyFlatData[float32](RandomTensor(1, Pixels))
	eps := tensors.MustCopyFlatData[float32](RandomTensor(2, Pixels))
	z := tensors.MustCopyFlatData[float32](RandomTensor(3, Pixels))
	for _, step := range []int{1, 2, 150, 300} {
		got, err := ReverseStep(b, s, xt, eps, z, 1, step, diffusion.BetaVariance, false)
		if err != nil {
			t.Fatal(err)
		}
		ab, abPrev, beta := s.AlphaBar[step], s.AlphaBar[step-1], s.Beta[step]
		want := make([]float64, Pixels)
		for i := range want {
			x0 := (float64(xt[i]) - math.Sqrt(1-ab)*float64(eps[i])) / math.Sqrt(ab)
			want[i] = math.Sqrt(abPrev)*beta/(1-ab)*x0 + math.Sqrt(1-beta)*(1-abPrev)/(1-ab)*float64(xt[i])
			if step > 1 {
				want[i] += math.Sqrt(beta) * float64(z[i])
			}
		}
		got64 := make([]float64, len(got))
		for i, v := range got {
			got64[i] = float64(v)
		}
		if d := MaxAbsDiff(got64, want); d > 1e-3 {
			t.Errorf("t=%d: differs from the formula by %g", step, d)
		}
	}
}

func TestGuideAndDropLabels(t *testing.T) {
	b := testutil.GoBackend(t)
	cond, uncond := []float32{1, 2, -1}, []float32{0.5, 2, 1}
	for _, gamma := range []float64{0, 1, 5} {
		got, err := GuideValues(b, cond, uncond, gamma)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if want := uncond[i] + float32(gamma)*(cond[i]-uncond[i]); math.Abs(float64(got[i]-want)) > 1e-6 {
				t.Errorf("γ=%g: ε̂[%d] = %g, want %g", gamma, i, got[i], want)
			}
		}
	}
	got, err := DropLabelsValues(b, []int{3, 4, 5, 6}, []float32{0.05, 0.1, 0.5, 0.0999}, 0.1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{10, 4, 5, 10}; !slices.Equal(got, want) {
		t.Errorf("DropLabelsValues = %v, want %v", got, want)
	}
}

// TestRecipeDiff checks how a shipped model trained with an older recipe is told apart from one
// trained with today's.
func TestRecipeDiff(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "recipe.json")
	old, _ := recipe.Get("scorenet")
	old.Net.ScoreNet.EncoderGroups, old.Net.ScoreNet.DecoderGroups = [4]int{4, 32, 32, 32}, [3]int{32, 32, 32}
	today, _ := recipe.Get("assignment1-d16-cond")
	for _, c := range []struct {
		stored   recipe.Recipe
		wantDiff string
	}{{old, "ScoreNet (GroupNorm groups 4,32,32,32 / 32,32,32), linear β 0.0001→0.1, T=200"}, {today, ""}} {
		if err := os.WriteFile(path, c.stored.JSON(), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := recipeDiff(path, today); got != c.wantDiff {
			t.Errorf("recipeDiff(%s) = %q, want %q", c.stored.Name, got, c.wantDiff)
		}
	}
	if got := describeNet(today); got != "U-Net D=16, linear β 0.0001→0.02, T=300" {
		t.Errorf("describeNet = %q", got)
	}
}
