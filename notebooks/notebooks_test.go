// Package notebooks holds the checks of the committed GoNB notebooks of this directory (it has no
// Go code of its own): what a reader sees on GitHub must be what a run produced, with no error
// outputs, no machine-specific absolute paths, and headings whose numbers agree with the cell
// below them.
package notebooks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// notebook is the part of the .ipynb format (nbformat 4) the checks read.
type notebook struct {
	Cells []cell `json:"cells"`
}

type cell struct {
	Type    string   `json:"cell_type"`
	Source  lines    `json:"source"`
	Outputs []output `json:"outputs"`
}

type output struct {
	Type   string           `json:"output_type"`
	Name   string           `json:"name"` // stream: stdout or stderr
	Text   lines            `json:"text"`
	Data   map[string]lines `json:"data"`
	EName  string           `json:"ename"`
	EValue string           `json:"evalue"`
}

// lines is a multi-line string, stored by nbformat as a string or a list of strings.
type lines string

func (l *lines) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = lines(s)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*l = lines(strings.Join(list, ""))
	return nil
}

// text is what a reader reads in an output: streams, markdown, plain text and error messages
// (images are not text).
func (o output) text() string {
	s := string(o.Text) + o.EName + " " + o.EValue
	for mime, v := range o.Data {
		if strings.HasPrefix(mime, "text/") {
			s += "\n" + string(v)
		}
	}
	return s
}

// load reads every notebook of this directory.
func load(t *testing.T) map[string]notebook {
	t.Helper()
	paths, err := filepath.Glob("*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no notebooks found in notebooks/")
	}
	out := map[string]notebook{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var nb notebook
		if err := json.Unmarshal(data, &nb); err != nil {
			t.Fatalf("%s: not a notebook: %v", p, err)
		}
		out[p] = nb
	}
	return out
}

// errorOutputs lists the error outputs of a notebook: outputs of type "error", and stderr streams
// that report a panic or an error (GoNB prints a failed cell's compiler errors and panics there).
func errorOutputs(nb notebook) []string {
	var problems []string
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			switch {
			case o.Type == "error":
				problems = append(problems, fmt.Sprintf("cell %d: error output %s: %.200s", i, o.EName, o.EValue))
			case o.Type == "stream" && o.Name == "stderr":
				low := strings.ToLower(string(o.Text))
				if strings.Contains(low, "panic") || strings.Contains(low, "error") {
					problems = append(problems, fmt.Sprintf("cell %d: error on stderr: %.200s", i, o.Text))
				}
			}
		}
	}
	return problems
}

// absPath matches an absolute path of two or more components at the start of a word (not the
// "/s" of "steps/s" nor the "//host" of a URL).
var absPath = regexp.MustCompile(`(?:^|[\s"'(\[=:,;])(/[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)+)`)

// systemDirs are the absolute locations that are the same on every Linux machine (a backend's
// plugin search path, the system Jupyter); anything else (a home, a checkout, /tmp) is the
// machine's own and must not be committed.
var systemDirs = []string{"/usr/", "/etc/", "/dev/", "/proc/", "/sys/"}

// absolutePaths lists the machine-specific absolute paths in a notebook's sources and outputs.
func absolutePaths(nb notebook) []string {
	var problems []string
	check := func(i int, where, s string) {
		for _, m := range absPath.FindAllStringSubmatch(s, -1) {
			system := false
			for _, d := range systemDirs {
				system = system || strings.HasPrefix(m[1], d)
			}
			if !system {
				problems = append(problems, fmt.Sprintf("cell %d: absolute path %s in its %s", i, m[1], where))
			}
		}
	}
	for i, c := range nb.Cells {
		check(i, "source", string(c.Source))
		for _, o := range c.Outputs {
			check(i, "output", o.text())
		}
	}
	return problems
}

// A count in a heading ("1,000 samples", "20 steps") or a setting ("T = 300", "N=200", "γ = 5").
var (
	headingCount = regexp.MustCompile(`(\d{1,3}(?:,\d{3})+|\d+)\s+(samples?|steps?|images?|epochs?|digits?|chains?|frames?|rows?|columns?)\b`)
	headingValue = regexp.MustCompile(`(?:^|[^A-Za-z])(T|N|w|γ)\s*=\s*(\d{1,3}(?:,\d{3})+|\d+)`)
)

// claim is a number a heading states, with the patterns that find it in the cell below.
type claim struct {
	text string
	find *regexp.Regexp
}

// numberPattern matches n written with or without thousands separators (1,000 or 1000).
func numberPattern(n string) string {
	plain := strings.ReplaceAll(n, ",", "")
	var grouped strings.Builder
	for i, r := range plain {
		if i > 0 && (len(plain)-i)%3 == 0 {
			grouped.WriteByte(',')
		}
		grouped.WriteRune(r)
	}
	return `(?:` + regexp.QuoteMeta(plain) + `|` + regexp.QuoteMeta(grouped.String()) + `)`
}

// headingClaims lists the counts and settings stated by the markdown headings of s.
func headingClaims(s string) []claim {
	var out []claim
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range headingCount.FindAllStringSubmatch(line, -1) {
			unit := strings.TrimSuffix(m[2], "s")
			out = append(out, claim{text: m[0],
				find: regexp.MustCompile(`(?:^|[^\d.,])` + numberPattern(m[1]) + `\s+` + regexp.QuoteMeta(unit) + `s?\b`)})
		}
		for _, m := range headingValue.FindAllStringSubmatch(line, -1) {
			out = append(out, claim{text: m[1] + " = " + m[2],
				find: regexp.MustCompile(`(?:^|[^A-Za-z])` + regexp.QuoteMeta(m[1]) + `\s*=\s*` + numberPattern(m[2]) + `(?:[^\d]|$)`)})
		}
	}
	return out
}

// headingMismatches lists the headings whose counts do not appear in the first code cell below
// them (its source or its outputs): a "1,000 samples" heading over a cell that draws 200.
func headingMismatches(nb notebook) []string {
	var problems []string
	for i, c := range nb.Cells {
		if c.Type != "markdown" {
			continue
		}
		claims := headingClaims(string(c.Source))
		if len(claims) == 0 {
			continue
		}
		below := -1
		for j := i + 1; j < len(nb.Cells); j++ {
			if nb.Cells[j].Type == "code" {
				below = j
				break
			}
		}
		if below < 0 {
			for _, cl := range claims {
				problems = append(problems, fmt.Sprintf("cell %d: heading states %q but no code cell follows", i, cl.text))
			}
			continue
		}
		text := string(nb.Cells[below].Source)
		for _, o := range nb.Cells[below].Outputs {
			text += "\n" + o.text()
		}
		for _, cl := range claims {
			if !cl.find.MatchString(text) {
				problems = append(problems, fmt.Sprintf("cell %d: heading states %q, which cell %d (the code below it) "+
					"neither computes nor prints", i, cl.text, below))
			}
		}
	}
	return problems
}

// TestCommittedNotebooks checks every notebook of this directory as committed.
func TestCommittedNotebooks(t *testing.T) {
	for name, nb := range load(t) {
		for _, check := range []struct {
			what string
			fn   func(notebook) []string
		}{{"error output", errorOutputs}, {"absolute path", absolutePaths}, {"heading", headingMismatches}} {
			for _, p := range check.fn(nb) {
				t.Errorf("%s: %s", name, p)
			}
		}
		executed := false
		for _, c := range nb.Cells {
			executed = executed || len(c.Outputs) > 0
		}
		if !executed {
			t.Errorf("%s: committed without outputs (run scripts/run_notebooks.sh and commit the result)", name)
		}
	}
}
