// Package progress reports long work as a bar with rate and ETA: redrawn in place on terminals
// and in notebooks (GoNB), as periodic plain lines in logs (CI, pipes).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gomlx/gomlx/ui/notebooks"
)

// Bar tracks progress of `total` units of work.
type Bar struct {
	w           io.Writer
	label, unit string
	total       int
	start, last time.Time
	inPlace     bool
	every       time.Duration
	done        int
	startDone   int // amount already done when the bar started (resumed work): excluded from the rate
}

// New starts a bar writing to w (os.Stdout if nil).
func New(w io.Writer, label string, total int, unit string) *Bar {
	if w == nil {
		w = os.Stdout
	}
	b := &Bar{w: w, label: label, total: total, unit: unit, start: time.Now(), inPlace: interactive(w)}
	b.every = 10 * time.Second
	if b.inPlace {
		b.every = 250 * time.Millisecond
	}
	return b
}

// interactive reports whether w is a terminal or a notebook cell (where \r redraws a line).
func interactive(w io.Writer) bool {
	if notebooks.IsNotebook() {
		return true
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Resume tells the bar that `done` units were already done before it started (a resumed run), so
// that the rate and ETA count only this session's work.
func (b *Bar) Resume(done int) *Bar {
	b.startDone, b.done = done, done
	return b
}

// Update sets the amount done; extra (e.g. "loss 0.0412") is shown after the rate.
func (b *Bar) Update(done int, extra string) {
	b.done = done
	now := time.Now()
	if now.Sub(b.last) < b.every && done < b.total {
		return
	}
	b.last = now
	b.print(extra)
}

// Finish prints the final state (in logs, only if it was not just printed) and ends the line.
func (b *Bar) Finish(extra string) {
	if b.inPlace {
		b.print(extra)
		fmt.Fprintln(b.w)
	} else if extra != "" || b.last.IsZero() {
		b.print(extra)
	}
}

func (b *Bar) print(extra string) {
	elapsed := time.Since(b.start)
	rate := float64(b.done-b.startDone) / elapsed.Seconds()
	eta := "?"
	if rate > 0 && b.done <= b.total {
		eta = time.Duration(float64(b.total-b.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	frac := 0.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
	}
	const width = 30
	filled := min(width, int(frac*width))
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	line := fmt.Sprintf("%s [%s] %d/%d %s (%3.0f%%) %.2f %s/s, elapsed %s, ETA %s",
		b.label, bar, b.done, b.total, b.unit, 100*frac, rate, b.unit, elapsed.Round(time.Second), eta)
	if extra != "" {
		line += ", " + extra
	}
	if b.inPlace {
		fmt.Fprintf(b.w, "\r%s\033[K", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}
