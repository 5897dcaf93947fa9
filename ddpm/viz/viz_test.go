package viz

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
)

func TestGridLayoutAndGray(t *testing.T) {
	imgs := make([]float32, 3*Side*Side)
	for i := range Side * Side {
		imgs[i] = -1              // image 0 black
		imgs[Side*Side+i] = 1     // image 1 white
		imgs[2*Side*Side+i] = 0.0 // image 2 mid-gray
	}
	g, err := Grid(imgs, 3, 2, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if b := g.Bounds(); b.Dx() != 2*30+2 || b.Dy() != 2*30+2 {
		t.Fatalf("grid is %v, want 62x62 (2 cols, 2 rows, cell 30, pad 2)", b)
	}
	for _, c := range []struct {
		x, y int
		want uint8
	}{{2, 2, 0}, {32, 2, 255}, {2, 32, 128}, {0, 0, 255}, {40, 40, 255}} {
		if got := g.GrayAt(c.x, c.y).Y; got != c.want {
			t.Errorf("pixel (%d,%d) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
	if ToGray(float32(2)) != 255 || ToGray(-3) != 0 {
		t.Errorf("values outside [-1,1] are not clipped")
	}
	if _, err := Grid(imgs, 4, 2, 0, 1); err == nil {
		t.Errorf("Grid with too few values accepted")
	}
	data, err := EncodePNG(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

func TestPlotIsDeterministic(t *testing.T) {
	losses := []float32{1, 0.8, 0.5, 0.4, 0.35, 0.3, 0.31, 0.29}
	render := func() []byte {
		p, err := LinePlot("loss", "step", "MSE", true, LossSeries("run", losses, 2), Series{Name: "b", X: []float64{1, 8}, Y: []float64{0.9, 0.2}})
		if err != nil {
			t.Fatal(err)
		}
		data, err := PlotPNG(p, 300, 200)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	a, b := render(), render()
	if !bytes.Equal(a, b) || len(a) < 1000 {
		t.Fatalf("two renders of the same plot differ (%d vs %d bytes)", len(a), len(b))
	}
	s := LossSeries("x", losses, 4)
	if want := (1 + float64(float32(0.8)) + 0.5 + float64(float32(0.4))) / 4; len(s.X) != 5 || s.X[0] != 4 || s.Y[0] != want {
		t.Errorf("moving average: %+v", s)
	}
	if _, err := LinePlot("", "", "", true, Series{X: []float64{1}, Y: []float64{0}}); err == nil {
		t.Errorf("a zero on a log scale was accepted")
	}
}

// TestLabeledGrid checks the layout (tiles copied pixel for pixel under the title, labels in the
// space below each tile) and that it is deterministic.
func TestLabeledGrid(t *testing.T) {
	images := make([]float32, 3*Side*Side)
	for i := range images {
		images[i] = 1 // white digits on...
		if i%Side < 14 {
			images[i] = -1 // ...a half-black tile
		}
	}
	img, err := LabeledGrid(images, 3, 2, 2, []string{"t = 300", "t = 150", "t = 0"}, "Samples after 5 epochs")
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 2*(56+4)+4 || b.Dy() < 2*56 {
		t.Fatalf("size %v", b)
	}
	// Some dark pixels in the title band (text) and in the label band of the first tile.
	dark := func(r image.Rectangle) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
					n++
				}
			}
		}
		return n
	}
	titleBand := image.Rect(0, 0, b.Dx(), 20)
	if dark(titleBand) == 0 {
		t.Error("no title drawn")
	}
	if _, err := LabeledGrid(images, 3, 2, 2, []string{"one"}, ""); err == nil {
		t.Error("1 label for 3 images accepted")
	}
	again, _ := LabeledGrid(images, 3, 2, 2, []string{"t = 300", "t = 150", "t = 0"}, "Samples after 5 epochs")
	p1, _ := EncodePNG(img)
	p2, _ := EncodePNG(again)
	if string(p1) != string(p2) {
		t.Error("not deterministic")
	}
}

// TestLabeledGridClipsNothing checks that a title longer than the grid is wrapped (the image gets
// taller, not cut) and that a label wider than its tile widens the columns.
func TestLabeledGridClipsNothing(t *testing.T) {
	images := make([]float32, 2*Side*Side)
	short, err := LabeledGrid(images, 2, 2, 2, []string{"a", "b"}, "t")
	if err != nil {
		t.Fatal(err)
	}
	long := "class-conditional samples after 20 epochs of assignment1-d16-cond (DDPM, all T steps, σ²=beta, no clipping, γ=5)"
	wrapped, err := LabeledGrid(images, 2, 2, 2, []string{"a", "b"}, long)
	if err != nil {
		t.Fatal(err)
	}
	if wrapped.Bounds().Dx() != short.Bounds().Dx() || wrapped.Bounds().Dy() < short.Bounds().Dy()+3*10 {
		t.Errorf("a long title on a narrow grid: %v (short title: %v); want the same width and several more lines",
			wrapped.Bounds(), short.Bounds())
	}
	s := text.Style{Font: font.From(plot.DefaultFont, 12), Handler: plot.DefaultTextHandler}
	for _, line := range wrap(s, long, 120) {
		if float64(s.Width(line)) > 120 && strings.Contains(line, " ") {
			t.Errorf("line %q is wider than 120 points", line)
		}
	}
	wide, err := LabeledGrid(images, 2, 2, 2, []string{"a very long label indeed", "b"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if wide.Bounds().Dx() <= short.Bounds().Dx() {
		t.Errorf("a label wider than its tile did not widen the grid: %v", wide.Bounds())
	}
}
