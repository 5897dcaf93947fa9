//go:build !noxla && linux && amd64

package backend

import (
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/installer"
)

func init() {
	// Never download plugins implicitly: see the package documentation.
	xla.EnableAutoInstall(false)
	xlaPlugins = xla.GetAvailablePlugins
	installPlugins = func() error { return installer.AutoInstall("", true, installer.Normal) }
}
