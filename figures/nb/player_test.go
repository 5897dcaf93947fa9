package nb

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/viz"
	"github.com/ddpm-go/ddpm/figures"
)

// testPlayer has 2×3 choices, 5 positions and 2 panels whose pixels encode (choice, position).
func testPlayer() *Player {
	return &Player{
		Name:    "test",
		Selects: []Select{{Name: "a", Options: []string{"0", "1"}, Initial: 1}, {Name: "b", Options: []string{"x", "y", "z"}}},
		Slider:  "t",
		Steps:   []string{"t = 1", "t = 2", "t = 3", "t = 4", "t = 5"},
		Initial: 2,
		Panels:  []string{"x_t", "pred. x_0"},
		Frame: func(c []int, pos int) []float32 {
			f := make([]float32, 2*figures.Pixels)
			for i := range f {
				f[i] = float32(c[0]*3+c[1])/6 - float32(pos)/10
			}
			return f
		},
		Caption: func(c []int, pos int) string { return fmt.Sprintf("a %d, b %d: t = %d", c[0], c[1], pos+1) },
	}
}

func TestPlayerHTML(t *testing.T) {
	p := testPlayer()
	out, err := p.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-ddpm-player="test"`, `class="ddpm-slider" min="0" max="4" step="1" value="2"`,
		`<option value="1" selected>1</option>`, `<img class="ddpm-view"`, "<script>\n(function"} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" class="ddpm-config">(.*?)</script>`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no config")
	}
	var cfg playerConfig
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sheets) != 6 || len(cfg.Captions) != 6 || fmt.Sprint(cfg.Strides) != "[3 1]" {
		t.Fatalf("%d sheets, %d caption lists, strides %v; want 6, 6, [3 1]", len(cfg.Sheets), len(cfg.Captions), cfg.Strides)
	}
	// Sheet 1·3+2 (a = 1, b = z): 5 rows of 2 panels, pixels as Frame made them.
	raw, _ := base64.StdEncoding.DecodeString(cfg.Sheets[5])
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 56 || b.Dy() != 5*28 {
		t.Fatalf("sheet is %v, want 56×140", b)
	}
	if cfg.Captions[5][3] != "a 1, b 2: t = 4" {
		t.Fatalf("caption %q", cfg.Captions[5][3])
	}
	r0, _, _, _ := img.At(30, 0).RGBA()
	r4, _, _, _ := img.At(30, 4*28+5).RGBA()
	if r0 <= r4 {
		t.Fatalf("later positions must be darker in the test frames: %d, %d", r0, r4)
	}
}

// TestPlayerStaticAndErrors checks the headless figure (both panels of the chosen view, drawn at the
// player's scale, and a different view for another position) and that bad players are refused.
func TestPlayerStaticAndErrors(t *testing.T) {
	p := testPlayer()
	img, err := p.Static(p.initialChoice(), p.Initial)
	if err != nil {
		t.Fatal(err)
	}
	// Choice (1, 0) at position 2: every pixel of both panels is 3/6 − 2/10 = 0.3.
	want := viz.ToGray(0.3)
	tile := 28 * p.scale()
	if n := countGray(img, want); n < 2*tile*tile {
		t.Fatalf("%d pixels of grey %d in the static figure, want the 2 panels' %d", n, want, 2*tile*tile)
	}
	other, err := p.Static(p.initialChoice(), 4)
	if err != nil {
		t.Fatal(err)
	}
	if n := countGray(other, want); n >= tile*tile {
		t.Fatalf("the view of position 4 still has %d pixels of position 2's grey", n)
	}
	p.Initial = 5
	if _, err := p.HTML(); err == nil {
		t.Fatal("initial position out of range accepted")
	}
	p.Initial = 0
	p.Frame = func([]int, int) []float32 { return make([]float32, 3) }
	if _, err := p.HTML(); err == nil {
		t.Fatal("a frame of the wrong size accepted by HTML")
	}
	if _, err := p.Static(p.initialChoice(), 0); err == nil {
		t.Fatal("a frame of the wrong size accepted by Static")
	}
}

// countGray counts the pixels of img whose grey level is v.
func countGray(img image.Image, v uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y == v {
				n++
			}
		}
	}
	return n
}
