// Package backend chooses the GoMLX compute backend for this project and says why.
//
// Order: an explicit configuration (the --backend flag, else $GOMLX_BACKEND) wins; otherwise XLA
// with a PJRT plugin already installed on this machine (CUDA first) when the binary was built with
// XLA support; otherwise GoMLX's pure-Go backend. Plugins are never downloaded implicitly (GoMLX's
// default auto-install is switched off here), so a machine without network or without a GPU never
// waits on a download: it runs on the Go backend and says so.
//
// The Go backend is configured "ops_parallel,parallelism=-1" (GoOptions): independent ops of a
// graph run concurrently (a train step's weight gradients beside the serial chain of element-wise
// ops, which the pure-Go backend runs on one core each), and the worker pool is unlimited. In GoMLX
// v0.28.2 (compute v0.1.2) a limited pool can deadlock: the parallel executor starts each ready op
// with WaitToStart, which blocks while the pool is full, and an op already running (a matrix
// product) waits inside Saturate for pool slots that the blocked ops hold; seen here on 2 cores.
// With parallelism=-1 nothing waits for a pool slot (ops start as goroutines; Saturate fans out
// GOMAXPROCS workers and waits only for its own). Results are bit-identical to sequential execution
// (each op is computed the same way; scorenet's TestParallelExecutionIsBitIdentical); the ScoreNet
// train step at batch 100 went from 339 to 269 ms on the 2-core machine of bench/RESULTS.md.
package backend

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// GoOptions are the pure-Go backend's options (see the package documentation).
const GoOptions = "ops_parallel,parallelism=-1"

// GoConfig is the configuration used for the pure-Go backend.
const GoConfig = gobackend.BackendName + ":" + GoOptions

// Info describes the backend in use, for logs, checkpoints and reports.
type Info struct {
	Config string // configuration string given to compute.NewWithConfig
	Name   string // backend name ("go", "xla")
	Device string // device description
	Reason string // why this backend was chosen
	SIMD   bool   // built with GOEXPERIMENT=simd (matters for the Go backend's speed)
	// Identity is Identity(backend): what determines its bits (recorded with shipped checks).
	Identity string
	Devices  int
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

// XLASupported reports whether this binary can use the XLA backend (built with cgo on linux/amd64,
// without -tags noxla).
func XLASupported() bool { return xlaPlugins != nil }

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
	reason := "given by the caller"
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
	info := Info{Config: config, Name: b.String(), Reason: reason, SIMD: simdBuild, Devices: b.NumDevices()}
	if info.Devices > 0 {
		info.Device = b.DeviceDescription(0)
	}
	info.Identity = Identity(b)
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

// newWithConfig wraps compute.NewWithConfig, which panics on unknown backend names. The Go backend
// prints "Go backend: parallelism set to N" on standard output when given that option; the line is
// dropped (Info says the configuration), so that commands writing data to standard output stay clean.
func newWithConfig(config string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if strings.HasPrefix(config, gobackend.BackendName+":") && strings.Contains(config, "parallelism=") {
		if devNull, openErr := os.OpenFile(os.DevNull, os.O_WRONLY, 0); openErr == nil {
			stdout := os.Stdout
			os.Stdout = devNull
			defer func() { os.Stdout = stdout; _ = devNull.Close() }()
		}
	}
	return compute.NewWithConfig(config)
}
