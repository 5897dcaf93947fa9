package backend

import (
	"fmt"
	"runtime"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"golang.org/x/sys/cpu"
)

// Identity names what determines the bits a backend computes, for records that promise
// bit-identical results on "the same backend" (a shipped model's check.json): the backend, and for
// GoMLX's pure-Go backend the architecture and the matrix kernels it can run, which depend on the
// build (GOEXPERIMENT=simd) and on the CPU (AVX-512, AVX2 or portable code, each with its own
// blocking and rounding order). E.g. "go/amd64/avx512", "go/arm64/nosimd",
// "xla/NVIDIA H200". Two runs with equal identities and equal inputs give equal bits.
func Identity(b compute.Backend) string {
	if b.String() != gobackend.BackendName {
		device := ""
		if b.NumDevices() > 0 {
			device = b.DeviceDescription(0)
		}
		return fmt.Sprintf("%s/%s", b.String(), device)
	}
	return fmt.Sprintf("%s/%s/%s", gobackend.BackendName, runtime.GOARCH, goKernels())
}

// goKernels names the matrix kernels GoMLX's Go backend runs in this binary on this CPU.
func goKernels() string {
	switch {
	case !simdBuild:
		return "nosimd"
	case runtime.GOARCH == "amd64" && cpu.X86.HasAVX512F:
		return "avx512"
	case runtime.GOARCH == "amd64" && cpu.X86.HasAVX2:
		return "avx2"
	}
	return "simd-generic"
}
