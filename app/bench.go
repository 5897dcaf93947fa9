package app

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/rng"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// BenchConfig selects what Bench measures.
type BenchConfig struct {
	Net          network.Config
	Schedule     schedule.Config
	TrainBatches []int // batch sizes of the train-step measurement
	SampleBatch  int   // batch size of the sampler-step measurement
	Steps        int   // timed steps per measurement (after Warmup)
	Warmup       int
}

// BenchRow is one measurement: medians over Steps calls after Warmup, compilation excluded.
type BenchRow struct {
	What          string  `json:"what"`
	Batch         int     `json:"batch"`
	MedianMS      float64 `json:"median_ms"`
	MinMS         float64 `json:"min_ms"`
	ImagesPerSec  float64 `json:"images_per_sec"`
	FirstCallSecs float64 `json:"first_call_seconds"` // includes graph build and compilation
	// CPUMS is the process's CPU time (user + system, all threads) per step, averaged over the
	// timed steps: on a machine shared with other jobs it varies less than the wall time, and
	// CPUMS / MedianMS says how many cores the step kept busy.
	CPUMS float64 `json:"cpu_ms"`
}

// Bench times the ε-prediction train step (forward, loss, backward, Adam update; the same step
// as `ddpm train`) and one DDPM sampler step (network + update + noise), on b.
func Bench(b compute.Backend, c BenchConfig, log io.Writer) ([]BenchRow, error) {
	sched, err := schedule.New(c.Schedule)
	if err != nil {
		return nil, err
	}
	m := &diffusion.Model{Net: c.Net, Schedule: sched}
	var rows []BenchRow
	for _, batch := range c.TrainBatches {
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(1))
		trainer := train.NewTrainer(b, store, func(scope *model.Scope, x0, rng *Node) {
			train.AddMainLoss(m.Loss(scope.In(training.ModelScopeName), x0, nil, rng, 0))
		}, nil, optimizer.Adam().LearningRate(1e-3).Done(), nil, nil)
		step := 0
		row, err := timeIt(fmt.Sprintf("train step (%s)", b.String()), batch, c, func() error {
			x := tensors.FromFlatDataAndDimensions(make([]float32, batch*784), batch, 28, 28, 1)
			rng := rng.GraphState(1, rng.StepNoise, int64(step))
			step++
			metrics, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x, rng}})
			if err == nil {
				_ = tensors.ToScalar[float32](metrics[0]) // the training loop reads the loss every step
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "%-36s batch %4d: median %8.1f ms  (%.0f images/s; %.0f CPU-ms per step; first call %.1fs)\n",
			row.What, row.Batch, row.MedianMS, row.ImagesPerSec, row.CPUMS, row.FirstCallSecs)
		rows = append(rows, row)
	}

	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	batch := c.SampleBatch
	exec, err := model.NewExec(b, store, func(scope *model.Scope, x, t, rng *Node) []*Node {
		tt := BroadcastToDims(t, batch)
		eps := m.Epsilon(scope.In(training.ModelScopeName), x, tt, nil)
		rng, z := RandomNormal(rng, x.Shape())
		prev, _ := diffusion.DDPMStep(sched, x, tt, eps, z, diffusion.BetaVariance, true)
		return []*Node{prev, rng}
	})
	if err != nil {
		return nil, err
	}
	x := tensors.FromFlatDataAndDimensions(make([]float32, batch*784), batch, 28, 28, 1)
	rng := rng.GraphState(1, rng.Sampling, 0)
	t := sched.T
	call := func() error {
		outs, err := exec.Call(x, tensors.FromValue(int32(t)), rng)
		if err != nil {
			return err
		}
		// Keep x and the RNG state on the device between steps, as the sampler does.
		x, rng = outs[0], outs[1]
		t = max(1, t-1)
		return nil
	}
	start := time.Now()
	if err := call(); err != nil {
		return nil, fmt.Errorf("sampler step: %w", err)
	}
	_ = tensors.MustCopyFlatData[float32](x)
	row := BenchRow{What: fmt.Sprintf("sampler step (%s)", b.String()), Batch: batch, FirstCallSecs: time.Since(start).Seconds()}
	for range c.Warmup {
		if err := call(); err != nil {
			return nil, err
		}
	}
	_ = tensors.MustCopyFlatData[float32](x)
	// A chain of steps without host round trips, synchronised once at the end (on an asynchronous
	// accelerator a single call returns before the work is done): the mean step time.
	start, cpuStart := time.Now(), processCPUTime()
	for range c.Steps {
		if err := call(); err != nil {
			return nil, err
		}
	}
	_ = tensors.MustCopyFlatData[float32](x)
	row.MedianMS = float64(time.Since(start).Microseconds()) / 1000 / float64(c.Steps)
	row.CPUMS = (processCPUTime() - cpuStart).Seconds() * 1000 / float64(c.Steps)
	row.MinMS = row.MedianMS
	row.ImagesPerSec = float64(batch) / (row.MedianMS / 1000)
	fmt.Fprintf(log, "%-36s batch %4d: mean %10.1f ms  (%.0f images/s per step; %.0f CPU-ms per step; first call %.1fs)\n",
		row.What, row.Batch, row.MedianMS, row.ImagesPerSec, row.CPUMS, row.FirstCallSecs)
	return append(rows, row), nil
}

func timeIt(what string, batch int, c BenchConfig, step func() error) (BenchRow, error) {
	start := time.Now()
	if err := step(); err != nil {
		return BenchRow{}, fmt.Errorf("%s: %w", what, err)
	}
	row := BenchRow{What: what, Batch: batch, FirstCallSecs: time.Since(start).Seconds()}
	for range c.Warmup {
		if err := step(); err != nil {
			return BenchRow{}, err
		}
	}
	times := make([]float64, c.Steps)
	cpuStart := processCPUTime()
	for i := range times {
		s := time.Now()
		if err := step(); err != nil {
			return BenchRow{}, err
		}
		times[i] = float64(time.Since(s).Microseconds()) / 1000
	}
	row.CPUMS = (processCPUTime() - cpuStart).Seconds() * 1000 / float64(c.Steps)
	slices.Sort(times)
	row.MedianMS, row.MinMS = times[len(times)/2], times[0]
	row.ImagesPerSec = float64(batch) / (row.MedianMS / 1000)
	return row, nil
}
