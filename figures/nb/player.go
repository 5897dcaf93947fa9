package nb

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/png"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/viz"
	"github.com/ddpm-go/ddpm/figures"
	"github.com/janpfeifer/gonb/gonbui"
)

// Select is a drop-down choice of a Player (the digit, the seed).
type Select struct {
	Name    string
	Options []string
	Initial int
}

// Player is an interactive figure that does not keep the cell running: every frame it can show is
// computed when the cell runs and shipped with the cell's output (one PNG sprite sheet per
// combination of the Selects, one row of panels per slider position), and a few lines of JavaScript
// in the browser redraw the view when a control moves. The cell ends at once and the kernel stays
// free; the controls keep working in the open notebook (JupyterLab runs the output's script for
// outputs it trusts: those of this session, or of a trusted notebook).
//
// GoNB's own widgets (gonbui/widgets) talk to the cell's Go program, which ends with the cell: a view
// that must outlive the cell cannot use them. Headless runs (Headless) show the static figure of the
// initial choice instead (Static), so saved and exported notebooks keep a PNG.
type Player struct {
	Name    string   // the data-ddpm-player attribute of the output (what tests look for)
	Selects []Select // drop-downs (may be empty)
	Slider  string   // the slider's name (e.g. "t")
	Steps   []string // the label of each slider position (e.g. "t = 57")
	Initial int      // the initial slider position
	Panels  []string // the name written under each 28×28 panel
	Scale   int      // display scale of a panel (0: 4)
	Play    bool     // a play button that runs the slider from its position to the end
	// Frame returns the panels of slider position pos under the choice (one option index per
	// Select): len(Panels)×28×28 values in [−1, 1].
	Frame func(choice []int, pos int) []float32
	// Caption is the line drawn above the panels (it should say which t the panels show).
	Caption func(choice []int, pos int) string
}

func (p *Player) scale() int {
	if p.Scale > 0 {
		return p.Scale
	}
	return 4
}

// initialChoice is the choice of every Select's Initial option.
func (p *Player) initialChoice() []int {
	c := make([]int, len(p.Selects))
	for i, s := range p.Selects {
		c[i] = s.Initial
	}
	return c
}

// choices lists every combination of the Selects' options, the last Select varying fastest (the
// order of the sprite sheets).
func (p *Player) choices() [][]int {
	out := [][]int{{}}
	for _, s := range p.Selects {
		var next [][]int
		for _, c := range out {
			for o := range s.Options {
				next = append(next, append(append([]int(nil), c...), o))
			}
		}
		out = next
	}
	return out
}

func (p *Player) check() error {
	if len(p.Steps) == 0 || len(p.Panels) == 0 || p.Frame == nil || p.Caption == nil {
		return fmt.Errorf("nb: player %q needs steps, panels, Frame and Caption", p.Name)
	}
	if p.Initial < 0 || p.Initial >= len(p.Steps) {
		return fmt.Errorf("nb: player %q: initial position %d out of [0, %d)", p.Name, p.Initial, len(p.Steps))
	}
	for _, s := range p.Selects {
		if len(s.Options) == 0 || s.Initial < 0 || s.Initial >= len(s.Options) {
			return fmt.Errorf("nb: player %q: select %q has %d options, initial %d", p.Name, s.Name, len(s.Options), s.Initial)
		}
	}
	return nil
}

// Static returns the figure of one view: the panels side by side, each named under it, with the
// caption above them (viz.LabeledGrid).
func (p *Player) Static(choice []int, pos int) (image.Image, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	f := p.Frame(choice, pos)
	if n := len(p.Panels) * figures.Pixels; len(f) != n {
		return nil, fmt.Errorf("nb: player %q: frame %d has %d values, want %d", p.Name, pos, len(f), n)
	}
	return viz.LabeledGrid(f, len(p.Panels), len(p.Panels), p.scale(), p.Panels, p.Caption(choice, pos))
}

// Show displays the player: the live view, or in headless runs the static figure of the initial
// choice and position.
func (p *Player) Show() {
	if Headless() {
		ShowImage(p.Static(p.initialChoice(), p.Initial))
		return
	}
	gonbui.DisplayHtml(Must(p.HTML()))
	gonbui.Sync()
}

// sheet renders the frames of one choice: row k holds the panels of slider position k at scale 1.
func (p *Player) sheet(choice []int) ([]byte, error) {
	n, side := len(p.Panels), viz.Side
	img := image.NewGray(image.Rect(0, 0, n*side, len(p.Steps)*side))
	for k := range p.Steps {
		f := p.Frame(choice, k)
		if len(f) != n*figures.Pixels {
			return nil, fmt.Errorf("nb: player %q: frame %d has %d values, want %d", p.Name, k, len(f), n*figures.Pixels)
		}
		for j := range n {
			for y := range side {
				for x := range side {
					img.Pix[(k*side+y)*img.Stride+j*side+x] = viz.ToGray(f[j*figures.Pixels+y*side+x])
				}
			}
		}
	}
	var buf bytes.Buffer
	err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img)
	return buf.Bytes(), err
}

// playerConfig is what the page's script reads.
type playerConfig struct {
	Steps    []string   `json:"steps"`
	Panels   []string   `json:"panels"`
	Scale    int        `json:"scale"`
	Strides  []int      `json:"strides"`  // choice → sheet index: Σ choice[i]·strides[i]
	Sheets   []string   `json:"sheets"`   // base64 PNG per combination
	Captions [][]string `json:"captions"` // per combination, per slider position
}

// HTML renders the live view: controls, the image, the frames and the script that connects them.
func (p *Player) HTML() (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	cfg := playerConfig{Steps: p.Steps, Panels: p.Panels, Scale: p.scale()}
	cfg.Strides = make([]int, len(p.Selects))
	stride := 1
	for i := len(p.Selects) - 1; i >= 0; i-- {
		cfg.Strides[i] = stride
		stride *= len(p.Selects[i].Options)
	}
	for _, c := range p.choices() {
		png, err := p.sheet(c)
		if err != nil {
			return "", err
		}
		cfg.Sheets = append(cfg.Sheets, base64.StdEncoding.EncodeToString(png))
		caps := make([]string, len(p.Steps))
		for k := range p.Steps {
			caps[k] = p.Caption(c, k)
		}
		cfg.Captions = append(cfg.Captions, caps)
	}
	data, err := json.Marshal(cfg) // escapes <, > and &: safe inside <script>
	if err != nil {
		return "", err
	}
	id := "ddpm_player_" + gonbui.UniqueId()
	esc := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<div id="%s" class="ddpm-player" data-ddpm-player="%s" data-lm-suppress-shortcuts="true" style="font-family: sans-serif; font-size: 14px">`, id, esc(p.Name))
	b.WriteString(`<div class="ddpm-controls" style="display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin-bottom: 6px">`)
	for i, s := range p.Selects {
		fmt.Fprintf(&b, `<label>%s <select class="ddpm-select" data-index="%d" aria-label="%s">`, esc(s.Name), i, esc(s.Name))
		for o, opt := range s.Options {
			sel := ""
			if o == s.Initial {
				sel = " selected"
			}
			fmt.Fprintf(&b, `<option value="%d"%s>%s</option>`, o, sel, esc(opt))
		}
		b.WriteString(`</select></label>`)
	}
	fmt.Fprintf(&b, `<label>%s <button type="button" class="ddpm-prev" title="previous">◀</button>`+
		`<input type="range" class="ddpm-slider" min="0" max="%d" step="1" value="%d" aria-label="%s" style="width: 320px; vertical-align: middle">`+
		`<button type="button" class="ddpm-next" title="next">▶</button></label>`,
		esc(p.Slider), len(p.Steps)-1, p.Initial, esc(p.Slider))
	if p.Play {
		b.WriteString(`<button type="button" class="ddpm-play">play</button>`)
	}
	fmt.Fprintf(&b, `<output class="ddpm-step" style="font-family: monospace">%s</output></div>`, esc(p.Steps[p.Initial]))
	b.WriteString(`<img class="ddpm-view" alt="loading…" style="display: block; max-width: none"/>`)
	fmt.Fprintf(&b, `<script type="application/json" class="ddpm-config">%s</script>`, data)
	fmt.Fprintf(&b, "<script>\n%s\n</script></div>", strings.ReplaceAll(playerJS, "{{ID}}", id))
	return b.String(), nil
}

// playerJS draws the selected frame into a canvas and shows it as the image (a PNG data URL: the
// image's src changes with every view, which the browser test checks).
const playerJS = `(function () {
  const root = document.getElementById("{{ID}}");
  if (!root || root.dataset.started) return;
  root.dataset.started = "1";
  const cfg = JSON.parse(root.querySelector("script.ddpm-config").textContent);
  const selects = Array.from(root.querySelectorAll("select.ddpm-select"));
  const slider = root.querySelector("input.ddpm-slider");
  const step = root.querySelector("output.ddpm-step");
  const view = root.querySelector("img.ddpm-view");
  const play = root.querySelector("button.ddpm-play");
  const sheets = cfg.sheets.map(function (b64) {
    const im = new Image();
    im.src = "data:image/png;base64," + b64;
    return im;
  });
  const canvas = document.createElement("canvas");
  const n = cfg.panels.length, cell = 28 * cfg.scale, pad = 4, head = 24, foot = 22;
  canvas.width = pad + n * (cell + pad);
  canvas.height = head + cell + foot;
  const ctx = canvas.getContext("2d");
  let timer = null;
  function draw() {
    let c = 0;
    selects.forEach(function (s) { c += Number(s.value) * cfg.strides[Number(s.dataset.index)]; });
    const pos = Number(slider.value), sheet = sheets[c];
    if (!sheet.complete) { sheet.addEventListener("load", draw, { once: true }); return; }
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#000";
    ctx.font = "14px sans-serif";
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(cfg.captions[c][pos], pad, 5);
    ctx.imageSmoothingEnabled = false;
    ctx.textAlign = "center";
    for (let k = 0; k < n; k++) {
      const x = pad + k * (cell + pad);
      ctx.drawImage(sheet, k * 28, pos * 28, 28, 28, x, head, cell, cell);
      ctx.fillText(cfg.panels[k], x + cell / 2, head + cell + 5);
    }
    view.src = canvas.toDataURL("image/png");
    view.alt = cfg.captions[c][pos];
    step.textContent = cfg.steps[pos];
    root.dataset.position = String(pos);
    root.dataset.draws = String(Number(root.dataset.draws || 0) + 1);
  }
  function move(d) {
    slider.value = String(Math.min(Number(slider.max), Math.max(0, Number(slider.value) + d)));
    draw();
  }
  // Keys typed on the controls are theirs (arrows move the slider), not JupyterLab's notebook shortcuts.
  root.addEventListener("keydown", function (e) { e.stopPropagation(); });
  selects.forEach(function (s) { s.addEventListener("change", draw); });
  slider.addEventListener("input", draw);
  root.querySelector("button.ddpm-prev").addEventListener("click", function () { move(-1); });
  root.querySelector("button.ddpm-next").addEventListener("click", function () { move(1); });
  if (play) play.addEventListener("click", function () {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "play"; return; }
    if (Number(slider.value) >= Number(slider.max)) slider.value = "0";
    play.textContent = "pause";
    timer = setInterval(function () {
      if (!root.isConnected || Number(slider.value) >= Number(slider.max)) {
        clearInterval(timer); timer = null; play.textContent = "play"; return;
      }
      move(1);
    }, 60);
  });
  draw();
})();`
