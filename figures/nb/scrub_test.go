package nb

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestScrubHTML checks the scrubber page: one slider per axis with its range and initial position,
// every frame in row-major order in the JSON data, the initial frame shown.
func TestScrubHTML(t *testing.T) {
	axes := []Axis{{Name: "digit", Labels: []string{"0", "1", "2"}, Initial: 1}, {Name: "t", Labels: []string{"10", "20"}, Initial: 1}}
	calls := 0
	page := ScrubHTML("s1", "Forward process", axes, func(i []int) (string, []byte) {
		calls++
		return fmt.Sprintf("digit %d, t %d", i[0], i[1]), []byte{byte(10*i[0] + i[1])}
	})
	if calls != 6 {
		t.Fatalf("%d frames rendered, want 3×2", calls)
	}
	if n := strings.Count(page, `type="range"`); n != 2 {
		t.Errorf("%d sliders, want 2", n)
	}
	if !strings.Contains(page, `data-axis="0" min="0" max="2" value="1"`) || !strings.Contains(page, `data-axis="1" min="0" max="1" value="1"`) {
		t.Errorf("slider ranges or initial values wrong:\n%s", page)
	}
	m := regexp.MustCompile(`<script type="application/json" id="s1_data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no frame data")
	}
	var frames []struct{ C, P string }
	if err := json.Unmarshal([]byte(m[1]), &frames); err != nil || len(frames) != 6 {
		t.Fatalf("frame data: %v, %d frames", err, len(frames))
	}
	if frames[3].C != "digit 1, t 1" || frames[5].C != "digit 2, t 1" { // row-major, last axis fastest
		t.Errorf("frame order: %+v", frames)
	}
	if !strings.Contains(page, `<p id="s1_cap">digit 1, t 1</p>`) {
		t.Error("the initial frame (digit 1, t 20) is not the one shown")
	}
}
