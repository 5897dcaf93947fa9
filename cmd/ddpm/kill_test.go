package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ddpm-go/ddpm/ddpm/ckpt"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"github.com/gomlx/gomlx/ml/model"
)

// buildDDPM returns the command built once for this test binary (see TestMain).
func buildDDPM(t *testing.T) string {
	t.Helper()
	if ddpmBin == "" {
		t.Fatalf("go build failed: %s", ddpmBuildErr)
	}
	return ddpmBin
}

var ddpmBin, ddpmBuildErr string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ddpm-cmd-test")
	if err != nil {
		panic(err)
	}
	bin := filepath.Join(dir, "ddpm")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	if out, err := cmd.CombinedOutput(); err != nil {
		ddpmBuildErr = fmt.Sprintf("%v\n%s", err, out)
	} else {
		ddpmBin = bin
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tinyTrainArgs is a small model on 640 images: 20 steps per epoch, 40 in all.
func tinyTrainArgs(out string) []string {
	return []string{"train", "--recipe", "quick", "--out", out, "--backend", "go",
		"--channels", "32,32,32,32", "--embed-dim", "32", "--train-examples", "640", "--batch", "32",
		"--epochs", "2", "--checkpoint-every", "3", "--keep", "2", "--ema", "0.9"}
}

// finalCheckpoint loads the newest checkpoint of a run: its store and state.
func finalCheckpoint(t *testing.T, run string) (*model.Store, training.State) {
	t.Helper()
	found, err := ckpt.Latest(filepath.Join(run, training.CheckpointsDir))
	if err != nil || found == nil {
		t.Fatalf("no checkpoint in %s: %v", run, err)
	}
	store := model.NewStore()
	var st training.State
	if err := ckpt.Load(found.Dir, store, &st); err != nil {
		t.Fatal(err)
	}
	return store, st
}

// TestKillAndResumeIsBitIdentical runs `ddpm train` as a real process, kills it with SIGKILL at
// several points (early, mid-epoch, and in the middle of a checkpoint write, via the ckpt fault-
// injection pause), resumes with --resume each time, and compares the final weights, EMA weights,
// Adam state and loss history, bit for bit, with an uninterrupted run.
func TestKillAndResumeIsBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command several times")
	}
	bin := buildDDPM(t)
	env := append(os.Environ(), "GOMLX_BACKEND=")

	straight := filepath.Join(t.TempDir(), "straight")
	cmd := exec.Command(bin, tinyTrainArgs(straight)...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	run := filepath.Join(t.TempDir(), "killed")
	kills := []struct {
		name string
		// wait returns when the process should be killed.
		wait func(t *testing.T, stderr *bufio.Scanner)
		env  []string
	}{
		{"after the first checkpoint write started", waitFor("ckpt: staged step 3"), []string{ckpt.PauseEnv + "=2s"}},
		// Killed a moment after step 12 was staged: mid-epoch (20 steps per epoch), between
		// checkpoints, with the newest intact one well before step 24 (a fixed sleep after the start
		// let fast machines finish the whole run).
		{"mid-epoch, some steps after resuming", func(t *testing.T, sc *bufio.Scanner) {
			waitFor("training quick from step")(t, sc)
			waitFor("ckpt: staged step 12")(t, sc)
			time.Sleep(100 * time.Millisecond)
		}, []string{ckpt.PauseEnv + "=1ms"}}, // the pause makes Save announce each staged step
		{"in the middle of the write of step 24", waitFor("ckpt: staged step 24"), []string{ckpt.PauseEnv + "=1s"}},
	}
	for i, k := range kills {
		args := tinyTrainArgs(run)
		if i > 0 {
			args = append(args, "--resume")
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(slices.Clone(env), k.env...)
		pipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = &bytes.Buffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(pipe)
		sc.Split(scanLinesOrCR)
		k.wait(t, sc)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		go func() {
			for sc.Scan() {
			}
		}()
		_ = cmd.Wait()
		if found, _ := ckpt.Latest(filepath.Join(run, training.CheckpointsDir)); found != nil {
			t.Logf("killed %s: newest intact checkpoint is step %d", k.name, found.Step)
		} else {
			t.Logf("killed %s: no checkpoint yet", k.name)
		}
	}
	cmd = exec.Command(bin, append(tinyTrainArgs(run), "--resume")...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final resume: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "resume: continuing from") {
		t.Fatalf("final run did not resume:\n%s", out)
	}

	a, stA := finalCheckpoint(t, straight)
	b, stB := finalCheckpoint(t, run)
	if stA.Step != 40 || stB.Step != 40 {
		t.Fatalf("final steps %d and %d, want 40", stA.Step, stB.Step)
	}
	if !slices.Equal(stA.Losses, stB.Losses) || !slices.Equal(stA.EpochLosses, stB.EpochLosses) {
		t.Fatalf("loss histories differ:\n%v\n%v", stA.Losses, stB.Losses)
	}
	// The killed-and-resumed run must hold every variable of the uninterrupted one, bit-identical.
	compared := len(testutil.SameVariables(t, a, b))
	for _, prefix := range []string{training.ModelScope + "/", training.EMAScope + "/", "/AdamOptimizer/"} {
		found := false
		for v := range b.IterVariables() {
			found = found || strings.HasPrefix(v.Path(), prefix)
		}
		if !found {
			t.Errorf("no variable under %s in the checkpoint", prefix)
		}
	}
	t.Logf("%d variables identical", compared)
}

// waitFor returns a wait function that reads stderr until a line containing s appears.
func waitFor(s string) func(t *testing.T, sc *bufio.Scanner) {
	return func(t *testing.T, sc *bufio.Scanner) {
		t.Helper()
		deadline := time.AfterFunc(3*time.Minute, func() { panic("timed out waiting for " + s) })
		defer deadline.Stop()
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				return
			}
		}
		t.Fatalf("the process ended before printing %q", s)
	}
}

// scanLinesOrCR splits on \n and \r (progress bars redraw with \r).
func scanLinesOrCR(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for i, c := range data {
		if c == '\n' || c == '\r' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
