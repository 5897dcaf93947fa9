package mnist

import (
	"bytes"
	"io/fs"
	"runtime"
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		n, h, w int
	}{
		{"one-pixel", 1, 1, 1},
		{"small", 3, 2, 4},
		{"mnist-shaped", 5, 28, 28},
		{"every-byte-value", 2, 16, 16},
		{"max-side", 1, 1, MaxSide},
	} {
		pixels := seqPixels(tc.n * tc.h * tc.w)
		labels := make([]byte, tc.n)
		for i := range labels {
			labels[i] = byte((i * 3) % 10)
		}
		imgs := idxImages(MagicImages, uint32(tc.n), uint32(tc.h), uint32(tc.w), pixels)
		lbls := idxLabels(MagicLabels, uint32(tc.n), labels)
		for _, comp := range []string{"raw", "gzip"} {
			t.Run(tc.name+"/"+comp, func(t *testing.T) {
				ib, lb := imgs, lbls
				if comp == "gzip" {
					ib, lb = gz(t, imgs), gz(t, lbls)
				}
				ip := writeFile(t, dir, tc.name+"-"+comp+"-images", ib)
				lp := writeFile(t, dir, tc.name+"-"+comp+"-labels", lb)
				n, h, w, got, err := ReadImagesFile(ip)
				if err != nil {
					t.Fatal(err)
				}
				if n != tc.n || h != tc.h || w != tc.w || !bytes.Equal(got, pixels) {
					t.Fatalf("images: got %d %dx%d (%d pixels), want %d %dx%d", n, h, w, len(got), tc.n, tc.h, tc.w)
				}
				gotLabels, err := ReadLabelsFile(lp)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(gotLabels, labels) {
					t.Fatalf("labels: got %v, want %v", gotLabels, labels)
				}
				set, err := LoadFiles("synthetic", ip, lp)
				if err != nil {
					t.Fatal(err)
				}
				if set.N != tc.n || set.Height != tc.h || set.Width != tc.w || len(set.Images) != len(pixels) {
					t.Fatalf("set: got %d %dx%d", set.N, set.Height, set.Width)
				}
				for i, p := range pixels {
					if want := float32(p)/127.5 - 1; set.Images[i] != want || Unscale(set.Images[i]) != p {
						t.Fatalf("pixel %d = %d: got %v, want %v", i, p, set.Images[i], want)
					}
				}
				for i, l := range labels {
					if set.Labels[i] != int(l) {
						t.Fatalf("label %d: got %d, want %d", i, set.Labels[i], l)
					}
				}
			})
		}
	}
}

func TestScaleExact(t *testing.T) {
	for _, tc := range []struct {
		pixel uint8
		want  float32
	}{{0, -1}, {255, 1}, {51, -0.6}, {204, 0.6}} {
		if got := Scale(tc.pixel); got != tc.want {
			t.Errorf("Scale(%d) = %v, want exactly %v", tc.pixel, got, tc.want)
		}
		if got := Unscale(tc.want); got != tc.pixel {
			t.Errorf("Unscale(%v) = %d, want %d", tc.want, got, tc.pixel)
		}
	}
	for p := 0; p < 256; p++ {
		if v := Scale(uint8(p)); v < -1 || v > 1 || Unscale(v) != uint8(p) {
			t.Fatalf("pixel %d -> %v -> %d", p, v, Unscale(v))
		}
	}
}

func TestImageAndSubset(t *testing.T) {
	pixels := seqPixels(4 * 2 * 3)
	set, err := NewSet("s", 4, 2, 3, pixels, []byte{0, 1, 2, 3}, "i", "l")
	if err != nil {
		t.Fatal(err)
	}
	img := set.Image(2)
	if len(img) != 6 || cap(img) != 6 || img[0] != Scale(pixels[12]) {
		t.Fatalf("Image(2): len %d cap %d first %v", len(img), cap(img), img[0])
	}
	sub := set.Subset([]int{3, 1, 3})
	if sub.N != 3 || !slices.Equal(sub.Labels, []int{3, 1, 3}) || !slices.Equal(sub.Image(1), set.Image(1)) {
		t.Fatalf("Subset: %+v", sub)
	}
	sub.Images[0] = 42
	if set.Images[18] == 42 {
		t.Fatal("Subset shares memory with the original")
	}
}

// TestCorruptFiles checks that every kind of damage gives an error naming the file and the problem.
func TestCorruptFiles(t *testing.T) {
	good := idxImages(MagicImages, 3, 2, 2, seqPixels(12))
	goodGz := gz(t, good)
	badCRC := bytes.Clone(goodGz)
	badCRC[len(badCRC)-8] ^= 0xff
	badDeflate := bytes.Clone(goodGz)
	badDeflate[10] = 0xff // first deflate block header: reserved block type 3
	labels := idxLabels(MagicLabels, 3, []byte{1, 2, 3})
	images := func(p string) error { _, _, _, _, err := ReadImagesFile(p); return err }
	lbls := func(p string) error { _, err := ReadLabelsFile(p); return err }
	for _, tc := range []struct {
		name string
		data []byte // nil: no file
		read func(string) error
		kind error
		want []string
	}{
		{"missing", nil, images, fs.ErrNotExist, []string{"file is missing", "no such file"}},
		{"empty", []byte{}, images, ErrTruncated, []string{"only 0 bytes", "0x00000803"}},
		{"short-magic", good[:3], images, ErrTruncated, []string{"only 3 bytes"}},
		{"short-header", good[:10], images, ErrTruncated, []string{"header needs 16 bytes, only 10 present"}},
		{"truncated-pixels", good[:len(good)-1], images, ErrTruncated,
			[]string{"3 images of 2x2 pixels", "12 bytes after the 16-byte header, 28 in all", "only 11 bytes follow"}},
		{"truncated-gzip-content", gz(t, good[:20]), images, ErrTruncated, []string{"only 4 bytes follow"}},
		{"trailing", append(bytes.Clone(good), 1, 2, 3, 4, 5), images, ErrTrailingData, []string{"but 5 extra bytes follow"}},
		{"trailing-gzip-content", gz(t, append(bytes.Clone(good), 9)), images, ErrTrailingData, []string{"1 extra bytes"}},
		{"labels-as-images", labels, images, ErrMagic,
			[]string{"wrong magic number", "expected 0x00000803", "got 0x00000801", "swapped"}},
		{"images-as-labels", good, lbls, ErrMagic, []string{"expected 0x00000801", "got 0x00000803"}},
		{"text-file", []byte("<html>not found</html>"), images, ErrMagic, []string{"got 0x3c68746d", "not an IDX file"}},
		{"float-idx", idxImages(0x00000d03, 1, 1, 1, make([]byte, 4)), images, ErrMagic, []string{"IDX type 0x0d"}},
		{"zero-count", idxImages(MagicImages, 0, 28, 28, nil), images, ErrDimensions,
			[]string{"implausible dimensions", "0 images of 28x28"}},
		{"zero-height", idxImages(MagicImages, 1, 0, 28, nil), images, ErrDimensions, []string{"1 images of 0x28"}},
		{"huge-count", idxImages(MagicImages, 0xffffffff, 28, 28, nil), images, ErrDimensions,
			[]string{"4294967295 images", "[1, 10000000]"}},
		{"huge-side", idxImages(MagicImages, 10, 28, 1025, nil), images, ErrDimensions, []string{"28x1025", "[1, 1024]"}},
		// Plausible-looking but enormous (10 TB): must fail as truncated without allocating it.
		{"huge-plausible", idxImages(MagicImages, MaxItems, MaxSide, MaxSide, seqPixels(100)), images, ErrTruncated,
			[]string{"10000000 images of 1024x1024", "only 100 bytes follow"}},
		{"labels-zero", idxLabels(MagicLabels, 0, nil), lbls, ErrDimensions, []string{"0 labels"}},
		{"labels-huge", idxLabels(MagicLabels, MaxItems+1, nil), lbls, ErrDimensions, []string{"10000001 labels"}},
		{"labels-truncated", labels[:10], lbls, ErrTruncated, []string{"declares 3 labels", "only 2 bytes follow"}},
		{"labels-trailing", append(bytes.Clone(labels), 0), lbls, ErrTrailingData, []string{"1 extra bytes"}},
		{"label-out-of-range", idxLabels(MagicLabels, 4, []byte{0, 9, 10, 3}), lbls, ErrLabelRange,
			[]string{"out of range [0, 9]", "label 2 (at index 2, byte offset 10) is 10"}},
		{"label-255", idxLabels(MagicLabels, 1, []byte{255}), lbls, ErrLabelRange, []string{"is 255"}},
		{"gzip-bad-crc", badCRC, images, ErrGzip, []string{"corrupt gzip data", "checksum"}},
		{"gzip-bad-deflate", badDeflate, images, ErrGzip, []string{"corrupt gzip data"}},
		{"gzip-truncated", goodGz[:len(goodGz)-12], images, ErrGzip, []string{"corrupt gzip data", "the .gz file is truncated"}},
		{"gzip-header-only", goodGz[:5], images, ErrGzip, []string{"bad gzip header"}},
		{"gzip-trailing-garbage", append(bytes.Clone(goodGz), 'x', 'y'), images, ErrGzip, []string{"corrupt gzip data", "has bytes appended"}},
		{"gzip-trailing-garbage-long", append(bytes.Clone(goodGz), "0123456789abcdef"...), images, ErrGzip,
			[]string{"corrupt gzip data", "not another gzip member"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := dir + "/" + tc.name + ".idx"
			if tc.data != nil {
				writeFile(t, dir, tc.name+".idx", tc.data)
			}
			err := tc.read(p)
			t.Log(err)
			checkErr(t, err, tc.kind, append([]string{p}, tc.want...)...)
		})
	}
}

func TestCountMismatch(t *testing.T) {
	dir := t.TempDir()
	ip := writeFile(t, dir, "images", idxImages(MagicImages, 3, 2, 2, seqPixels(12)))
	lp := writeFile(t, dir, "labels", idxLabels(MagicLabels, 2, []byte{1, 2}))
	_, err := LoadFiles("x", ip, lp)
	checkErr(t, err, ErrCountMismatch, ip, lp, "image and label counts differ", "holds 3 images", "holds 2 labels")
}

// TestNoHugeAllocation: a header claiming terabytes over a short file must not make the reader allocate them.
func TestNoHugeAllocation(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"raw", idxImages(MagicImages, MaxItems, MaxSide, MaxSide, seqPixels(1000))},
		{"gzip", gz(t, idxImages(MagicImages, MaxItems, MaxSide, MaxSide, seqPixels(1000)))},
		{"gzip-64MB", gz(t, idxImages(MagicImages, 64, MaxSide, MaxSide, seqPixels(1000)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, _, _, err := ReadImages(bytes.NewReader(tc.data), "huge")
			runtime.ReadMemStats(&after)
			checkErr(t, err, ErrTruncated, "huge", "only 1000 bytes follow")
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("allocated %d bytes for a %d-byte input", alloc, len(tc.data))
			}
		})
	}
}
