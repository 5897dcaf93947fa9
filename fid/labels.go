package fid

import (
	"fmt"
	"math"
	"strings"
)

// ReadNpyLabels reads class labels from a .npy file of shape (N,) or (N, 1), dtype float32,
// float64 or uint8 (e.g. np.save("l.npy", labels.astype(np.uint8))), every value an integer in
// 0..9. Errors name the file and the first bad value.
func ReadNpyLabels(path string) ([]int, error) {
	var labels []int
	err := openNpy(path, func(a *npyArray) error {
		s := a.shape
		if !(len(s) == 1 || len(s) == 2 && s[1] == 1) || a.count == 0 {
			return fmt.Errorf("shape %s: want N or N×1 class labels with N ≥ 1", a.shapeString())
		}
		labels = make([]int, a.count)
		for i := range labels {
			v := a.at(i)
			if v != math.Trunc(v) || v < 0 || v >= NumClasses {
				return fmt.Errorf("label %d is %v, want an integer class 0..9", i, v)
			}
			labels[i] = int(v)
		}
		return nil
	})
	return labels, err
}

// WriteNpyLabels writes class labels as a float32 .npy vector of shape (N,), atomically; see
// [LabelsPath] for the sidecar convention.
func WriteNpyLabels(path string, labels []int) error {
	data := make([]float32, len(labels))
	for i, l := range labels {
		data[i] = float32(l)
	}
	return WriteNpyFloat32(path, data, len(labels))
}

// LabelsPath is the sidecar file of the requested classes of class-conditional samples:
// "x.npy" → "x.labels.npy". `ddpm fid --model` writes it next to the samples it saves, and
// `ddpm fid --samples x.npy` reads it when present (unless --labels or --class is given).
func LabelsPath(samplesPath string) string {
	return strings.TrimSuffix(samplesPath, ".npy") + ".labels.npy"
}
