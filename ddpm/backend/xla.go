//go:build !noxla && linux && amd64

package backend

import (
	"github.com/gomlx/go-xla/compute/xla"
)

func init() {
	// Never download plugins implicitly: see the package documentation.
	xla.EnableAutoInstall(false)
	xlaPlugins = xla.GetAvailablePlugins
}
