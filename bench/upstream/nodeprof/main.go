//go:build nodeprof

// Command nodeprof prints where the CPU time of a train step or a sampler step goes, per op of
// the graph, with GoMLX compute patched by compute-v0.1.2-node-profile.patch (bench/upstream/build.sh
// builds it; see README.md). Usage:
//
//	GOMLX_NODE_PROFILE=out.txt bench/out/nodeprof -mode train -batch 100 [-hidden 16] [-steps 5]
//
// The backend runs ops one at a time (go:ops_sequential, matrix products still on all cores) and
// each op is charged the process CPU time it took: out.txt lists CPU-ms per step by op kind, then
// by op and shape.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/network"
	"github.com/ddpm-go/ddpm/ddpm/rng"
	"github.com/ddpm-go/ddpm/ddpm/schedule"
	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/ddpm/unet"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

func main() {
	cfg := flag.String("backend", "go:ops_sequential", "")
	batch := flag.Int("batch", 100, "")
	hidden := flag.Int("hidden", 0, "")
	steps := flag.Int("steps", 5, "")
	mode := flag.String("mode", "train", "train or sample")
	flag.Parse()
	b, err := compute.NewWithConfig(*cfg)
	if err != nil {
		panic(err)
	}
	net := network.FromScoreNet(scorenet.Default())
	if *hidden > 0 {
		u := unet.Default()
		u.Hidden = *hidden
		net = network.FromUNet(u)
	}
	sched, _ := schedule.New(schedule.Config{Kind: schedule.Linear, Steps: 1000, Beta1: 1e-4, BetaT: 0.02})
	m := &diffusion.Model{Net: net, Schedule: sched}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	var step func()
	if *mode == "train" {
		trainer := train.NewTrainer(b, store, func(scope *model.Scope, x0, r *Node) {
			train.AddMainLoss(m.Loss(scope.In(training.ModelScopeName), x0, nil, r, 0))
		}, nil, optimizer.Adam().LearningRate(1e-3).Done(), nil, nil)
		i := 0
		step = func() {
			x := tensors.FromFlatDataAndDimensions(make([]float32, *batch*784), *batch, 28, 28, 1)
			metrics, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x, rng.GraphState(1, rng.StepNoise, int64(i))}})
			if err != nil {
				panic(err)
			}
			_ = tensors.ToScalar[float32](metrics[0])
			i++
		}
	} else {
		bs := *batch
		exec, err := model.NewExec(b, store, func(scope *model.Scope, x, t, r *Node) []*Node {
			tt := BroadcastToDims(t, bs)
			eps := m.Epsilon(scope.In(training.ModelScopeName), x, tt, nil)
			r, z := RandomNormal(r, x.Shape())
			prev, _ := diffusion.DDPMStep(sched, x, tt, eps, z, diffusion.BetaVariance, true)
			return []*Node{prev, r}
		})
		if err != nil {
			panic(err)
		}
		x := tensors.FromFlatDataAndDimensions(make([]float32, bs*784), bs, 28, 28, 1)
		r := rng.GraphState(1, rng.Sampling, 0)
		t := 1000
		step = func() {
			outs, err := exec.Call(x, tensors.FromValue(int32(t)), r)
			if err != nil {
				panic(err)
			}
			x, r = outs[0], outs[1]
			t--
			_ = tensors.MustCopyFlatData[float32](x)
		}
	}
	for range 3 {
		step()
	}
	gobackend.ResetNodeProfile()
	st := time.Now()
	for range *steps {
		step()
	}
	fmt.Fprintf(os.Stderr, "%.1f ms per step (wall)\n", float64(time.Since(st).Microseconds())/1000/float64(*steps))
	gobackend.DumpNodeProfile(*steps)
}
