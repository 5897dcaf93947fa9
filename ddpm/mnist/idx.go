package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte) and the number of dimensions.
const (
	MagicImages = 0x00000803
	MagicLabels = 0x00000801
)

// Limits on header values: anything outside is a corrupt header, not a dataset.
const (
	MaxItems = 10_000_000
	MaxSide  = 1024
)

// ReadImages reads an IDX image file (magic 0x00000803, raw or gzip) and returns the count, the image height and
// width, and the n*h*w pixels. The whole stream must be exactly the header plus the pixels. name (the file path)
// is used in error messages, which are *FileError values.
func ReadImages(r io.Reader, name string) (n, h, w int, pixels []uint8, err error) {
	src, closeFn, err := openStream(r, name)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	defer closeFn()
	if err = readMagic(src, name, MagicImages); err != nil {
		return 0, 0, 0, nil, err
	}
	var dims [3]uint32
	if err = readHeader(src, name, dims[:]); err != nil {
		return 0, 0, 0, nil, err
	}
	if dims[0] < 1 || dims[0] > MaxItems || dims[1] < 1 || dims[1] > MaxSide || dims[2] < 1 || dims[2] > MaxSide {
		return 0, 0, 0, nil, fileErr(name, ErrDimensions, fmt.Sprintf(
			"%d images of %dx%d pixels (the count must be in [1, %d], height and width in [1, %d])",
			dims[0], dims[1], dims[2], MaxItems, MaxSide), nil)
	}
	n, h, w = int(dims[0]), int(dims[1]), int(dims[2])
	what := fmt.Sprintf("%d images of %dx%d pixels", n, h, w)
	pixels, err = readPayload(src, name, int64(n)*int64(h)*int64(w), 16, what)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	return n, h, w, pixels, nil
}

// ReadLabels reads an IDX label file (magic 0x00000801, raw or gzip) and returns the labels, each checked to be in
// [0, 9]. The whole stream must be exactly the header plus the labels. name (the file path) is used in error
// messages, which are *FileError values.
func ReadLabels(r io.Reader, name string) (labels []uint8, err error) {
	src, closeFn, err := openStream(r, name)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	if err = readMagic(src, name, MagicLabels); err != nil {
		return nil, err
	}
	var dims [1]uint32
	if err = readHeader(src, name, dims[:]); err != nil {
		return nil, err
	}
	if dims[0] < 1 || dims[0] > MaxItems {
		return nil, fileErr(name, ErrDimensions, fmt.Sprintf("%d labels (the count must be in [1, %d])",
			dims[0], MaxItems), nil)
	}
	n := int(dims[0])
	labels, err = readPayload(src, name, int64(n), 8, fmt.Sprintf("%d labels", n))
	if err != nil {
		return nil, err
	}
	for i, l := range labels {
		if l > 9 {
			return nil, fileErr(name, ErrLabelRange, fmt.Sprintf("label %d (at index %d, byte offset %d) is %d",
				i, i, 8+i, l), nil)
		}
	}
	return labels, nil
}

// ReadImagesFile opens path and calls [ReadImages]. A missing file gives an error that satisfies
// errors.Is(err, fs.ErrNotExist).
func ReadImagesFile(path string) (n, h, w int, pixels []uint8, err error) {
	f, err := openFile(path)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	defer f.Close()
	return ReadImages(f, path)
}

// ReadLabelsFile opens path and calls [ReadLabels]. A missing file gives an error that satisfies
// errors.Is(err, fs.ErrNotExist).
func ReadLabelsFile(path string) ([]uint8, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLabels(f, path)
}

func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fileErr(path, ErrMissing, "", err)
		}
		return nil, fileErr(path, ErrRead, "", err)
	}
	return f, nil
}

// stream is what the readers parse: the decompressed bytes, and whether they come through gzip.
type stream struct {
	io.Reader
	gzip   bool
	remain int64 // bytes left in the stream when known (raw data from a bytes.Reader etc.), else -1
}

// openStream returns r, or a gzip reader over it if r starts with the gzip magic 0x1f 0x8b.
func openStream(r io.Reader, name string) (*stream, func(), error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fileErr(name, ErrRead, "", err)
	}
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		remain := int64(-1)
		if l, ok := r.(interface{ Len() int }); ok {
			remain = int64(br.Buffered() + l.Len())
		}
		return &stream{Reader: br, remain: remain}, func() {}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, fileErr(name, ErrGzip, "bad gzip header", err)
	}
	return &stream{Reader: zr, gzip: true, remain: -1}, func() { zr.Close() }, nil
}

// readErr classifies an error returned while reading s: gzip errors are corruption, others are read errors.
func readErr(s *stream, name, detail string, err error) error {
	if s.gzip && !errors.Is(err, io.EOF) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			detail += " (the compressed data ends unexpectedly: the .gz file is truncated, or has bytes appended)"
		}
		if errors.Is(err, gzip.ErrHeader) {
			detail += " (bytes after the end of the compressed stream that are not another gzip member)"
		}
		return fileErr(name, ErrGzip, detail, err)
	}
	return fileErr(name, ErrRead, detail, err)
}

func readMagic(s *stream, name string, want uint32) error {
	var b [4]byte
	got, err := readExact(s, b[:])
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fileErr(name, ErrTruncated, fmt.Sprintf("only %d bytes, too short for the 4-byte magic number "+
				"(expected 0x%08x)", got, want), nil)
		}
		return readErr(s, name, "reading the magic number", err)
	}
	if m := binary.BigEndian.Uint32(b[:]); m != want {
		return fileErr(name, ErrMagic, fmt.Sprintf("expected 0x%08x (%s), got 0x%08x%s",
			want, describeMagic(want), m, guessMagic(m)), nil)
	}
	return nil
}

func describeMagic(m uint32) string {
	if m == MagicImages {
		return "IDX unsigned-byte 3-D: images"
	}
	return "IDX unsigned-byte 1-D: labels"
}

func guessMagic(m uint32) string {
	switch {
	case m == MagicImages || m == MagicLabels:
		return " (" + describeMagic(m) + ": images and labels files swapped?)"
	case m>>16 == 0x1f8b:
		return " (gzip data inside gzip: compressed twice?)"
	case m>>16 == 0:
		return fmt.Sprintf(" (IDX type 0x%02x with %d dimensions: not an MNIST-style file)", byte(m>>8), byte(m))
	}
	return " (not an IDX file)"
}

// readHeader reads len(dims) big-endian uint32 dimensions following the magic number.
func readHeader(s *stream, name string, dims []uint32) error {
	b := make([]byte, 4*len(dims))
	got, err := readExact(s, b)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fileErr(name, ErrTruncated, fmt.Sprintf("the header needs %d bytes, only %d present",
				4+len(b), 4+got), nil)
		}
		return readErr(s, name, "reading the header", err)
	}
	for i := range dims {
		dims[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	return nil
}

// readPayload reads exactly size bytes after a header of hdrLen bytes, then requires the end of the stream.
// The buffer grows as data arrives (doubling), so a header that lies about the size costs no more memory than
// about twice the data really present.
func readPayload(s *stream, name string, size, hdrLen int64, what string) ([]byte, error) {
	initial := min(size, max(1<<16, min(s.remain-hdrLen, 1<<30)))
	buf := make([]byte, 0, initial)
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(size, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		k, err := s.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			if int64(len(buf)) == size {
				break
			}
			return nil, fileErr(name, ErrTruncated, fmt.Sprintf(
				"the header declares %s (%d bytes after the %d-byte header, %d in all), but only %d bytes follow "+
					"(%d in all)", what, size, hdrLen, hdrLen+size, len(buf), hdrLen+int64(len(buf))), nil)
		}
		detail := fmt.Sprintf("after %d of %d data bytes", len(buf), size)
		if int64(len(buf)) == size {
			detail = fmt.Sprintf("at the end of the %d data bytes", size)
		}
		return nil, readErr(s, name, detail, err)
	}
	// The data must end here. Reading to EOF also makes gzip verify its CRC-32 and length.
	var one [1]byte
	for {
		k, err := s.Read(one[:])
		if k > 0 {
			extra, cerr := io.CopyN(io.Discard, s, 1<<20)
			count := fmt.Sprintf("%d", 1+extra)
			if cerr == nil {
				count = "more than 1 MiB of"
			}
			return nil, fileErr(name, ErrTrailingData, fmt.Sprintf(
				"the header declares %s (%d bytes in all), but %s extra bytes follow", what, hdrLen+size, count), nil)
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		return nil, readErr(s, name, "after the data (checking the end of the stream)", err)
	}
}

// readExact fills b like io.ReadFull, but returns io.EOF whenever the stream ends cleanly before b is full
// (even after a partial read) and any other error unchanged, so that a truncated .gz (io.ErrUnexpectedEOF from
// the gzip reader) is told apart from a complete stream that is simply too short.
func readExact(r io.Reader, b []byte) (int, error) {
	got := 0
	for got < len(b) {
		k, err := r.Read(b[got:])
		got += k
		if err != nil {
			if got == len(b) && errors.Is(err, io.EOF) {
				return got, nil
			}
			return got, err
		}
	}
	return got, nil
}
