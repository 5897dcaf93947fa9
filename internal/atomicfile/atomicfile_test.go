package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// assertOnly fails unless dir holds exactly the one file name, with the given content.
func assertOnly(t *testing.T, dir, name, content string) {
	t.Helper()
	if names := entries(t, dir); len(names) != 1 || names[0] != name {
		t.Fatalf("directory holds %q, want only %q (no temporary file)", names, name)
	}
	got, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != content {
		t.Fatalf("content %q, want %q", got, content)
	}
}

func TestWriteBytesCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := WriteBytes(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "out.json", "first")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != Perm {
		t.Errorf("mode %v, want %v", info.Mode().Perm(), os.FileMode(Perm))
	}
	if err := WriteBytes(path, []byte("second, longer")); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "out.json", "second, longer")
	if err := WriteBytes(path, nil); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "out.json", "")
}

// TestWriteManySmallWrites goes through the buffer many times over.
func TestWriteManySmallWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.bin")
	var want bytes.Buffer
	err := Write(path, func(w io.Writer) error {
		for i := range 3 * bufferSize / 7 {
			chunk := []byte{byte(i), byte(i >> 8), 1, 2, 3, 4, 5}
			want.Write(chunk)
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "big.bin", want.String())
}

// TestFailingWriteKeepsOldFile: an error of the write function, after part of the new content
// went out (more than the buffer holds), leaves the old file intact and no temporary file.
func TestFailingWriteKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stats")
	if err := WriteBytes(path, []byte("old content")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		if _, err := w.Write(bytes.Repeat([]byte("x"), 3*bufferSize)); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("error %v, want the write function's error as it is", err)
	}
	assertOnly(t, dir, "stats", "old content")
}

// TestFailingRenameRemovesTemp: the last step failing (the destination is a directory) still
// removes the temporary file.
func TestFailingRenameRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "taken")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteBytes(path, []byte("data"))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "taken" {
		t.Fatalf("directory holds %q, want only the directory taken", names)
	}
}

func TestMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing", "file")
	err := WriteBytes(path, []byte("data"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want a not-exist error naming %s", err, path)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("directory holds %q, want nothing", names)
	}
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error %v, want a not-exist error", err)
	}
}
