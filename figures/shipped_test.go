package figures

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/recipe"
)

// TestSubstitutesPreferTheWidestShippedPair checks which shipped widths stand for the seed's
// D = 128 U-Net: the wide CPU width only when both its unconditional and its conditional model are
// shipped, else the narrow one; ScoreNet has no substitute. The shipped directories are links to
// the repository's committed models (ShippedRun verifies their checkpoints), renamed as needed.
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
		want    []string
	}{
		{"wide conditional only: the pair is incomplete", []string{name(wide, true), name(narrow, false), name(narrow, true)},
			"assignment1-cond", []string{"assignment1-cond", name(narrow, true)}},
		{"wide conditional only, unconditional model", []string{name(wide, true), name(narrow, false)},
			"assignment1", []string{"assignment1", name(narrow, false)}},
		{"both wide models", []string{name(wide, false), name(wide, true), name(narrow, false), name(narrow, true)},
			"assignment1-cond", []string{"assignment1-cond", name(wide, true), name(narrow, true)}},
		{"both wide models, unconditional model", []string{name(wide, false), name(wide, true)},
			"assignment1", []string{"assignment1", name(wide, false), name(narrow, false)}},
		{"nothing shipped", nil, "assignment1", []string{"assignment1", name(narrow, false)}},
		{"ScoreNet", []string{name(wide, false), name(wide, true)}, "scorenet", []string{"scorenet"}},
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
		for _, r := range (&Env{Root: root}).substitutes(full) {
			got = append(got, r.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: substitutes(%s) = %v, want %v", c.what, c.model, got, c.want)
		}
	}
}
