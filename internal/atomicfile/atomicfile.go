// Package atomicfile replaces files atomically: the new content is written to a temporary file in
// the destination's directory, flushed, fsynced, made world-readable (0644) and renamed over the
// destination, and the directory is then fsynced (best effort) so that the rename survives a
// crash. Readers see either the old file or the complete new one, never a partial write; on any
// error the temporary file is removed and the destination is left untouched.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Perm is the permission of the files written.
const Perm = 0o644

// bufferSize is the size of the write buffer between the write function and the file.
const bufferSize = 1 << 16

// Write creates or replaces path with what write writes to the io.Writer it is given (buffered).
// The temporary file is named ".<base>.tmp-*" in path's directory, which must exist. An error
// returned by write is returned as it is; the errors of the file operations name path.
func Write(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close() // a second Close only errs
			_ = os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, bufferSize)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Chmod(Perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_ = SyncDir(dir) // persist the rename; best effort: not every system can sync a directory
	return nil
}

// WriteBytes creates or replaces path with data, like [Write].
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncDir fsyncs the directory dir, making the creations, renames and removals of its entries
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
