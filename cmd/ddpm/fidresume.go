// `ddpm fid --model`: keeping the samples of an unfinished evaluation, so that the same command
// continues it after an interruption (10,000 samples of a wide U-Net take hours on a CPU).

package main

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

// partialRun describes the samples kept in S.partial.npy (S: the samples' path without .npy):
// the first Done samples of the run named by the other fields, which must all match for the
// run to continue from them. Sampler chunks have their own random streams (sampler.Partial), so
// the continued run's samples are those of an uninterrupted one.
type partialRun struct {
	Source  string  `json:"source"` // checkpoint, weights, sampler settings and seed
	N       int     `json:"n"`
	Batch   int     `json:"batch"`
	Labels  string  `json:"labels"` // sha256 of the requested classes, "" for none
	Done    int     `json:"done"`
	Seconds float64 `json:"seconds"`
}

// partialPaths returns the images and description files of the partial samples of samplesPath.
func partialPaths(samplesPath string) (images, meta string) {
	base := strings.TrimSuffix(samplesPath, ".npy")
	return base + ".partial.npy", base + ".partial.json"
}

// labelsDigest is the sha256 of the requested classes ("" when none).
func labelsDigest(labels []int) string {
	if labels == nil {
		return ""
	}
	return fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(labels))))
}

// loadPartial returns the kept samples of run want from samplesPath's partial files: nil when
// there are none, or when they belong to another run (said in note). A damaged file is an error
// naming it: it is left in place for the user to remove.
func loadPartial(samplesPath string, want partialRun) (p *sampler.Partial, note string, err error) {
	imagesPath, metaPath := partialPaths(samplesPath)
	data, err := os.ReadFile(metaPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var got partialRun
	if err := json.Unmarshal(data, &got); err != nil {
		return nil, "", fmt.Errorf("%s: %w (remove it and %s to start the samples afresh)", metaPath, err, imagesPath)
	}
	same := got
	same.Done, same.Seconds = want.Done, want.Seconds
	if same != want {
		return nil, fmt.Sprintf("%s holds samples of another run (%s, N=%d, batch %d); starting afresh", metaPath, got.Source, got.N, got.Batch), nil
	}
	images, n, err := fid.ReadNpyImages(imagesPath)
	if err != nil {
		return nil, "", fmt.Errorf("%w (remove it and %s to start the samples afresh)", err, metaPath)
	}
	if got.Done < 0 || n < got.Done {
		return nil, "", fmt.Errorf("%s: %d images, but %s says %d were done (remove both to start the samples afresh)", imagesPath, n, metaPath, got.Done)
	}
	return &sampler.Partial{Images: images[:got.Done*fid.ImagePixels], Seconds: got.Seconds},
		fmt.Sprintf("continuing from %s: %d of %d samples done (%.0fs)", imagesPath, got.Done, got.N, got.Seconds), nil
}

// savePartial keeps p as the partial samples of run (images first: a description never counts
// images that are not there).
func savePartial(samplesPath string, run partialRun, p sampler.Partial) error {
	imagesPath, metaPath := partialPaths(samplesPath)
	run.Done, run.Seconds = len(p.Images)/fid.ImagePixels, p.Seconds
	if err := fid.WriteNpyImages(imagesPath, p.Images, run.Done); err != nil {
		return err
	}
	data, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(metaPath, append(data, '\n'))
}

// removePartial deletes the partial samples of samplesPath once the run has finished.
func removePartial(samplesPath string) error {
	images, meta := partialPaths(samplesPath)
	for _, p := range []string{meta, images} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
