//go:build ignore

// Command install_cuda_plugin installs go-xla's CUDA PJRT plugin and NVIDIA's libraries (from JAX's
// PyPI packages) without checking for a GPU, so that `docker build` (which has no GPU) can bake them
// into the image. It is run by docker/Dockerfile from the repository root, inside this module so that
// the go.mod pin of github.com/gomlx/go-xla (v0.4.13) is used:
//
//	go run ./docker/install_cuda_plugin.go [-plugin cuda13] [-version latest] [-dir ~/.local/lib/go-xla]
//
// `ddpm doctor --install-plugins` calls go-xla's installer.AutoInstall, whose CUDA step
// (installer.CudaAutoInstall) returns without installing anything when installer.HasNvidiaGPU finds
// neither /dev/nvidia* nor a working nvidia-smi; this command calls installer.CudaInstall, the function
// that step ends in, directly. It needs network access (pypi.org).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/go-xla/installer"
)

func main() {
	plugin := flag.String("plugin", "cuda13", `"cuda13" (JAX's jax-cuda13-pjrt) or "cuda12" (jax-cuda12-pjrt)`)
	version := flag.String("version", "latest", `a version of the plugin's PyPI package (jax-cuda13-pjrt), or "latest"`)
	dir := flag.String("dir", "", `the go-xla directory to install into (default ~/.local/lib/go-xla, where ddpm/backend finds it)`)
	flag.Parse()
	if err := run(*plugin, *version, *dir); err != nil {
		fmt.Fprintf(os.Stderr, "install_cuda_plugin: %v\n", err)
		os.Exit(1)
	}
}

func run(plugin, version, dir string) error {
	if plugin != "cuda13" && plugin != "cuda12" {
		return fmt.Errorf("-plugin %q: want cuda13 or cuda12", plugin)
	}
	if dir == "" {
		lib, err := installer.DefaultHomeLibPath()
		if err != nil {
			return err
		}
		dir = filepath.Join(lib, "go-xla")
	}
	if version == "latest" {
		// Resolve "latest" here so that the version installed is printed and recorded.
		info, pkg, err := installer.CudaGetPJRTPipInfo(plugin)
		if err != nil {
			return err
		}
		version = info.Info.Version
		fmt.Printf("latest %s on PyPI: %s\n", pkg, version)
	}
	// useCache=false: the downloaded wheels are temporary files, removed once extracted.
	if err := installer.CudaInstall(plugin, version, dir, false, installer.Verbose); err != nil {
		return err
	}
	record := filepath.Join(dir, "cuda-pjrt-version.txt")
	return os.WriteFile(record, []byte(fmt.Sprintf("%s %s\n", plugin, version)), 0o644)
}
