package backend

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestOpenDefaultsToGoWithoutPlugins(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir()) // an empty plugin directory
	start := time.Now()
	b, info, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if info.Name != "go" || info.Config != GoConfig {
		t.Errorf("Open chose %+v, want the Go backend with %q (no plugin on this machine)", info, GoConfig)
	}
	if !strings.Contains(info.String(), "backend go") {
		t.Errorf("Info.String() = %q", info.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Open took %s: it must not wait on downloads", d)
	}
}

func TestOpenExplicit(t *testing.T) {
	b, info, err := Open("go")
	if err != nil {
		t.Fatal(err)
	}
	b.Finalize()
	if info.Config != GoConfig || info.Reason != "given by the caller" {
		t.Errorf("explicit go: %+v", info)
	}
	if _, _, err := Open("nosuchbackend"); err == nil || !strings.Contains(err.Error(), "nosuchbackend") {
		t.Errorf("unknown backend: err = %v, want an error naming it", err)
	}
	t.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	if _, _, err := Open("xla:cuda"); err == nil {
		t.Errorf("xla:cuda without a plugin must fail with an error, not hang or succeed")
	}
}

// TestIdentityNamesTheKernels checks that the Go backend's identity carries the architecture and
// the kernel family (so a bit-identity check never compares two different CPUs' kernels), and
// that Open records it.
func TestIdentityNamesTheKernels(t *testing.T) {
	b, info, err := Open("go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	id := Identity(b)
	if info.Identity != id {
		t.Errorf("Info.Identity %q, Identity %q", info.Identity, id)
	}
	want := "go/" + runtime.GOARCH + "/" + goKernels()
	if id != want || (simdBuild && goKernels() == "nosimd") || (!simdBuild && goKernels() != "nosimd") {
		t.Errorf("Identity = %q, want %q (simd build %v)", id, want, simdBuild)
	}
}
