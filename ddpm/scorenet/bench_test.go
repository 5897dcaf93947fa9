package scorenet

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// Benchmarks of the default ScoreNet on GoMLX's pure-Go backend (build with GOEXPERIMENT=simd):
//
//	GOEXPERIMENT=simd go test -run XXX -bench . -benchtime 10x ./ddpm/scorenet/
//
// The backend configuration is goBackend's (see scorenet_test.go; $SCORENET_GO_BACKEND overrides
// it). Inputs are random, like real batches (x ~ N(0, 1), t uniform in (0, 1]): the cost of Tanh
// depends on the values.

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timer collects per-iteration wall and CPU times and reports their minimum ("min-ms/op") and
// the mean CPU time ("cpu-ms/op") next to Go's mean wall time: on a machine shared with other
// jobs the minimum is the most reproducible figure.
type timer struct {
	b             *testing.B
	minWall       time.Duration
	cpu, cpuStart time.Duration
	wallStart     time.Time
}

func newTimer(b *testing.B) *timer { return &timer{b: b, minWall: time.Hour} }

func (t *timer) start() { t.cpuStart, t.wallStart = cpuTime(), time.Now() }

func (t *timer) stop() {
	t.minWall = min(t.minWall, time.Since(t.wallStart))
	t.cpu += cpuTime() - t.cpuStart
}

func (t *timer) report() {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	t.b.ReportMetric(ms(t.minWall), "min-ms/op")
	t.b.ReportMetric(ms(t.cpu)/float64(t.b.N), "cpu-ms/op")
}

// benchBatch returns random network inputs x [B, 28, 28, 1], t [B] and a target [B, 28, 28, 1].
func benchBatch(rng *rand.Rand, batch int) (x, t, target *tensors.Tensor) {
	normal := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	ts := make([]float32, batch)
	for i := range ts {
		ts[i] = float32(1-rng.Float64()) + 1e-3
	}
	x = tensors.FromFlatDataAndDimensions(normal(batch*ImageSize*ImageSize), batch, ImageSize, ImageSize, 1)
	target = tensors.FromFlatDataAndDimensions(normal(batch*ImageSize*ImageSize), batch, ImageSize, ImageSize, 1)
	return x, tensors.FromFlatDataAndDimensions(ts, batch), target
}

// benchTrainStep times a full training step: forward, ε-MSE loss, backward and Adam, with GoMLX's
// train.Trainer.
func benchTrainStep(b *testing.B, batch int) {
	backend := goBackend(b)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	cfg := Default()
	trainer := train.NewTrainer(backend, store, func(scope *model.Scope, x, tt *Node) *Node {
		return cfg.Apply(scope, x, tt, nil, layers.Auto)
	}, loss.MeanSquaredError, optimizer.Adam().LearningRate(1e-3).Done(), nil, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func() train.Batch {
		x, tt, y := benchBatch(rng, batch)
		return train.Batch{Inputs: []*tensors.Tensor{x, tt}, Labels: []*tensors.Tensor{y}}
	}
	for range 2 { // compile and warm up
		if _, err := trainer.TrainStep(mk()); err != nil {
			b.Fatal(err)
		}
	}
	tm := newTimer(b)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		batchData := mk()
		b.StartTimer()
		tm.start()
		if _, err := trainer.TrainStep(batchData); err != nil {
			b.Fatal(err)
		}
		tm.stop()
	}
	tm.report()
}

func BenchmarkTrainStepB100(b *testing.B) { benchTrainStep(b, 100) }
func BenchmarkTrainStepB32(b *testing.B)  { benchTrainStep(b, 32) }

// BenchmarkForwardB100 times one forward pass at batch 100: the network's share of a sampler step.
func BenchmarkForwardB100(b *testing.B) {
	const batch = 100
	backend := goBackend(b)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	cfg := Default()
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x, tt *Node) *Node {
		return cfg.Apply(scope, x, tt, nil, layers.Auto)
	})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x, tt, _ := benchBatch(rng, batch)
	timeExec(b, exec, x, tt)
}

// BenchmarkGradientB100 times forward, loss and gradients without the optimizer, to separate the
// network from Adam's update in BenchmarkTrainStepB100.
func BenchmarkGradientB100(b *testing.B) {
	const batch = 100
	backend := goBackend(b)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	cfg := Default()
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x, tt, target *Node) []*Node {
		out := cfg.Apply(scope, x, tt, nil, layers.Auto)
		l := ReduceAllMean(Square(Sub(out, target)))
		var vars []*Node
		for v := range store.IterVariables() {
			if v.Trainable {
				vars = append(vars, v.NodeValue(x.Graph()))
			}
		}
		return Gradient(l, vars...)
	})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x, tt, y := benchBatch(rng, batch)
	timeExec(b, exec, x, tt, y)
}

// timeExec calls exec on inputs twice (compilation and warm-up), then b.N times timed, freeing
// the outputs inside the timing, and reports the timer's metrics.
func timeExec(b *testing.B, exec *model.Exec, inputs ...any) {
	for range 2 {
		if _, err := exec.Call(inputs...); err != nil {
			b.Fatal(err)
		}
	}
	tm := newTimer(b)
	b.ResetTimer()
	for range b.N {
		tm.start()
		outs, err := exec.Call(inputs...)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
		tm.stop()
	}
	tm.report()
}
