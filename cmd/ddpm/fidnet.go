package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/fid/mnistcnn"
)

func init() {
	register("fid-train", "train the MNIST feature network of `ddpm fid` (mnist-cnn-v1) and write its weights", runFIDTrain)
}

func runFIDTrain(ctx context.Context, args []string) error {
	fs := newFlags("fid-train", "[--seed 1] [--out fid/mnistcnn/weights]")
	seed := fs.Int64("seed", 1, "seed of the initial weights and of the data order (≠ 0)")
	epochs := fs.Int("epochs", mnistcnn.DefaultTrainEpochs, "epochs over the 60k MNIST training images")
	batch := fs.Int("batch", 100, "batch size")
	lr := fs.Float64("lr", 1e-3, "Adam's peak learning rate (cosine decay to 0)")
	maxSteps := fs.Int64("max-steps", 0, "stop after this many steps (timing and tests; 0: all)")
	out := fs.String("out", "fid/mnistcnn/weights", "directory for "+mnistcnn.NetworkName+".json and .bin (the shipped weights are in fid/mnistcnn/weights)")
	backendCfg, data := backendFlag(fs), dataFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	b, info, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	dir := mnist.Dir(*data)
	trainSet, err := mnist.EnsureAndLoad(ctx, dir, mnist.Train, os.Stderr)
	if err != nil {
		return err
	}
	testSet, err := mnist.EnsureAndLoad(ctx, dir, mnist.Test, os.Stderr)
	if err != nil {
		return err
	}
	cmd := "ddpm fid-train " + strings.Join(args, " ")
	net, err := mnistcnn.Train(ctx, b, trainSet, testSet, mnistcnn.TrainOptions{Seed: *seed, Epochs: *epochs, BatchSize: *batch,
		LR: *lr, MaxSteps: *maxSteps, Command: strings.TrimSpace(cmd), Backend: info.Identity, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer net.Close()
	if err := net.Save(*out); err != nil {
		return err
	}
	m := net.Manifest()
	fmt.Printf("%s: test accuracy %.4f, train accuracy %.4f, %d steps in %.0fs\n", m.Name,
		m.Training.TestAccuracy, m.Training.TrainAccuracy, m.Training.Steps, m.Training.Seconds)
	fmt.Printf("weights sha256 %s -> %s/%s.{json,bin}\n", m.SHA256, *out, mnistcnn.NetworkName)
	if m.SHA256 != mnistcnn.ShippedHash {
		fmt.Printf("(the shipped weights have sha256 %s)\n", mnistcnn.ShippedHash)
	}
	return nil
}
