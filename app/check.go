package app

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
	"github.com/gomlx/compute"
)

// CheckFile is the name of a shipped model's check record, beside its recipe.json.
const CheckFile = "check.json"

// The fixed settings of a check: small enough for CI on the CPU (seconds), fixed batch size so
// that the sampler noise does not depend on the backend's default batch.
const (
	checkN     = 100
	checkSteps = 10
	checkBatch = 50
	checkSeed  = 4242
)

// Check is a small, fixed evaluation recorded with a shipped model (models/<name>/check.json) when
// it is exported: checkN samples (DDIM, checkSteps steps, η = 0, the recipe's clipping, a fixed seed
// and batch; classes cycled 0–9 for a conditional model), their SHA-256 and their FID/KID/score.
// Re-running it on the same kind of backend must give the same samples bit for bit and the same
// metrics; on another backend (other kernels and random bits) the metrics must agree within
// tolerance. A test re-runs every shipped model's check on the CPU.
type Check struct {
	Model         string             `json:"model"` // recipe name
	Step          int64              `json:"step"`
	N             int                `json:"n"`
	Sampler       string             `json:"sampler"`
	Backend       string             `json:"backend"` // backend.Identity: same identity, same bits
	SamplesSHA256 string             `json:"samples_sha256"`
	Metrics       map[string]float64 `json:"metrics"`
	Tool          string             `json:"tool"`
}

// RunCheck samples and evaluates the check of a trained model on b.
func RunCheck(ctx context.Context, b compute.Backend, t *Trained, evaluate Evaluator) (*Check, error) {
	o, err := SampleOptions(t.State.Recipe.Sample)
	if err != nil {
		return nil, fmt.Errorf("check of %s: %w", t.Checkpoint, err)
	}
	o.Method, o.Steps, o.Eta, o.Seed, o.BatchSize = "ddim", min(checkSteps, t.Model.Schedule.T), 0, checkSeed, checkBatch
	o.Corrector = 0 // the check stays cheap and fixed whatever the recipe's corrector
	res, err := sampler.New(b, t.Store, t.Model).Sample(ctx, checkN, sampler.BalancedLabels(t.Model, checkN), o, io.Discard)
	if err != nil {
		return nil, fmt.Errorf("check of %s: %w", t.Checkpoint, err)
	}
	h := sha256.New()
	if err := binary.Write(h, binary.LittleEndian, res.Images); err != nil {
		return nil, err
	}
	ev, err := evaluate(ctx, res.Images, res.N, res.Labels, io.Discard)
	if err != nil {
		return nil, fmt.Errorf("check of %s: %w", t.Checkpoint, err)
	}
	return &Check{Model: t.State.Recipe.Name, Step: t.State.Step, N: res.N,
		Sampler: fmt.Sprintf("%s, seed %d, batch %d", o, o.Seed, o.BatchSize),
		Backend: backend.Identity(b), SamplesSHA256: hex.EncodeToString(h.Sum(nil)), Metrics: ev.Metrics, Tool: ev.Tool}, nil
}

// WriteCheck writes c to dir/check.json atomically.
func WriteCheck(dir string, c *Check) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, CheckFile), append(data, '\n'))
}

// ReadCheck reads dir/check.json; the error wraps fs.ErrNotExist when there is none.
func ReadCheck(dir string) (*Check, error) {
	path := filepath.Join(dir, CheckFile)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no check recorded (RunCheck and WriteCheck record one): %w", dir, err)
		}
		return nil, err
	}
	var c Check
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.N < 2 || c.SamplesSHA256 == "" || len(c.Metrics) == 0 {
		return nil, fmt.Errorf("%s: incomplete check record (n %d, %d metrics)", path, c.N, len(c.Metrics))
	}
	return &c, nil
}

// CrossBackendTolerance is the relative difference allowed between a check's metrics recorded on
// one kind of backend and re-run on another.
const CrossBackendTolerance = 0.05

// Reproduces compares a re-run check (got) with the recorded one (c). On the same backend the
// samples must be bit-identical and every metric equal; on another backend every metric must agree
// within CrossBackendTolerance (relative). The error lists every difference.
func (c *Check) Reproduces(got *Check) error {
	var diffs []string
	if got.Model != c.Model || got.Step != c.Step || got.N != c.N || got.Sampler != c.Sampler {
		diffs = append(diffs, fmt.Sprintf("different check: recorded %s step %d, N=%d, %s; re-run %s step %d, N=%d, %s",
			c.Model, c.Step, c.N, c.Sampler, got.Model, got.Step, got.N, got.Sampler))
	}
	same := got.Backend == c.Backend
	if same && got.SamplesSHA256 != c.SamplesSHA256 {
		diffs = append(diffs, fmt.Sprintf("samples differ on the same backend (%s): sha256 %s, recorded %s",
			c.Backend, got.SamplesSHA256, c.SamplesSHA256))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Metrics)) {
		want := c.Metrics[name]
		v, ok := got.Metrics[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("metric %s missing", name))
		case same && v != want:
			diffs = append(diffs, fmt.Sprintf("%s = %.10g, recorded %.10g on the same backend", name, v, want))
		case !same && math.Abs(v-want) > CrossBackendTolerance*math.Max(math.Abs(want), 1e-3):
			diffs = append(diffs, fmt.Sprintf("%s = %.6g, recorded %.6g on %s (tolerance %g relative)", name, v, want,
				c.Backend, CrossBackendTolerance))
		}
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}
