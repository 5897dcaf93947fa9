package viz

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// LabeledGrid draws n images (n×28×28 values in [−1, 1]) in rows of cols, each pixel a
// scale×scale block, with labels[k] (if any) under image k and the title (if any) above the grid:
// a sample grid that says what it shows (class, t, guidance, sampler). The caller writes in the
// title what every tile shares and in the labels what differs. Nothing is clipped: the title is
// wrapped at spaces into as many lines as the grid's width needs, and the labels' font shrinks
// (down to 7 points) until the widest fits its tile; a label wider than that widens the columns.
func LabeledGrid(images []float32, n, cols, scale int, labels []string, title string) (image.Image, error) {
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("viz: %d labels for %d images", len(labels), n)
	}
	if n < 1 || cols < 1 {
		return nil, fmt.Errorf("viz: %d images in rows of %d", n, cols)
	}
	const pad = 4
	grid, err := Grid(images, n, cols, 0, scale)
	if err != nil {
		return nil, err
	}
	tile := Side * scale
	style := func(size float64) text.Style {
		return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Length(size)),
			XAlign: vgdraw.XCenter, YAlign: vgdraw.YTop, Handler: plot.DefaultTextHandler}
	}
	base := float64(max(9, min(14, tile/6)))
	labelSize, labelW := base, 0.0
	for labelSize > 7 && widest(style(labelSize), labels) > float64(tile+pad-2) {
		labelSize--
	}
	labelW = widest(style(labelSize), labels)
	cellW := max(tile+pad, int(math.Ceil(labelW))+pad)
	labelH := 0
	if labels != nil {
		labelH = int(labelSize) + 6
	}
	rows := (n + cols - 1) / cols
	cellH := tile + labelH + pad
	w := cols*cellW + pad
	titleStyle := style(base + 3)
	var lines []string
	if title != "" {
		lines = wrap(titleStyle, title, float64(w-2*pad))
	}
	lineH := int(base+3) + 4
	titleH := 0
	if len(lines) > 0 {
		titleH = len(lines)*lineH + 6
	}
	h := titleH + rows*cellH + pad
	// 72 dpi: one point is one pixel, so the digits are copied without resampling.
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(72), vgimg.UseBackgroundColor(color.White))
	out := c.Image().(draw.Image)
	for k := range n {
		x0, y0 := pad+(k%cols)*cellW+(cellW-pad-tile)/2, titleH+pad+(k/cols)*cellH
		src := image.Rect((k%cols)*tile, (k/cols)*tile, (k%cols+1)*tile, (k/cols+1)*tile)
		draw.Draw(out, image.Rect(x0, y0, x0+tile, y0+tile), grid, src.Min, draw.Src)
	}
	dc := vgdraw.New(c)
	// vg's y axis points up: y = h − (pixels from the top).
	for i, line := range lines {
		dc.FillText(titleStyle, vg.Point{X: vg.Length(w) / 2, Y: vg.Length(h - 4 - i*lineH)}, line)
	}
	for k, label := range labels {
		x0, y0 := pad+(k%cols)*cellW, titleH+pad+(k/cols)*cellH+tile+2
		dc.FillText(style(labelSize), vg.Point{X: vg.Length(x0 + (cellW-pad)/2), Y: vg.Length(h - y0)}, label)
	}
	return c.Image(), nil
}

// widest is the width of the widest of labels in style s, in points.
func widest(s text.Style, labels []string) float64 {
	var m float64
	for _, l := range labels {
		m = math.Max(m, float64(s.Width(l)))
	}
	return m
}

// wrap splits txt at spaces into lines no wider than width in style s (a single word wider than
// width gets a line of its own).
func wrap(s text.Style, txt string, width float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(txt) {
		try := word
		if line != "" {
			try = line + " " + word
		}
		if line != "" && float64(s.Width(try)) > width {
			lines = append(lines, line)
			try = word
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
