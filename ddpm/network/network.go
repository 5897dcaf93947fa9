// Package network chooses the noise-prediction network of a recipe: ScoreNet (package scorenet,
// seed 003) or the assignment's U-Net (package unet, seed 000). Everything above it (the
// diffusion loss, the samplers, training) sees one Config with one Apply.
package network

import (
	"encoding/json"
	"fmt"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/ddpm-go/ddpm/ddpm/unet"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// The architectures.
const (
	ScoreNet = "scorenet" // seed 003: Fourier time embedding, GroupNorm, swish (package scorenet)
	UNet     = "unet"     // seed 000: BatchNorm, GELU, Flatten/Unflatten bottleneck, c·h + t (package unet)
)

// Config is one network: Arch names it and the field of that name configures it.
//
// In JSON a ScoreNet is written as scorenet.Config alone (as recipes were before the U-Net was
// added, so their recipe.json files still load) and a U-Net as {"arch": "unet", "unet": {...}}.
type Config struct {
	Arch     string
	ScoreNet scorenet.Config
	UNet     unet.Config
}

// FromScoreNet and FromUNet wrap one network's configuration.
func FromScoreNet(c scorenet.Config) Config { return Config{Arch: ScoreNet, ScoreNet: c} }
func FromUNet(c unet.Config) Config         { return Config{Arch: UNet, UNet: c} }

// NumClasses is the number of classes of a conditional network (0: unconditional).
func (c Config) NumClasses() int {
	if c.Arch == UNet {
		return c.UNet.NumClasses
	}
	return c.ScoreNet.NumClasses
}

// NumClassesField points at the class count of the chosen network (for recipe overrides).
func (c *Config) NumClassesField() *int {
	if c.Arch == UNet {
		return &c.UNet.NumClasses
	}
	return &c.ScoreNet.NumClasses
}

// Conditional reports whether the network takes class labels.
func (c Config) Conditional() bool { return c.NumClasses() > 0 }

// NullClass is the label of "no class" (classifier-free guidance's unconditional input).
func (c Config) NullClass() int { return c.NumClasses() }

// Validate reports the first invalid field of the chosen network.
func (c Config) Validate() error {
	switch c.Arch {
	case ScoreNet:
		return c.ScoreNet.Validate()
	case UNet:
		return c.UNet.Validate()
	}
	return fmt.Errorf("network: arch %q: want %q or %q", c.Arch, ScoreNet, UNet)
}

// Apply builds the chosen network in scope (see scorenet.Config.Apply and unet.Config.Apply).
//
//   - x: [B, 28, 28, 1]; t: [B] float32 t/T; labels: [B] int32 in [0, NumClasses] or nil
//   - output: [B, 28, 28, 1], ε̂(x_t, t[, y])
func (c Config) Apply(scope *model.Scope, x, t, labels *Node, f layers.Formulation) *Node {
	if c.Arch == UNet {
		return c.UNet.Apply(scope, x, t, labels, f)
	}
	return c.ScoreNet.Apply(scope, x, t, labels, f)
}

// String names the network and its size, e.g. "unet(D=32, up kernel 4, 10 classes)".
func (c Config) String() string {
	switch c.Arch {
	case UNet:
		return fmt.Sprintf("unet(D=%d, up kernel %d, %d classes)", c.UNet.Hidden, c.UNet.UpKernel, c.UNet.NumClasses)
	case ScoreNet:
		s := c.ScoreNet
		return fmt.Sprintf("scorenet(channels %v, embed %d, %d classes)", s.Channels, s.EmbedDim, s.NumClasses)
	}
	return fmt.Sprintf("network(arch %q)", c.Arch)
}

type unetJSON struct {
	Arch string      `json:"arch"`
	UNet unet.Config `json:"unet"`
}

// MarshalJSON writes a ScoreNet as its own config (the format before Arch existed), a U-Net as
// {"arch": "unet", "unet": {...}}.
func (c Config) MarshalJSON() ([]byte, error) {
	if c.Arch == UNet {
		return json.Marshal(unetJSON{Arch: UNet, UNet: c.UNet})
	}
	return json.Marshal(c.ScoreNet)
}

// UnmarshalJSON reads either form; a config without "arch" is a ScoreNet.
func (c *Config) UnmarshalJSON(b []byte) error {
	var probe struct {
		Arch string `json:"arch"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	switch probe.Arch {
	case "", ScoreNet:
		*c = Config{Arch: ScoreNet}
		return json.Unmarshal(b, &c.ScoreNet)
	case UNet:
		var u unetJSON
		if err := json.Unmarshal(b, &u); err != nil {
			return err
		}
		*c = Config{Arch: UNet, UNet: u.UNet}
		return nil
	}
	return fmt.Errorf("network: arch %q: want %q or %q", probe.Arch, ScoreNet, UNet)
}
