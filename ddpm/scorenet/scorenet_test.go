package scorenet

import (
	"os"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// goBackendConfig is the Go backend configuration of the tests and benchmarks;
// $SCORENET_GO_BACKEND overrides it.
const goBackendConfig = testutil.GoBackendConfig

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	cfg := goBackendConfig
	if s := os.Getenv("SCORENET_GO_BACKEND"); s != "" {
		cfg = s
	}
	return testutil.NewGoBackend(t, cfg)
}

// countParameters builds the network once and counts trainable and fixed parameters.
func countParameters(t *testing.T, cfg Config, batch int) (trainable, fixed int, out *tensors.Tensor) {
	t.Helper()
	backend := goBackend(t)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x, tt, labels *Node) *Node {
		if cfg.NumClasses == 0 {
			labels = nil
		}
		return cfg.Apply(scope, x, tt, labels, layers.Auto)
	})
	if err != nil {
		t.Fatal(err)
	}
	x := tensors.FromShape(tensors.FromScalarAndDimensions(float32(0), batch, ImageSize, ImageSize, 1).Shape())
	tt := tensors.FromFlatDataAndDimensions(make([]float32, batch), batch)
	labels := tensors.FromFlatDataAndDimensions(make([]int32, batch), batch)
	out, err = exec.Call1(x, tt, labels)
	if err != nil {
		t.Fatal(err)
	}
	for v := range store.IterVariables() {
		if v.Trainable {
			trainable += v.Shape().Size()
		} else {
			fixed += v.Shape().Size()
		}
	}
	return
}

func TestDefaultParameterCount(t *testing.T) {
	trainable, fixed, out := countParameters(t, Default(), 2)
	if trainable != 1_115_297 {
		t.Errorf("trainable parameters = %d, want 1,115,297 (the classic ScoreNet)", trainable)
	}
	// 128 fixed Fourier weights; the store also holds the RNG state (3 uint64) used at init.
	if fixed != 128+3 {
		t.Errorf("fixed values = %d, want 128 Fourier weights + 3 RNG state words", fixed)
	}
	if err := out.Shape().CheckDims(2, ImageSize, ImageSize, 1); err != nil {
		t.Errorf("output shape: %v", err)
	}
}

func TestConditionalAddsClassEmbedding(t *testing.T) {
	cfg := Default()
	cfg.NumClasses = 10
	trainable, _, _ := countParameters(t, cfg, 2)
	if want := 1_115_297 + 11*256; trainable != want {
		t.Errorf("conditional trainable parameters = %d, want %d (+ an 11×256 class table)", trainable, want)
	}
}

// TestValidateNeverPanics checks that zero or negative group counts and channels are reported as
// errors (the CLI reaches them through --channels and recipe files), not a division by zero.
func TestValidateNeverPanics(t *testing.T) {
	for _, mutate := range []func(c *Config){
		func(c *Config) { c.EncoderGroups[0] = 0 },
		func(c *Config) { c.EncoderGroups[3] = -2 },
		func(c *Config) { c.DecoderGroups[1] = 0 },
		func(c *Config) { c.Channels[2] = 0 },
		func(c *Config) { c.EmbedDim = 3 },
	} {
		c := Default()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: Validate accepted it", c)
		}
	}
}
