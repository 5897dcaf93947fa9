package mnist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"sync"
	"testing"
)

// The seed corpora live in testdata/fuzz/FuzzReadImages and testdata/fuzz/FuzzReadLabels (valid files raw and
// gzip, and one of each kind of damage); `go test` runs them as ordinary test cases, and
// `go test -fuzz FuzzReadImages ./ddpm/mnist/` mutates them.

const fuzzName = "/fuzz/input.idx"

// gzipWriters are reused: a new gzip.Writer allocates about 1 MB, which would dominate each fuzz execution.
var gzipWriters = sync.Pool{New: func() any { zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return zw }}

func fuzzGzip(t *testing.T, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkFuzzErr requires a data error: a *FileError naming the input, whose Kind errors.Is finds.
func checkFuzzErr(t *testing.T, err error) *FileError {
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error is not a *FileError: %T %v", err, err)
	}
	if fe.Path != fuzzName || !strings.Contains(err.Error(), fuzzName) || !errors.Is(err, fe.Kind) {
		t.Fatalf("error does not name the file or its kind: %v", err)
	}
	return fe
}

// gzipEquivalent reports whether data can be compared with its gzip-compressed form: data that itself starts
// with the gzip magic is decompressed by the reader, and its compressed form would not be.
func gzipEquivalent(data []byte) bool {
	return !(len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b)
}

func FuzzReadImages(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		n, h, w, pixels, err := ReadImages(bytes.NewReader(data), fuzzName)
		var kind error
		if err != nil {
			if pixels != nil || n != 0 {
				t.Fatalf("data returned along with the error %v", err)
			}
			kind = checkFuzzErr(t, err).Kind
		} else {
			if n < 1 || n > MaxItems || h < 1 || h > MaxSide || w < 1 || w > MaxSide || len(pixels) != n*h*w {
				t.Fatalf("accepted %d images of %dx%d with %d pixels", n, h, w, len(pixels))
			}
			if gzipEquivalent(data) && len(data) != 16+n*h*w {
				t.Fatalf("accepted %d bytes for %d images of %dx%d", len(data), n, h, w)
			}
		}
		if !gzipEquivalent(data) {
			return
		}
		// The same bytes, gzip-compressed, must give the same result.
		gn, gh, gw, gpixels, gerr := ReadImages(bytes.NewReader(fuzzGzip(t, data)), fuzzName)
		if (gerr == nil) != (err == nil) || gn != n || gh != h || gw != w || !bytes.Equal(gpixels, pixels) {
			t.Fatalf("raw and gzip differ: raw (%d %dx%d, %v), gzip (%d %dx%d, %v)", n, h, w, err, gn, gh, gw, gerr)
		}
		if gerr != nil && checkFuzzErr(t, gerr).Kind != kind {
			t.Fatalf("raw and gzip errors differ: %v / %v", err, gerr)
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := ReadLabels(bytes.NewReader(data), fuzzName)
		var kind error
		if err != nil {
			if labels != nil {
				t.Fatalf("data returned along with the error %v", err)
			}
			kind = checkFuzzErr(t, err).Kind
		} else {
			if len(labels) < 1 || len(labels) > MaxItems || (gzipEquivalent(data) && len(data) != 8+len(labels)) {
				t.Fatalf("accepted %d labels from %d bytes", len(labels), len(data))
			}
			for i, l := range labels {
				if l > 9 {
					t.Fatalf("accepted label %d = %d", i, l)
				}
			}
		}
		if !gzipEquivalent(data) {
			return
		}
		glabels, gerr := ReadLabels(bytes.NewReader(fuzzGzip(t, data)), fuzzName)
		if (gerr == nil) != (err == nil) || !bytes.Equal(glabels, labels) {
			t.Fatalf("raw and gzip differ: raw (%d labels, %v), gzip (%d labels, %v)", len(labels), err, len(glabels), gerr)
		}
		if gerr != nil && checkFuzzErr(t, gerr).Kind != kind {
			t.Fatalf("raw and gzip errors differ: %v / %v", err, gerr)
		}
	})
}
