package figures

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
	"github.com/ddpm-go/ddpm/ddpm/training"
)

// Which committed model (models/<name>) stands for a model of the notebooks, and how it differs
// from today's recipe.

// ShippedRun returns the committed run directory of a recipe name, or "" if there is none.
func (e *Env) ShippedRun(recipeName string) string {
	if e.Root == "" {
		return ""
	}
	dir := filepath.Join(e.Root, ShippedDir, recipeName)
	if found, err := ckpt.Latest(filepath.Join(dir, training.CheckpointsDir)); err == nil && found != nil {
		return dir
	}
	return ""
}

// WidthEnv names the environment variable that chooses the width D of the shipped U-Net models
// that stand for seed 000's D = 128 (see substitutes), e.g. DDPM_NOTEBOOK_WIDTH=16: the narrow pair
// samples about 4.7× faster than D = 64 on the pure-Go backend (CI uses it to stay within its time).
const WidthEnv = "DDPM_NOTEBOOK_WIDTH"

// ParseWidth parses the value of WidthEnv: "" (the default choice) or a positive integer.
func ParseWidth(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := strconv.Atoi(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive U-Net width such as %d or %d", WidthEnv, s,
			recipe.CPUHidden, recipe.WideCPUHidden)
	}
	return d, nil
}

// substitutes lists the recipes whose shipped models may stand for a model whose full-mode
// recipe is full: full itself and, for the assignment's U-Net (seed 000's D = 128, which does not
// train on 2 cores), the same recipe at a width that trains here: recipe.WideCPUHidden when both the
// unconditional and the conditional model are shipped at that width (the notebooks then compare
// like with like), then recipe.CPUHidden. With e.Width > 0 (WidthEnv) only that width stands in.
func (e *Env) substitutes(full recipe.Recipe) []recipe.Recipe {
	out := []recipe.Recipe{full}
	if full.Net.Arch != network.UNet {
		return out
	}
	widths := []int{recipe.WideCPUHidden, recipe.CPUHidden}
	if e.Width > 0 {
		widths = []int{e.Width}
	}
	for _, d := range widths {
		if d == full.Net.UNet.Hidden {
			continue
		}
		uncond := fmt.Sprintf("assignment1-d%d", d)
		if e.Width == 0 && d != recipe.CPUHidden && (e.ShippedRun(uncond) == "" || e.ShippedRun(uncond+"-cond") == "") {
			continue
		}
		if r, err := recipe.Get(strings.Replace(full.Name, "assignment1", uncond, 1)); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// chooseShipped picks the committed run directory that stands for a model: the first of
// models/<candidate name> whose stored network and schedule are today's recipe of that name (the
// candidates are this mode's recipe, then its substitutes). When none matches, the first that
// exists is used and stale says how it differs. "" when nothing is shipped.
func (e *Env) chooseShipped(candidates []recipe.Recipe) (dir, stale string) {
	first, firstStale := "", ""
	for _, want := range candidates {
		d := e.ShippedRun(want.Name)
		if d == "" {
			continue
		}
		diff := recipeDiff(filepath.Join(d, "recipe.json"), want)
		if diff == "" {
			return d, ""
		}
		if first == "" {
			first, firstStale = d, fmt.Sprintf("%s was trained with an older recipe (%s), not today's %s (%s)",
				e.Rel(d), diff, want.Name, describeNet(want))
		}
	}
	return first, firstStale
}

// recipeDiff says how the network and schedule stored in a recipe.json differ from want's ("" if
// they match or the file cannot be read: the checkpoint's own recipe is used either way).
func recipeDiff(path string, want recipe.Recipe) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var got recipe.Recipe
	if err := json.Unmarshal(data, &got); err != nil {
		return ""
	}
	if reflect.DeepEqual(got.Net, want.Net) && got.Schedule == want.Schedule {
		return ""
	}
	return describeNet(got)
}

// describeNet names a recipe's network and schedule, e.g. "U-Net D=16, linear β 0.0001→0.02, T=300"
// or "ScoreNet (GroupNorm groups 4,4,4,4 / 4,4,4), linear β 0.0001→0.1, T=200".
func describeNet(r recipe.Recipe) string {
	sn := r.Net.ScoreNet
	join := func(xs []int) string { return strings.ReplaceAll(joinInts(xs), ", ", ",") }
	net := fmt.Sprintf("ScoreNet (GroupNorm groups %s / %s)", join(sn.EncoderGroups[:]), join(sn.DecoderGroups[:]))
	if r.Net.Arch == network.UNet {
		net = fmt.Sprintf("U-Net D=%d", r.Net.UNet.Hidden)
	}
	return net + ", " + r.Schedule.String()
}
