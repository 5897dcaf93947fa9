package fid

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
)

// Fixtures come from testdata/make_npy_fixtures.py (real NumPy). Float
// fixtures hold 0.25·c − 1 at C-order flat index c; uint8 ones hold c % 256.

func TestReadNpyMatrixFixtures(t *testing.T) {
	for _, tc := range []struct {
		file       string
		rows, cols int
		uint8      bool
	}{
		{"f32_2d.npy", 5, 3, false},
		{"f64_2d.npy", 4, 6, false},
		{"u8_2d.npy", 3, 7, true},
		{"f32_3d.npy", 2, 12, false},         // 2×3×4 flattened
		{"f64_fortran_2d.npy", 3, 5, false},  // column-major storage
		{"f32_fortran_3d.npy", 2, 12, false}, // column-major 3-D
		{"f32_bigendian.npy", 3, 2, false},
		{"f64_v2.npy", 2, 3, false}, // format version 2.0
		{"u8_images.npy", 2, 784, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := ReadNpyMatrix(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if r, c := m.Dims(); r != tc.rows || c != tc.cols {
				t.Fatalf("dims %d×%d, want %d×%d", r, c, tc.rows, tc.cols)
			}
			for i := range tc.rows {
				for j := range tc.cols {
					c := i*tc.cols + j
					want := 0.25*float64(c) - 1
					if tc.uint8 {
						want = float64(c % 256)
					}
					if got := m.At(i, j); got != want {
						t.Fatalf("[%d,%d] = %v, want %v", i, j, got, want)
					}
				}
			}
		})
	}
}

func TestReadNpyErrors(t *testing.T) {
	notNpy := filepath.Join("testdata", "make_npy_fixtures.py")
	for _, tc := range []struct {
		file   string
		images bool // use ReadNpyImages
		want   []string
	}{
		{"invalid_1d.npy", false, []string{"1-D array of shape (5,)", "want N×D"}},
		{"invalid_0d.npy", false, []string{"0-D array of shape ()"}},
		{"invalid_int64.npy", false, []string{`unsupported dtype "<i8"`}},
		{"invalid_empty.npy", false, []string{"empty array of shape (0, 3)"}},
		{"invalid_truncated.npy", false, []string{"truncated data", "needs 48 bytes, file has 43"}},
		{"does_not_exist.npy", false, []string{"no such file"}},
		{"f32_2d.npy", true, []string{"shape (5, 3): want N×28×28"}},
		{"invalid_1d.npy", true, []string{"shape (5,)"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			var err error
			if tc.images {
				_, _, err = ReadNpyImages(path)
			} else {
				_, err = ReadNpyMatrix(path)
			}
			testutil.WantErr(t, err, append(tc.want, path)...)
		})
	}
	_, err := ReadNpyMatrix(notNpy)
	testutil.WantErr(t, err, notNpy, "magic")
	_, err = ReadNpyMatrix("testdata")
	testutil.WantErr(t, err, "testdata", "not a regular file")

	good, _ := os.ReadFile(filepath.Join("testdata", "f32_2d.npy"))
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"trailing", append(append([]byte(nil), good...), "junk"...), "4 unexpected bytes after the data of shape (5, 3) of <f4"},
		{"huge shape", rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1073741824, 8), }\n"),
			"truncated data: shape (1073741824, 8) of <f8 needs 68719476736 bytes, file has 0"},
		{"negative dim", bytes.Replace(good, []byte("(5, 3)"), []byte("(-5, 3"), 1), "expected a non-negative integer"},
		{"version 9", bytes.Replace(good, []byte("\x01\x00"), []byte("\x09\x00"), 1), "unsupported .npy format version 9.0"},
	} {
		path := filepath.Join(dir, tc.name+".npy")
		if err := os.WriteFile(path, tc.content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadNpyMatrix(path)
		testutil.WantErr(t, err, tc.want, path)
	}
}

func TestNpyImagesRoundTrip(t *testing.T) {
	fromF32, n, err := ReadNpyImages(filepath.Join("testdata", "f32_images.npy"))
	if err != nil || n != 3 {
		t.Fatalf("f32 images: n=%d err=%v", n, err)
	}
	fromU8, n8, err := ReadNpyImages(filepath.Join("testdata", "u8_images.npy"))
	if err != nil || n8 != 2 {
		t.Fatalf("u8 images: n=%d err=%v", n8, err)
	}
	for c, v := range fromF32 {
		if want := float32(float64(c%256)/127.5 - 1); v != want {
			t.Fatalf("f32 pixel %d = %v, want %v", c, v, want)
		}
		if c < len(fromU8) && fromU8[c] != v {
			t.Fatalf("u8 pixel %d = %v, want %v (v/127.5 − 1)", c, fromU8[c], v)
		}
	}
	// Our writer produces byte-for-byte what NumPy wrote.
	path := filepath.Join(t.TempDir(), "out.npy")
	if err := WriteNpyImages(path, fromF32, n); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want, _ := os.ReadFile(filepath.Join("testdata", "f32_images.npy"))
	if !bytes.Equal(got, want) {
		t.Errorf("WriteNpyImages output (%d bytes) differs from NumPy's (%d bytes):\n%q\n%q",
			len(got), len(want), got[:min(len(got), 128)], want[:128])
	}
	back, nb, err := ReadNpyImages(path)
	if err != nil || nb != n || !equalF32(back, fromF32) {
		t.Errorf("round trip: n=%d err=%v", nb, err)
	}
	if m, err := ReadNpyMatrix(path); err != nil {
		t.Error(err)
	} else if r, c := m.Dims(); r != 3 || c != 784 {
		t.Errorf("ReadNpyMatrix of images: %d×%d, want 3×784", r, c)
	}
	testutil.WantErr(t, WriteNpyImages(path, fromF32[:10], 1), "10 values for n=1", path)
	testutil.WantErr(t, WriteNpyFloat32(path, fromF32[:10], 2, 4), "has 8 elements, data has 10")
}

// rawNpy returns a version 1.0 .npy preamble and the header, no data.
func rawNpy(header string) []byte {
	return append([]byte{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, byte(len(header)), byte(len(header) >> 8)}, header...)
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
