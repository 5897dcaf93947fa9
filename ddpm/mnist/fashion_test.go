package mnist

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

func fashionDir(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(FashionDir); err != nil {
		t.Skipf("Fashion-MNIST not installed (%v): install the Debian package with `apt-get install dataset-fashion-mnist`", err)
	}
	return FashionDir
}

func TestFashionMNIST(t *testing.T) {
	fashionDir(t)
	for _, tc := range []struct {
		split     Split
		name      string
		n, first  int
		perClass  int
		pixelSum0 int
	}{
		{Train, "fashion-mnist/train", 60000, 9, 6000, 76247},
		{Test, "fashion-mnist/test", 10000, 9, 1000, 33456},
	} {
		t.Run(tc.split.String(), func(t *testing.T) {
			set, err := LoadFashion("", tc.split)
			if err != nil {
				t.Fatal(err)
			}
			hist := make([]int, 10)
			for i := range hist {
				hist[i] = tc.perClass
			}
			checkSet(t, set, tc.name, tc.n, tc.first, hist)
			sum := 0
			for _, v := range set.Image(0) {
				sum += int(Unscale(v))
			}
			if sum != tc.pixelSum0 {
				t.Errorf("sum of the pixels of image 0 = %d, want %d", sum, tc.pixelSum0)
			}
		})
	}
}

// upstreamGz describes the .gz files Zalando publishes: MD5 (from the Fashion-MNIST README) and the gzip header
// fields (modification time, original file name) they carry.
var upstreamGz = map[string]struct {
	md5   string
	mtime uint32
}{
	"train-images-idx3-ubyte": {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", 1504176606}, // 2017-08-31 10:50:06 UTC
	"train-labels-idx1-ubyte": {"25c81989df183df01b3e8a0aad5dffbe", 1504176606},
	"t10k-images-idx3-ubyte":  {"bef4ecab320f06d8554ea6380940ec79", 1504176627}, // 2017-08-31 10:50:27 UTC
	"t10k-labels-idx1-ubyte":  {"bb300cfdad3c16e7a12a480ee83cd310", 1504176627},
}

// TestFashionMatchesUpstream proves that the installed .gz files carry exactly the upstream compressed data.
// Debian's files have a rewritten gzip header (its build time as mtime, no file name), so their MD5s differ from
// the published ones; putting the upstream header (FNAME flag, the upstream mtime and file name) back in front
// of Debian's deflate stream, CRC-32 and length must reproduce the published MD5 exactly. That in turn shows
// that the uncompressed sha256s pinned in FashionFiles are those of the original data.
func TestFashionMatchesUpstream(t *testing.T) {
	dir := fashionDir(t)
	for _, spec := range FashionFiles {
		t.Run(spec.Name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, spec.Name+".gz"))
			if err != nil {
				t.Fatal(err)
			}
			up := upstreamGz[spec.Name]
			if len(data) < 18 || data[0] != 0x1f || data[1] != 0x8b || data[2] != 8 {
				t.Fatalf("not a deflate gzip file")
			}
			rebuilt := data
			if flags := data[3]; flags != 0x08 { // Debian's form: no FNAME; any other extra field is unexpected
				if flags != 0 {
					t.Fatalf("unexpected gzip flags 0x%02x", flags)
				}
				hdr := []byte{0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, data[8], data[9]}
				binary.LittleEndian.PutUint32(hdr[4:], up.mtime)
				hdr = append(append(hdr, spec.Name...), 0)
				rebuilt = append(hdr, data[10:]...)
			}
			sum := md5.Sum(rebuilt)
			if got := hex.EncodeToString(sum[:]); got != up.md5 {
				t.Errorf("with the upstream gzip header: MD5 %s, want the published %s", got, up.md5)
			}
			if !bytes.Equal(rebuilt[len(rebuilt)-4:], binary.LittleEndian.AppendUint32(nil, uint32(spec.Size))) {
				t.Errorf("gzip ISIZE does not match the pinned size %d", spec.Size)
			}
		})
	}
}

// TestFashionRawAndDamaged checks that LoadFashion accepts uncompressed files too, and rejects damaged ones.
func TestFashionRawAndDamaged(t *testing.T) {
	src := fashionDir(t)
	dir := t.TempDir()
	for _, name := range []string{"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		data, err := os.ReadFile(filepath.Join(src, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := readUncompressed(bytes.NewReader(data), name, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, name, raw)
	}
	set, err := LoadFashion(dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	if set.N != 10000 || set.Labels[0] != 9 {
		t.Fatalf("raw files: N=%d first label %d", set.N, set.Labels[0])
	}
	// A .gz next to the raw file wins; a damaged one is reported (not silently replaced by the raw one).
	p := writeFile(t, dir, "t10k-labels-idx1-ubyte.gz", []byte{0x1f, 0x8b, 8, 0, 0, 0})
	_, err = LoadFashion(dir, Test)
	checkErr(t, err, ErrGzip, p, "corrupt gzip data", "apt-get install --reinstall dataset-fashion-mnist")
	os.Remove(p)
	p = filepath.Join(dir, "t10k-images-idx3-ubyte")
	data, _ := os.ReadFile(p)
	writeFile(t, dir, "t10k-images-idx3-ubyte", data[:len(data)-784])
	_, err = LoadFashion(dir, Test)
	checkErr(t, err, ErrTruncated, p, "sha256 mismatch", FashionFiles[2].SHA256, "the data is 7839232 bytes")
	// The MNIST files are not Fashion-MNIST: the checksum tells them apart.
	_, err = Load(dir, Test)
	checkErr(t, err, ErrChecksum, p)
}
