package fid

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadNpy feeds arbitrary bytes to the .npy reader used by
// ReadNpyMatrix and ReadNpyImages (npyio behind readNpy's checks). The seed corpus is in
// testdata/fuzz/FuzzReadNpy (made by testdata/make_npy_fixtures.py) plus
// the .npy fixtures. The reader must never panic, never allocate more than
// the input's size (bounded by construction: every size is checked against
// the input length first), and accepted arrays must be consistent with
// their header.
func FuzzReadNpy(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := readNpy(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if got := len(a.f32) + len(a.f64) + len(a.u8); got != a.count || got*a.elemSize() > len(data) {
			t.Fatalf("%d elements of %d bytes decoded for a count of %d (input %d bytes)", got, a.elemSize(), a.count, len(data))
		}
		n := 1
		for _, d := range a.shape {
			n *= d
		}
		if n != a.count {
			t.Fatalf("count %d != product of shape %v", a.count, a.shape)
		}
		if m, err := npyToMatrix(a); err == nil {
			if r, c := m.Dims(); r*c != a.count || r != a.shape[0] {
				t.Fatalf("matrix %d×%d from shape %v", r, c, a.shape)
			}
		} else if !strings.Contains(err.Error(), "shape") {
			t.Fatalf("matrix error without the shape: %v", err)
		}
		if imgs, n, err := npyToImages(a); err == nil && len(imgs) != n*ImagePixels {
			t.Fatalf("%d pixels for %d images", len(imgs), n)
		}
	})
}
