package notebooks

import (
	"encoding/json"
	"testing"
)

// parse reads a notebook from JSON (the checks below must fail on the defects they look for).
func parse(t *testing.T, s string) notebook {
	t.Helper()
	var nb notebook
	if err := json.Unmarshal([]byte(s), &nb); err != nil {
		t.Fatal(err)
	}
	return nb
}

func TestErrorOutputsAreFound(t *testing.T) {
	nb := parse(t, `{"cells": [
		{"cell_type": "code", "source": "x", "outputs": [{"output_type": "error", "ename": "panic", "evalue": "boom"}]},
		{"cell_type": "code", "source": ["y"], "outputs": [{"output_type": "stream", "name": "stderr", "text": ["panic: no model\n"]}]},
		{"cell_type": "code", "source": "z", "outputs": [{"output_type": "stream", "name": "stdout", "text": "sample 20/20 steps"}]}]}`)
	if got := errorOutputs(nb); len(got) != 2 {
		t.Errorf("errorOutputs = %q, want the error output of cell 0 and the panic of cell 1", got)
	}
}

func TestAbsolutePathsAreFound(t *testing.T) {
	nb := parse(t, `{"cells": [
		{"cell_type": "code", "source": "m := load()", "outputs": [{"output_type": "stream", "name": "stdout",
			"text": "no checkpoint in /work/main/models/assignment1/checkpoints/step-00000468: file does not exist\n"}]},
		{"cell_type": "markdown", "source": "Open /home/me/ddpm/notebooks, then [the library](../ddpm)."},
		{"cell_type": "code", "source": "x", "outputs": [{"output_type": "display_data",
			"data": {"text/markdown": "searched /usr/local/lib/go-xla; 14.2 steps/s; t/T; https://github.com/a/b"}}]}]}`)
	got := absolutePaths(nb)
	if len(got) != 2 {
		t.Fatalf("absolutePaths = %q, want the checkout path of cell 0 and the home of cell 1 (system paths, "+
			"rates, fractions and URLs are not paths of the machine)", got)
	}
}

func TestHeadingNumbersAreChecked(t *testing.T) {
	bad := parse(t, `{"cells": [
		{"cell_type": "markdown", "source": "## 7. FID of 1,000 samples, beside the real-data floor"},
		{"cell_type": "code", "source": "v := e.Evaluate(ctx, m)", "outputs": [{"output_type": "stream", "name": "stdout",
			"text": "evaluate scorenet: 200 samples (DDIM, 10 steps)\n"}]},
		{"cell_type": "markdown", "source": "### Guidance at γ = 5, T = 300"},
		{"cell_type": "code", "source": "x", "outputs": [{"output_type": "stream", "name": "stdout", "text": "γ=7, T=3000\n"}]}]}`)
	if got := headingMismatches(bad); len(got) != 3 {
		t.Errorf("headingMismatches = %q, want 1,000 samples (200 drawn), γ = 5 (7 drawn) and T = 300 (3000)", got)
	}
	good := parse(t, `{"cells": [
		{"cell_type": "markdown", "source": "## 7. FID of 1,000 samples\n\nText with 3 steps is not a heading."},
		{"cell_type": "markdown", "source": "More text."},
		{"cell_type": "code", "source": "n := 1000", "outputs": [{"output_type": "display_data",
			"data": {"text/markdown": "| 1000 samples of scorenet | FID |"}}]},
		{"cell_type": "markdown", "source": "### 2.3 Sampling with T = 300 and 20 steps"},
		{"cell_type": "code", "source": "o.Steps = 20", "outputs": [{"output_type": "stream", "name": "stdout",
			"text": "DDIM, 20 steps, linear β 0.0001→0.02, T=300\n"}]}]}`)
	if got := headingMismatches(good); len(got) != 0 {
		t.Errorf("headingMismatches = %q on headings that agree with the cell below", got)
	}
}
