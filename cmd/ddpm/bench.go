package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/ddpm-go/ddpm/ddpm/unet"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

func init() {
	register("bench", "time a train step and a sampler step of the default ScoreNet (or --hidden D: the assignment's U-Net) on the chosen backend", runBench)
}

func runBench(ctx context.Context, args []string) error {
	fs := newFlags("bench", "[--batches 100,32] [--sample-batch 100] [--steps 20] [--json out.json]")
	batches := fs.String("batches", "100,32", "train-step batch sizes")
	sampleBatch := fs.Int("sample-batch", 100, "sampler-step batch size")
	steps := fs.Int("steps", 20, "timed steps per measurement")
	warmup := fs.Int("warmup", 3, "untimed steps after the first (compiling) call")
	jsonOut := fs.String("json", "", "also write the results as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the whole benchmark to this file")
	hidden := fs.Int("hidden", 0, "time the assignment's U-Net (seed 000) at width D instead of ScoreNet (0)")
	backendCfg := backendFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	var bs []int
	for _, p := range strings.Split(*batches, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("--batches %q: %q is not a batch size >= 1", *batches, p)
		}
		bs = append(bs, n)
	}
	if *steps < 1 || *warmup < 0 || *sampleBatch < 1 || *hidden < 0 {
		return fmt.Errorf("--steps must be >= 1, --warmup >= 0, --sample-batch >= 1 and --hidden >= 0")
	}
	net := network.FromScoreNet(scorenet.Default())
	if *hidden > 0 {
		u := unet.Default()
		u.Hidden = *hidden
		net = network.FromUNet(u)
	}
	b, info, err := openBackend(*backendCfg)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rows, err := app.Bench(b, app.BenchConfig{
		Net:          net,
		Schedule:     schedule.Config{Kind: schedule.Linear, Steps: 1000, Beta1: 1e-4, BetaT: 0.02},
		TrainBatches: bs, SampleBatch: *sampleBatch, Steps: *steps, Warmup: *warmup,
	}, os.Stdout)
	if err != nil {
		return err
	}
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(map[string]any{"backend": info, "rows": rows}, "", "  ")
		return atomicfile.WriteBytes(*jsonOut, data)
	}
	return nil
}
