package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/gomlx/compute"
)

// backendFlag registers --backend.
func backendFlag(fs *flag.FlagSet) *string {
	return fs.String("backend", "", "compute backend, as $GOMLX_BACKEND: go, xla:cuda, xla:/path/to/pjrt_plugin.so "+
		"(default: XLA if a PJRT plugin is installed, else the pure-Go backend)")
}

// dataFlag registers --data.
func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "", "MNIST directory (default $DDPM_MNIST_DIR, else data/mnist under the repository)")
}

// openBackend opens the backend and prints which one runs.
func openBackend(config string) (compute.Backend, backend.Info, error) {
	b, info, err := backend.Open(config)
	if err != nil {
		return nil, info, err
	}
	if config != "" {
		info.Reason = "given by --backend"
	}
	fmt.Fprintln(os.Stderr, info)
	return b, info, nil
}
