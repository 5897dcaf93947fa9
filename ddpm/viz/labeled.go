package viz

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

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
// title what every tile shares and in the labels what differs.
func LabeledGrid(images []float32, n, cols, scale int, labels []string, title string) (image.Image, error) {
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("viz: %d labels for %d images", len(labels), n)
	}
	const pad = 4
	grid, err := Grid(images, n, cols, 0, scale)
	if err != nil {
		return nil, err
	}
	tile := Side * scale
	labelFont := max(9, min(14, tile/6))
	labelH, titleH := 0, 0
	if labels != nil {
		labelH = labelFont + 6
	}
	if title != "" {
		titleH = 2*labelFont + 6
	}
	rows := (n + cols - 1) / cols
	cellW, cellH := tile+pad, tile+labelH+pad
	w, h := cols*cellW+pad, titleH+rows*cellH+pad
	// 72 dpi: one point is one pixel, so the digits are copied without resampling.
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(72), vgimg.UseBackgroundColor(color.White))
	out := c.Image().(draw.Image)
	for k := range n {
		x0, y0 := pad+(k%cols)*cellW, titleH+pad+(k/cols)*cellH
		src := image.Rect((k%cols)*tile, (k/cols)*tile, (k%cols+1)*tile, (k/cols+1)*tile)
		draw.Draw(out, image.Rect(x0, y0, x0+tile, y0+tile), grid, src.Min, draw.Src)
	}
	dc := vgdraw.New(c)
	style := func(size int) text.Style {
		return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Length(size)),
			XAlign: vgdraw.XCenter, YAlign: vgdraw.YTop, Handler: plot.DefaultTextHandler}
	}
	// vg's y axis points up: y = h − (pixels from the top).
	if title != "" {
		dc.FillText(style(labelFont+3), vg.Point{X: vg.Length(w) / 2, Y: vg.Length(h - 4)}, title)
	}
	for k, label := range labels {
		x0, y0 := pad+(k%cols)*cellW, titleH+pad+(k/cols)*cellH+tile+2
		dc.FillText(style(labelFont), vg.Point{X: vg.Length(x0 + tile/2), Y: vg.Length(h - y0)}, label)
	}
	return c.Image(), nil
}
