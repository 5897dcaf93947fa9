package fid

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
	"gonum.org/v1/gonum/mat"
)

// The .npy files of the project: N×D matrices (features), MNIST images and class labels
// (labels.go). Reading goes through readNpy (npy.go, on npyio).

// ReadNpyMatrix reads an N×D matrix from a .npy file of float32 ('<f4'),
// float64 ('<f8') or uint8 ('|u1', values kept as 0..255), either byte
// order, C or Fortran order. Arrays of rank > 2 (e.g. N×28×28 images) are
// flattened to N×(product of trailing dims). 0-D and 1-D arrays and empty
// arrays are errors. Errors name the file and the problem.
func ReadNpyMatrix(path string) (*mat.Dense, error) {
	var m *mat.Dense
	err := openNpy(path, func(a *npyArray) (err error) {
		m, err = npyToMatrix(a)
		return err
	})
	return m, err
}

func npyToMatrix(a *npyArray) (*mat.Dense, error) {
	if len(a.shape) < 2 {
		return nil, fmt.Errorf("%d-D array of shape %s: want N×D (2 or more dimensions)", len(a.shape), a.shapeString())
	}
	if a.count == 0 {
		return nil, fmt.Errorf("empty array of shape %s", a.shapeString())
	}
	n := a.shape[0]
	data := make([]float64, a.count)
	a.eachC(func(c, k int) { data[c] = a.at(k) })
	return mat.NewDense(n, a.count/n, data), nil
}

// ReadNpyImages reads MNIST images from a .npy file of shape N×28×28,
// N×1×28×28 or N×784 and returns them as a flat slice of N×28×28 float32
// pixels plus N. Float data is returned as is (expected in [-1, 1]); uint8
// data (0..255) is mapped to [-1, 1] by v/127.5 − 1.
func ReadNpyImages(path string) (images []float32, n int, err error) {
	err = openNpy(path, func(a *npyArray) error {
		images, n, err = npyToImages(a)
		return err
	})
	return images, n, err
}

func npyToImages(a *npyArray) ([]float32, int, error) {
	s := a.shape
	ok := len(s) >= 2 && s[0] > 0 && (len(s) == 2 && s[1] == ImagePixels ||
		len(s) == 3 && s[1] == ImageSize && s[2] == ImageSize ||
		len(s) == 4 && s[1] == 1 && s[2] == ImageSize && s[3] == ImageSize)
	if !ok {
		return nil, 0, fmt.Errorf("shape %s: want N×28×28, N×1×28×28 or N×784 images with N ≥ 1", a.shapeString())
	}
	images := make([]float32, a.count)
	if a.u8 != nil {
		a.eachC(func(c, k int) { images[c] = float32(float64(a.u8[k])/127.5 - 1) })
	} else {
		a.eachC(func(c, k int) { images[c] = float32(a.at(k)) })
	}
	return images, s[0], nil
}

// WriteNpyImages writes n MNIST images (a flat slice of n×28×28 float32
// pixels, row-major) to path as a float32 .npy array of shape (n, 28, 28),
// atomically. Pixel values are written as given.
func WriteNpyImages(path string, images []float32, n int) error {
	if n < 1 || len(images) != n*ImagePixels {
		return fmt.Errorf("fid: WriteNpyImages %q: %d values for n=%d images, want n ≥ 1 and n×28×28 = %d",
			path, len(images), n, max(n, 0)*ImagePixels)
	}
	return WriteNpyFloat32(path, images, n, ImageSize, ImageSize)
}

// WriteNpyFloat32 writes data as a little-endian float32 C-order .npy
// array (format 1.0) of the given shape, atomically. The product of shape
// must equal len(data). The file is byte for byte what NumPy's np.save
// writes (header padded so that the data starts on a 64-byte boundary);
// npyio's npy.Write is not used because it writes format 2.0 with another
// padding.
func WriteNpyFloat32(path string, data []float32, shape ...int) error {
	count := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			return fmt.Errorf("fid: WriteNpyFloat32 %q: negative dimension in shape %v", path, shape)
		}
		count *= d
		dims[i] = strconv.Itoa(d)
	}
	if count != len(data) {
		return fmt.Errorf("fid: WriteNpyFloat32 %q: shape %v has %d elements, data has %d", path, shape, count, len(data))
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	header := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }"
	// Pad with spaces so that data starts on a 64-byte boundary, as NumPy does.
	total := len(npy.Magic) + 4 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	if len(header) > math.MaxUint16 {
		return errors.New("fid: WriteNpyFloat32: header too long")
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		pre := append(npy.Magic[:], 1, 0)
		pre = binary.LittleEndian.AppendUint16(pre, uint16(len(header)))
		if _, err := w.Write(append(pre, header...)); err != nil {
			return err
		}
		buf := make([]byte, 0, 1<<16)
		for i, v := range data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) || i == len(data)-1 {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fid: WriteNpyFloat32 %q: %w", path, err)
	}
	return nil
}
