package network

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/scorenet"
	"github.com/ddpm-go/ddpm/ddpm/unet"
)

// TestJSON checks both forms: a ScoreNet written as its own config (how every recipe.json before
// the U-Net was written, e.g. the shipped models'), a U-Net with "arch", and a clear error for an
// unknown arch.
func TestJSON(t *testing.T) {
	sn := scorenet.Default()
	sn.NumClasses = 10
	old, _ := json.Marshal(sn) // the format before Config existed
	var c Config
	if err := json.Unmarshal(old, &c); err != nil || c != FromScoreNet(sn) {
		t.Fatalf("old ScoreNet JSON: %+v, %v", c, err)
	}
	if b, _ := json.Marshal(c); string(b) != string(old) {
		t.Errorf("ScoreNet JSON changed: %s, want %s", b, old)
	}
	u := FromUNet(unet.Config{Hidden: 16, UpKernel: 4, NumClasses: 10})
	b, _ := json.Marshal(u)
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || back != u {
		t.Errorf("U-Net JSON %s read back as %+v, %v", b, back, err)
	}
	if back.NumClasses() != 10 || back.NullClass() != 10 || !back.Conditional() {
		t.Errorf("U-Net classes: %d, null %d", back.NumClasses(), back.NullClass())
	}
	err := json.Unmarshal([]byte(`{"arch": "resnet"}`), &back)
	if err == nil || !strings.Contains(err.Error(), `"resnet"`) {
		t.Errorf("unknown arch: %v", err)
	}
	if err := (Config{Arch: "x"}).Validate(); err == nil {
		t.Error("Validate accepted arch x")
	}
	*u.NumClassesField() = 0
	if u.UNet.NumClasses != 0 || u.Conditional() {
		t.Error("NumClassesField does not point at the U-Net's class count")
	}
}
