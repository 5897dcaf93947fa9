package recipe

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/unet"
)

// The widths of the assignment's U-Net. The seed's D = 128 costs about 6.4 GFLOP per training
// image (~85× ScoreNet) and a batch-64 training step takes ~2 s on 2 cores: 20 epochs would take
// ten hours and more. Narrower copies of the recipe, named "assignment1-d<D>[-cond]", train here.
const (
	// CPUHidden is the width of the models the notebooks and figures use: it trains its 20 epochs
	// on a 2-core CPU in about 3 hours (D = 32 costs 1/16 of the seed's FLOPs; D = 16 1/64).
	CPUHidden = 16
	// WideCPUHidden is the widest that trains here in a few sessions (~0.7 s per batch-64 step,
	// ~3.7 h for 20 epochs): the width of the models that meet the quality targets of issue 12.
	WideCPUHidden = 64
)

// assignmentName is the name of the assignment recipe at width d: "assignment1" at the seed's
// width, else "assignment1-d<d>", with "-cond" for the class-conditional network.
func assignmentName(d int, conditional bool) string {
	name := "assignment1"
	if d != unet.Default().Hidden {
		name = fmt.Sprintf("assignment1-d%d", d)
	}
	if conditional {
		name += "-cond"
	}
	return name
}

var widthInDescription = regexp.MustCompile(`\(D=\d+\)`)

// Relabel names an assignment recipe after its network's width (as `--hidden 64` on
// "assignment1-cond" gives "assignment1-d64-cond", D=64 in the description), so that a run's
// recipe.json says what it trained. Other recipes are returned as they are.
func Relabel(r Recipe) Recipe {
	if r.Net.Arch != network.UNet || !strings.HasPrefix(r.Name, "assignment1") {
		return r
	}
	d := r.Net.UNet.Hidden
	r.Name = assignmentName(d, r.Net.Conditional())
	r.Description = widthInDescription.ReplaceAllString(r.Description, fmt.Sprintf("(D=%d)", d))
	return r
}
