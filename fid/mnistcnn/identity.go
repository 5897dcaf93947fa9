package mnistcnn

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/ddpm-go/ddpm/fid"
)

var _ fid.ComputeIdentifier = (*Network)(nil)

// computeModules are the modules whose release changes the network's outputs at the level of
// float32 round-off (kernels, summation order, SIMD paths).
var computeModules = []string{"github.com/gomlx/gomlx", "github.com/gomlx/compute", "github.com/gomlx/go-xla"}

// ComputeIdentity implements [fid.ComputeIdentifier]: the backend's name, the Go release and
// architecture, the GOEXPERIMENT of the build and the versions (or replacements) of GoMLX,
// compute and go-xla, e.g. `backend="Go Backend" go=go1.27.3-X:simd arch=amd64
// GOEXPERIMENT=simd github.com/gomlx/gomlx@v0.28.16 github.com/gomlx/compute@v0.1.14 …`. Caches of the reference statistics are kept per identity.
func (n *Network) ComputeIdentity() string {
	parts := []string{fmt.Sprintf("backend=%q", n.backend.Name()), "go=" + runtime.Version(), "arch=" + runtime.GOARCH}
	return strings.Join(append(parts, buildIdentity()...), " ")
}

// buildIdentity lists the build's GOEXPERIMENT setting and the compute modules' versions, as far
// as the binary records them (test binaries and `go run` do).
func buildIdentity() []string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return []string{"build=unknown"}
	}
	var out []string
	for _, s := range info.Settings {
		if s.Key == "GOEXPERIMENT" {
			out = append(out, "GOEXPERIMENT="+s.Value)
		}
	}
	for _, path := range computeModules {
		for _, dep := range info.Deps {
			if dep.Path != path {
				continue
			}
			id := fmt.Sprintf("%s@%s", dep.Path, dep.Version)
			if r := dep.Replace; r != nil {
				id += fmt.Sprintf("=>%s@%s", r.Path, r.Version)
				if r.Version == "" { // a local directory: its content is unknown, key it by the path
					id += "(local)"
				}
			}
			out = append(out, id)
		}
	}
	return out
}
