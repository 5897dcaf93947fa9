package mnist

import (
	"fmt"
)

// Set is one split of an image-classification dataset, in memory.
type Set struct {
	Name             string    // e.g. "mnist/train", "fashion-mnist/test"
	N, Height, Width int       // number of images and their size
	Images           []float32 // N*Height*Width, row-major [N, H, W], pixel/127.5 - 1, so in [-1, 1]
	Labels           []int     // N values in [0, 9]
}

// Image returns a view (not a copy) of image i: Height*Width values, row-major. Its capacity is limited to the
// image, so appending to it cannot overwrite the next image. It panics if i is out of range, like slice indexing.
func (s *Set) Image(i int) []float32 {
	size := s.Height * s.Width
	return s.Images[i*size : (i+1)*size : (i+1)*size]
}

// Subset returns a new Set holding copies of the images and labels at indices, in that order (repeats allowed).
// The Name is kept. It panics if an index is out of range, like slice indexing.
func (s *Set) Subset(indices []int) *Set {
	size := s.Height * s.Width
	sub := &Set{
		Name:   s.Name,
		N:      len(indices),
		Height: s.Height,
		Width:  s.Width,
		Images: make([]float32, len(indices)*size),
		Labels: make([]int, len(indices)),
	}
	for j, i := range indices {
		copy(sub.Images[j*size:(j+1)*size], s.Image(i))
		sub.Labels[j] = s.Labels[i]
	}
	return sub
}

// Split selects the training or the test part of a dataset.
type Split int

const (
	Train Split = iota
	Test
)

func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// prefix is the IDX file-name prefix of the split: "train" or "t10k".
func (s Split) prefix() (string, error) {
	switch s {
	case Train:
		return "train", nil
	case Test:
		return "t10k", nil
	}
	return "", fmt.Errorf("mnist: invalid split %d: use mnist.Train or mnist.Test", int(s))
}

// scaleTable maps a pixel to pixel/127.5 - 1 (exact at 0 -> -1 and 255 -> 1).
var scaleTable = func() (t [256]float32) {
	for p := range t {
		t[p] = float32(p)/127.5 - 1
	}
	return t
}()

// Scale converts a pixel in [0, 255] to the [-1, 1] value stored in a [Set].
func Scale(pixel uint8) float32 { return scaleTable[pixel] }

// Unscale converts a [-1, 1] value back to a pixel, rounding and clamping to [0, 255].
func Unscale(v float32) uint8 {
	p := (float64(v) + 1) * 127.5
	switch {
	case !(p >= 0): // also NaN
		return 0
	case p >= 255:
		return 255
	}
	return uint8(p + 0.5)
}

// NewSet builds a Set from raw pixels and labels as returned by [ReadImages] and [ReadLabels], checking that
// the counts agree and the labels are in [0, 9]. imagesPath and labelsPath are used in error messages.
func NewSet(name string, n, h, w int, pixels, labels []uint8, imagesPath, labelsPath string) (*Set, error) {
	if len(labels) != n {
		return nil, fileErr(labelsPath, ErrCountMismatch, fmt.Sprintf("%s holds %d images but %s holds %d labels",
			imagesPath, n, labelsPath, len(labels)), nil)
	}
	if len(pixels) != n*h*w {
		return nil, fileErr(imagesPath, ErrTruncated, fmt.Sprintf("%d pixels for %d images of %dx%d",
			len(pixels), n, h, w), nil)
	}
	s := &Set{Name: name, N: n, Height: h, Width: w, Images: make([]float32, len(pixels)), Labels: make([]int, n)}
	for i, p := range pixels {
		s.Images[i] = scaleTable[p]
	}
	for i, l := range labels {
		if l > 9 {
			return nil, fileErr(labelsPath, ErrLabelRange, fmt.Sprintf("label %d is %d", i, l), nil)
		}
		s.Labels[i] = int(l)
	}
	return s, nil
}

// LoadFiles reads an images file and a labels file (IDX, raw or gzip) without any checksum and returns them as
// a Set named name. Use it for IDX datasets other than the pinned MNIST and Fashion-MNIST files.
func LoadFiles(name, imagesPath, labelsPath string) (*Set, error) {
	n, h, w, pixels, err := ReadImagesFile(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabelsFile(labelsPath)
	if err != nil {
		return nil, err
	}
	return NewSet(name, n, h, w, pixels, labels, imagesPath, labelsPath)
}

// Bytes returns the images as the pixels they were scaled from (N*Height*Width bytes, a quarter of
// the memory of Images), so that Scale(Bytes()[i]) == Images[i] bit for bit, and true. It returns
// nil and false when some value is not the Scale of a byte (a set built or modified by hand), since
// bytes would then change the images.
func (s *Set) Bytes() ([]uint8, bool) {
	out := make([]uint8, len(s.Images))
	for i, v := range s.Images {
		p := Unscale(v)
		if scaleTable[p] != v { // also NaN
			return nil, false
		}
		out[i] = p
	}
	return out, true
}
