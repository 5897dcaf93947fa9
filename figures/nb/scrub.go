package nb

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// Axis is one slider of a Scrubber: its name and the label of each position.
type Axis struct {
	Name    string
	Labels  []string
	Initial int
}

// Scrub shows one slider per axis above a view of frame(index) (a caption and PNG bytes), with
// every frame rendered in advance: moving a slider switches frames in the browser, so the cell
// ends at once and the kernel stays free (no widget waits for a "Done"). Headless runs (and
// front ends that do not run the page's script) get the initial frame as a static PNG.
//
// Frames are indexed row-major over the axes (the last axis varies fastest); keep the product of
// the axes' lengths to a few hundred frames (each is sent as base64 PNG).
func Scrub(title string, axes []Axis, frame func(index []int) (caption string, png []byte)) {
	initial := make([]int, len(axes))
	for a, ax := range axes {
		initial[a] = ax.Initial
	}
	if Headless() {
		caption, png := frame(initial)
		Markdown("%s", caption)
		ShowPNG(png)
		return
	}
	gonbui.DisplayHTML(ScrubHTML("ddpm_scrub_"+gonbui.UniqueId(), title, axes, frame))
	gonbui.Sync()
}

// ScrubHTML renders the scrubber of Scrub: sliders (input type=range, data-axis=i), a caption
// span and an img, the frames as JSON in a script element, and an inline handler that shows the
// frame of the sliders' positions.
func ScrubHTML(id, title string, axes []Axis, frame func(index []int) (caption string, png []byte)) string {
	n := 1
	for _, ax := range axes {
		n *= len(ax.Labels)
	}
	type entry struct {
		C string `json:"c"`
		P string `json:"p"`
	}
	frames := make([]entry, n)
	index := make([]int, len(axes))
	for k := range n {
		rest := k
		for a := len(axes) - 1; a >= 0; a-- {
			index[a] = rest % len(axes[a].Labels)
			rest /= len(axes[a].Labels)
		}
		caption, png := frame(index)
		frames[k] = entry{caption, base64.StdEncoding.EncodeToString(png)}
	}
	start := 0
	for _, ax := range axes {
		start = start*len(ax.Labels) + ax.Initial
	}
	data, _ := json.Marshal(frames)
	labels, _ := json.Marshal(axisLabels(axes))
	var b strings.Builder
	fmt.Fprintf(&b, `<div id="%s" class="ddpm-scrub" data-labels="%s"><p><b>%s</b></p>`, id,
		html.EscapeString(string(labels)), html.EscapeString(title))
	// The handler reads every slider, computes the row-major frame index and swaps caption and image.
	handler := fmt.Sprintf(`var r=document.getElementById('%[1]s');var d=window['%[1]s_frames']||(window['%[1]s_frames']=JSON.parse(document.getElementById('%[1]s_data').textContent));`+
		`var L=JSON.parse(r.getAttribute('data-labels'));var k=0;r.querySelectorAll('input[data-axis]').forEach(function(s){var a=+s.getAttribute('data-axis');k=k*L[a].length+(+s.value);`+
		`document.getElementById('%[1]s_v'+a).textContent=L[a][+s.value];});var f=d[k];document.getElementById('%[1]s_img').src='data:image/png;base64,'+f.p;`+
		`document.getElementById('%[1]s_cap').textContent=f.c;`, id)
	for a, ax := range axes {
		fmt.Fprintf(&b, `<div><label>%s <input type="range" data-axis="%d" min="0" max="%d" value="%d" style="width:360px" oninput="%s"/> <span id="%s_v%d">%s</span></label></div>`,
			html.EscapeString(ax.Name), a, len(ax.Labels)-1, ax.Initial, html.EscapeString(handler), id, a, html.EscapeString(ax.Labels[ax.Initial]))
	}
	fmt.Fprintf(&b, `<p id="%s_cap">%s</p><img id="%s_img" src="data:image/png;base64,%s"/>`, id, html.EscapeString(frames[start].C), id, frames[start].P)
	fmt.Fprintf(&b, `<script type="application/json" id="%s_data">%s</script></div>`, id, strings.ReplaceAll(string(data), "</", `<\/`))
	return b.String()
}

func axisLabels(axes []Axis) [][]string {
	l := make([][]string, len(axes))
	for a, ax := range axes {
		l[a] = ax.Labels
	}
	return l
}
