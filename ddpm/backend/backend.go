// Package backend chooses the GoMLX compute backend for this project and says why.
//
// Order: an explicit configuration (the --backend flag, else $GOMLX_BACKEND) wins; otherwise XLA
// with a PJRT plugin already installed on this machine (CUDA first) when the binary was built with
// XLA support; otherwise GoMLX's pure-Go backend. Plugins are never downloaded implicitly (GoMLX's
// default auto-install is switched off here), so a machine without network or without a GPU never
// waits on a download: it runs on the Go backend and says so.
//
// The Go backend is configured "ops_sequential": in GoMLX v0.28.2 its parallel op executor can
// deadlock when a matmul inside a parallel op waits for workers (workerspool.Saturate), seen here on
// 2 cores; sequential ops with parallel matmuls are also the faster choice for this network.
package backend

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// GoConfig is the configuration used for the pure-Go backend.
const GoConfig = gobackend.BackendName + ":ops_sequential"

// Info describes the backend in use, for logs, checkpoints and reports.
type Info struct {
	Config  string // configuration string given to compute.NewWithConfig
	Name    string // backend name ("go", "xla")
	Device  string // device description
	Reason  string // why this backend was chosen
	SIMD    bool   // built with GOEXPERIMENT=simd (matters for the Go backend's speed)
	Devices int
}

// String is a one-line summary, e.g. "backend go (Go Portable Compute Backend ...) on cpu: ...".
func (i Info) String() string {
	s := fmt.Sprintf("backend %s, device %q: %s", i.Config, i.Device, i.Reason)
	if i.Name == gobackend.BackendName && !i.SIMD {
		s += " [WARNING: built without GOEXPERIMENT=simd: matrix products are ~10x slower; " +
			"build with GOEXPERIMENT=simd]"
	}
	return s
}

// xlaPlugins lists locally installed PJRT plugins without downloading anything; it is nil when the
// binary was built without XLA support (-tags noxla). Set by xla.go.
var xlaPlugins func() []string

// installPlugins runs go-xla's plugin installer; nil without XLA support. Set by xla.go.
var installPlugins func() error

// InstallPlugins downloads and installs the PJRT plugins for this machine with go-xla's own
// installer (installer.AutoInstall: the CPU plugin, and the CUDA plugin with NVIDIA's libraries
// from PyPI's JAX packages when an NVIDIA GPU is present) into ~/.local/lib/go-xla. It needs network
// access; Open never calls it.
func InstallPlugins() error {
	if installPlugins == nil {
		return fmt.Errorf("this binary was built without XLA support (-tags noxla)")
	}
	return installPlugins()
}

// Open returns the backend chosen as described in the package documentation. config, when not
// empty, is an explicit choice (as $GOMLX_BACKEND, e.g. "go", "xla:cuda", "xla:/path/plugin.so").
func Open(config string) (compute.Backend, Info, error) {
	reason := "given by --backend"
	if config == "" {
		if env, ok := os.LookupEnv(compute.ConfigEnvVar); ok && env != "" {
			config, reason = env, "given by $"+compute.ConfigEnvVar
		}
	}
	if config == "" {
		config, reason = choose()
	}
	if config == gobackend.BackendName { // plain "go": add our safe default options
		config = GoConfig
	}
	b, err := newWithConfig(config)
	if err != nil {
		return nil, Info{}, fmt.Errorf("backend %q (%s): %w", config, reason, err)
	}
	info := Info{Config: config, Name: b.String(), Reason: reason, SIMD: builtWithSIMD(), Devices: b.NumDevices()}
	if info.Devices > 0 {
		info.Device = b.DeviceDescription(0)
	}
	if info.Name == gobackend.BackendName {
		info.Device = fmt.Sprintf("cpu (%d cores, %s)", runtime.NumCPU(), runtime.GOARCH)
	}
	return b, info, nil
}

// choose picks the automatic configuration.
func choose() (config, reason string) {
	if xlaPlugins == nil {
		return gobackend.BackendName, "no XLA support in this build (-tags noxla)"
	}
	plugins := xlaPlugins()
	for _, p := range plugins {
		if strings.HasPrefix(p, "cuda") {
			return "xla:" + p, "PJRT plugin " + p + " found"
		}
	}
	if len(plugins) > 0 {
		return "xla:" + plugins[0], "PJRT plugin " + plugins[0] + " found (no CUDA plugin)"
	}
	return gobackend.BackendName, "no PJRT plugin installed (searched $PJRT_PLUGIN_LIBRARY_PATH, " +
		"/usr/local/lib/go-xla, ~/.local/lib/go-xla and the system library paths)"
}

// newWithConfig wraps compute.NewWithConfig, which panics on unknown backend names.
func newWithConfig(config string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return compute.NewWithConfig(config)
}

// builtWithSIMD reports whether the binary was built with GOEXPERIMENT=simd.
func builtWithSIMD() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "GOEXPERIMENT" && strings.Contains(s.Value, "simd") {
			return true
		}
	}
	return false
}
