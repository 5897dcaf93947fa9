// Package viz turns samples and training histories into images: grids of digits (PNG, via the
// standard library's image packages) and plots (gonum/plot). Output is a pure function of the
// input values, so the same numbers always give byte-identical PNG files.
package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

// Side is the width and height of one MNIST image.
const Side = 28

// ToGray maps a [-1, 1] pixel to 0..255 (values outside are clipped; NaN is black).
func ToGray(v float32) uint8 {
	if !(v > -1) { // also NaN
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(math.Round(float64(v+1) * 127.5))
}

// Grid lays out n images (n×28×28 values in [-1, 1]) in rows of `cols`, separated by `pad` white
// pixels, each pixel drawn as a scale×scale block.
func Grid(images []float32, n, cols, pad, scale int) (*image.Gray, error) {
	if n < 1 || cols < 1 || pad < 0 || scale < 1 {
		return nil, fmt.Errorf("viz: grid of %d images in %d columns (pad %d, scale %d) is not valid", n, cols, pad, scale)
	}
	if len(images) < n*Side*Side {
		return nil, fmt.Errorf("viz: %d values for %d images of %dx%d", len(images), n, Side, Side)
	}
	rows := (n + cols - 1) / cols
	cell := Side*scale + pad
	img := image.NewGray(image.Rect(0, 0, cols*cell+pad, rows*cell+pad))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for k := range n {
		x0, y0 := pad+(k%cols)*cell, pad+(k/cols)*cell
		for y := range Side * scale {
			for x := range Side * scale {
				img.SetGray(x0+x, y0+y, color.Gray{Y: ToGray(images[k*Side*Side+(y/scale)*Side+x/scale])})
			}
		}
	}
	return img, nil
}

// EncodePNG encodes an image as PNG bytes.
func EncodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("viz: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// SavePNG writes img to path atomically (temporary file + rename).
func SavePNG(path string, img image.Image) error {
	data, err := EncodePNG(img)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

// writeAtomic writes data to path atomically (package atomicfile), creating path's directory.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if err := atomicfile.WriteBytes(path, data); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	return nil
}
