package main

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/mnist"
)

func init() {
	register("doctor", "print the backend, device, build and data the other commands would use", runDoctor)
}

func runDoctor(ctx context.Context, args []string) error {
	fs := newFlags("doctor", "[--backend CONFIG] [--data DIR]")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	install := fs.Bool("install-plugins", false, "first install the PJRT plugins for this machine with go-xla's installer "+
		"(CPU, and CUDA when an NVIDIA GPU is present) into ~/.local/lib/go-xla; needs network access")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *install {
		fmt.Println("installing PJRT plugins with go-xla's installer (needs network access)...")
		if err := backend.InstallPlugins(); err != nil {
			return err
		}
	}
	fmt.Printf("go %s %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	b, info, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Printf("backend: %s\n  description: %s\n  identity (same identity, same bits): %s\n  devices: %d, device 0: %s\n  reason: %s\n  built with GOEXPERIMENT=simd: %v\n",
		info.Config, b.Description(), info.Identity, info.Devices, info.Device, info.Reason, info.SIMD)
	dir := mnist.Dir(*data)
	if _, err := mnist.Load(dir, mnist.Test); err != nil {
		fmt.Printf("MNIST: not ready in %s: %v\n", dir, err)
	} else {
		fmt.Printf("MNIST: %s (checksums verified)\n", dir)
	}
	if v, ok := os.LookupEnv("PJRT_PLUGIN_LIBRARY_PATH"); ok {
		fmt.Printf("PJRT_PLUGIN_LIBRARY_PATH=%s\n", v)
	}
	return nil
}
