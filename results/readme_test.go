package results_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// evaluation is the part of a `ddpm fid --json` file that the README quotes.
type evaluation struct {
	Source string `json:"source"`
	Date   string `json:"date"`
	Rows   []row  `json:"rows"`
}

type row struct {
	N             int      `json:"n"`
	FID           float64  `json:"fid"`
	FIDFloor      float64  `json:"fid_floor"`
	FIDFloorStd   float64  `json:"fid_floor_std"`
	KID           float64  `json:"kid_mean"`
	KIDStd        float64  `json:"kid_std"`
	KIDFloor      float64  `json:"kid_floor_mean"`
	KIDFloorStd   float64  `json:"kid_floor_std"`
	Score         float64  `json:"score"`
	Confident     *float64 `json:"confident"`
	ConfidentFl   *float64 `json:"confident_floor"`
	ClassAccuracy *float64 `json:"class_accuracy"`
}

var (
	linkRE   = regexp.MustCompile(`\]\((results/[^)]+\.json)\)`)
	sourceRE = regexp.MustCompile(`^model (\S+) \(([^)]*)\), (.*), seed (\d+), (\d+) samples in (\d+)s$`)
	pctRE    = regexp.MustCompile(`^(\d+\.(\d+))%`)
)

// splitRow splits a markdown table row into its trimmed cells ("\|" is a pipe inside a cell).
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	parts := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(strings.ReplaceAll(p, "\x00", `\|`))
	}
	return parts
}

// scriptRow is scripts/results_table.py's row for r of e (the file at path), cell by cell.
func scriptRow(t *testing.T, path string, e evaluation, r row) []string {
	m := sourceRE.FindStringSubmatch(e.Source)
	if m == nil {
		t.Fatalf("%s: source %q is not in `ddpm fid`'s form", path, e.Source)
	}
	acc := "–"
	if r.ClassAccuracy != nil {
		acc = fmt.Sprintf("%.1f%%", 100**r.ClassAccuracy)
	}
	conf, confFloor := "NaN", "NaN"
	if r.Confident != nil && r.ConfidentFl != nil {
		conf, confFloor = fmt.Sprintf("%.1f", 100**r.Confident), fmt.Sprintf("%.1f", 100**r.ConfidentFl)
	}
	return []string{
		"`" + m[2] + "`", strings.SplitN(m[1], "/checkpoints/", 2)[0], strings.ReplaceAll(m[3], "|", `\|`),
		strconv.Itoa(r.N),
		fmt.Sprintf("%.1f (%.1f ± %.1f) = %.2f×", r.FID, r.FIDFloor, r.FIDFloorStd, r.FID/r.FIDFloor),
		fmt.Sprintf("%.0f ± %.0f (%.0f ± %.0f)", r.KID, r.KIDStd, r.KIDFloor, r.KIDFloorStd),
		fmt.Sprintf("%s%% (%s%%)", conf, confFloor), acc,
		fmt.Sprintf("[%s](%s)", e.Date[:min(10, len(e.Date))], path),
	}
}

// checkCell checks one cell of a hand-written table against r, by its column's header; columns the
// README fills by hand (model, sampler, comments) are not checked. Bold markers are ignored.
func checkCell(header, cell string, r row) error {
	cell = strings.ReplaceAll(cell, "**", "")
	h := strings.ToLower(header)
	var want string
	switch {
	case h == "n":
		want = strconv.Itoa(r.N)
		cell = strings.ReplaceAll(cell, ",", "")
	case strings.HasPrefix(h, "fid"):
		want = fmt.Sprintf("%.1f = %.2f×", r.FID, r.FID/r.FIDFloor)
		if strings.Contains(cell, "±") {
			want = fmt.Sprintf("%.1f (%.1f ± %.1f) = %.2f×", r.FID, r.FIDFloor, r.FIDFloorStd, r.FID/r.FIDFloor)
		}
	case strings.HasPrefix(h, "kid"):
		want = fmt.Sprintf("%.0f ± %.0f", r.KID, r.KIDStd)
		cell, _, _ = strings.Cut(cell, " (")
	case strings.HasPrefix(h, "confident"):
		if r.Confident == nil {
			return fmt.Errorf("the file has no confident share")
		}
		cell, _, _ = strings.Cut(cell, " ")
		want = fmt.Sprintf("%.1f%%", 100**r.Confident)
	case strings.HasPrefix(h, "class acc"):
		want = "–"
		if r.ClassAccuracy != nil {
			m := pctRE.FindStringSubmatch(cell)
			if m == nil {
				return fmt.Errorf("column %q: %q is not a percentage", header, cell)
			}
			want, cell = fmt.Sprintf("%.*f%%", len(m[2]), 100**r.ClassAccuracy), m[0]
		}
	case strings.HasPrefix(h, "classifier score"):
		want = fmt.Sprintf("%.2f", r.Score)
	default:
		return nil
	}
	if cell != want {
		return fmt.Errorf("column %q says %q; the file says %q", header, cell, want)
	}
	return nil
}

// TestREADMEQuotesItsResults: every README table row that links an evaluation file in results/ shows
// that file's numbers (FID and its ratio to the floor, KID, confident share, class accuracy,
// classifier score) at the row's N; rows in scripts/results_table.py's form match its output whole.
// A re-run evaluation whose README row was not updated, or a number copied wrong, fails here.
func TestREADMEQuotesItsResults(t *testing.T) {
	text, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var header []string
	checked := 0
	for i, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := splitRow(line)
		if header == nil {
			header = cells
			continue
		}
		links := linkRE.FindAllStringSubmatch(line, -1)
		if len(links) != 1 {
			continue // separator, a row without a file, or one citing several
		}
		path := links[0][1]
		where := fmt.Sprintf("README.md:%d (%s)", i+1, path)
		b, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		var e evaluation
		if err := json.Unmarshal(b, &e); err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if len(cells) != len(header) {
			t.Errorf("%s: %d cells under a header of %d", where, len(cells), len(header))
			continue
		}
		r, ok := rowAt(e, header, cells)
		if !ok {
			t.Errorf("%s: the file has no row at the row's N (its N: %v)", where, ns(e))
			continue
		}
		checked++
		if strings.Join(header, "|") == "recipe|model|sampler|N|FID (floor) = ratio|KID (floor)|confident ≥ 0.9 (floor)|class acc.|file" {
			if want := scriptRow(t, path, e, r); strings.Join(cells, " | ") != strings.Join(want, " | ") {
				t.Errorf("%s:\n  README: | %s |\n  script: | %s |", where, strings.Join(cells, " | "), strings.Join(want, " | "))
			}
			continue
		}
		for j, h := range header {
			if err := checkCell(h, cells[j], r); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked %d rows that cite a results file; the README has more than 50: is the parser lost?", checked)
	}
}

// rowAt is the file's row at the N of the README row's "N" column (the only row when there is none).
func rowAt(e evaluation, header, cells []string) (row, bool) {
	for j, h := range header {
		if h == "N" {
			n, err := strconv.Atoi(strings.ReplaceAll(cells[j], ",", ""))
			for _, r := range e.Rows {
				if err == nil && r.N == n {
					return r, true
				}
			}
			return row{}, false
		}
	}
	if len(e.Rows) == 1 {
		return e.Rows[0], true
	}
	return row{}, false
}

func ns(e evaluation) []int {
	var out []int
	for _, r := range e.Rows {
		out = append(out, r.N)
	}
	return out
}
