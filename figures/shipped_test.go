package figures

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
)

// TestSubstitutesPreferTheWidestShippedPair checks which shipped widths stand for the seed's
// D = 128 U-Net: the wide CPU width only when both its unconditional and its conditional model are
// shipped, else the narrow one; ScoreNet has no substitute. The shipped directories are links to
// the repository's committed models (ShippedRun verifies their checkpoints), renamed as needed. A
// width asked for (DDPM_NOTEBOOK_WIDTH) is the only one that stands in, pair or not.
func TestSubstitutesPreferTheWidestShippedPair(t *testing.T) {
	wd, _ := os.Getwd()
	repo, ok := mnist.RepoRoot(wd)
	if !ok {
		t.Skip("not inside the repository")
	}
	// A committed model with an intact checkpoint, linked under each name the case ships: which
	// model it is does not matter to substitutes, only that ShippedRun finds a checkpoint.
	source := filepath.Join(repo, ShippedDir, "assignment1-d64-cond")
	if _, err := os.Stat(source); err != nil {
		t.Skipf("committed model missing: %v", err)
	}
	wide, narrow := recipe.WideCPUHidden, recipe.CPUHidden
	name := func(d int, cond bool) string {
		n := "assignment1-d" + strconv.Itoa(d)
		if cond {
			n += "-cond"
		}
		return n
	}
	cases := []struct {
		what    string
		shipped []string
		model   string
		width   int // Env.Width (DDPM_NOTEBOOK_WIDTH); 0: unset
		want    []string
	}{
		{"wide conditional only: the pair is incomplete", []string{name(wide, true), name(narrow, false), name(narrow, true)},
			"assignment1-cond", 0, []string{"assignment1-cond", name(narrow, true)}},
		{"wide conditional only, unconditional model", []string{name(wide, true), name(narrow, false)},
			"assignment1", 0, []string{"assignment1", name(narrow, false)}},
		{"both wide models", []string{name(wide, false), name(wide, true), name(narrow, false), name(narrow, true)},
			"assignment1-cond", 0, []string{"assignment1-cond", name(wide, true), name(narrow, true)}},
		{"both wide models, unconditional model", []string{name(wide, false), name(wide, true)},
			"assignment1", 0, []string{"assignment1", name(wide, false), name(narrow, false)}},
		{"nothing shipped", nil, "assignment1", 0, []string{"assignment1", name(narrow, false)}},
		{"ScoreNet", []string{name(wide, false), name(wide, true)}, "scorenet", 0, []string{"scorenet"}},
		{"narrow width asked for, both pairs shipped", []string{name(wide, false), name(wide, true), name(narrow, false), name(narrow, true)},
			"assignment1-cond", narrow, []string{"assignment1-cond", name(narrow, true)}},
		{"wide width asked for, the pair incomplete", []string{name(wide, false), name(narrow, false)},
			"assignment1", wide, []string{"assignment1", name(wide, false)}},
		{"the seed's width asked for", []string{name(wide, false), name(wide, true)},
			"assignment1", 128, []string{"assignment1"}},
		{"a width asked for, ScoreNet", nil, "scorenet", narrow, []string{"scorenet"}},
	}
	for _, c := range cases {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, ShippedDir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range c.shipped {
			if err := os.Symlink(source, filepath.Join(root, ShippedDir, s)); err != nil {
				t.Fatal(err)
			}
		}
		full, err := recipe.Get(c.model)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range (&Env{Root: root, Width: c.width}).substitutes(full) {
			got = append(got, r.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: substitutes(%s) = %v, want %v", c.what, c.model, got, c.want)
		}
	}
}

// TestParseWidth checks the values of DDPM_NOTEBOOK_WIDTH: empty is the default choice, a positive
// integer a width, anything else an error naming the variable and the value.
func TestParseWidth(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{{"", 0, true}, {" 16 ", 16, true}, {"64", 64, true}, {"0", 0, false}, {"-16", 0, false}, {"d64", 0, false}, {"1.5", 0, false}} {
		got, err := ParseWidth(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseWidth(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), WidthEnv) || !strings.Contains(err.Error(), strings.TrimSpace(c.in))) {
			t.Errorf("ParseWidth(%q): error %q names neither %s nor the value", c.in, err, WidthEnv)
		}
	}
	t.Setenv(WidthEnv, "wide")
	if _, err := NewEnv(Quick, io.Discard); err == nil || !strings.Contains(err.Error(), WidthEnv) {
		t.Errorf("NewEnv with %s=wide: error %v, want one naming %s", WidthEnv, err, WidthEnv)
	}
}

// TestWidthChoosesTheShippedModel: with DDPM_NOTEBOOK_WIDTH=16 the notebooks load the committed
// D = 16 model; with a width nothing is shipped at, they say so and train the mode's recipe.
func TestWidthChoosesTheShippedModel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny model")
	}
	ctx := context.Background()
	e := tinyEnv(t, t.TempDir())
	if e.ShippedRun("assignment1-d16") == "" {
		t.Skip("models/assignment1-d16 is not in this checkout")
	}
	e.Width = 16
	m, err := e.Train(ctx, Assignment1)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Shipped || filepath.Base(m.Dir) != "assignment1-d16" {
		t.Errorf("width 16: loaded %s (shipped %v), want models/assignment1-d16", m.Dir, m.Shipped)
	}

	e = tinyEnv(t, t.TempDir())
	var log bytes.Buffer
	e.Log, e.Width = &log, 24
	m, err = e.Train(ctx, Assignment1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Shipped || !strings.Contains(log.String(), "no shipped model of width D = 24 ("+WidthEnv+")") {
		t.Errorf("width 24: shipped %v (%s), log %q; want a trained model and a line naming the width", m.Shipped, m.Dir, log.String())
	}
}
