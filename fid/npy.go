package fid

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// .npy reading: codeberg.org/sbinet/npyio decodes the header and the data. It trusts its input
// (a header without a newline or with its keys out of order panics, the data slice is allocated
// from the declared shape before any byte is read, negative dimensions and truncated data are
// not errors), so readNpy first checks the preamble and every size against the real file size,
// recovers from npyio's panics, and validates the dtype and shape it returns: a 100-byte file
// cannot demand terabytes, and errors name the problem (their callers add the file).

const (
	maxNpyHeader = 1 << 16 // header bytes; NumPy itself refuses > 10000 by default
	maxNpyRank   = 32
)

// npyArray is a validated .npy array; exactly one of f32, f64 and u8 holds its count elements
// in file order.
type npyArray struct {
	descr   string // e.g. "<f4"
	fortran bool   // column-major data
	shape   []int
	count   int // number of elements
	f32     []float32
	f64     []float64
	u8      []uint8
}

// readNpy reads a whole .npy stream of size bytes.
func readNpy(r io.Reader, size int64) (*npyArray, error) {
	var pre [12]byte // magic, version, header length (uint16 LE for v1, uint32 LE for v2)
	if size < 10 {
		return nil, fmt.Errorf("not a .npy file: only %d bytes", size)
	}
	if _, err := io.ReadFull(r, pre[:10]); err != nil {
		return nil, fmt.Errorf("truncated .npy preamble: %v", err)
	}
	if [6]byte(pre[:6]) != npy.Magic {
		return nil, errors.New(`not a .npy file: missing "\x93NUMPY" magic`)
	}
	major, minor := pre[6], pre[7]
	if major < 1 || major > 2 || minor != 0 {
		return nil, fmt.Errorf("unsupported .npy format version %d.%d (want 1.0 or 2.0)", major, minor)
	}
	preLen, hlen := int64(10), int64(binary.LittleEndian.Uint16(pre[8:]))
	if major == 2 {
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return nil, fmt.Errorf("truncated .npy preamble (%d bytes)", size)
		}
		preLen, hlen = 12, int64(binary.LittleEndian.Uint32(pre[8:]))
	}
	if hlen > maxNpyHeader {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", hlen, maxNpyHeader)
	}
	if hlen > size-preLen {
		return nil, fmt.Errorf("truncated header: header length %d but only %d bytes follow the preamble", hlen, size-preLen)
	}
	head := append(pre[:preLen:preLen], make([]byte, hlen)...)
	if _, err := io.ReadFull(r, head[preLen:]); err != nil {
		return nil, fmt.Errorf("truncated header: %v", err)
	}
	rr, err := newNpyReader(io.MultiReader(bytes.NewReader(head), r), head[preLen:])
	if err != nil {
		return nil, err
	}
	a, err := checkNpyHeader(&rr.Header)
	if err != nil {
		return nil, badHeader(head[preLen:], err)
	}
	dataLen, want := size-preLen-hlen, int64(a.count)*int64(a.elemSize()) // count ≤ 2^62/8: no overflow
	switch {
	case dataLen < want:
		return nil, fmt.Errorf("truncated data: shape %s of %s needs %d bytes, file has %d", a.shapeString(), a.descr, want, dataLen)
	case dataLen > want:
		return nil, fmt.Errorf("%d unexpected bytes after the data of shape %s of %s", dataLen-want, a.shapeString(), a.descr)
	}
	if err := readNpyData(rr, a); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return a, nil
}

// readNpyData decodes the data of a checked header with npyio (recovering from its panics).
func readNpyData(rr *npy.Reader, a *npyArray) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("npyio: %v", p)
		}
	}()
	switch a.descr[1:] {
	case "f4":
		return rr.Read(&a.f32)
	case "f8":
		return rr.Read(&a.f64)
	default:
		return rr.Read(&a.u8)
	}
}

// newNpyReader parses the header with npyio, turning its panics on malformed headers into errors.
func newNpyReader(r io.Reader, header []byte) (rr *npy.Reader, err error) {
	if !bytes.HasSuffix(header, []byte("\n")) {
		return nil, badHeader(header, errors.New("header does not end with a newline"))
	}
	defer func() {
		if p := recover(); p != nil {
			rr, err = nil, badHeader(header, fmt.Errorf("malformed dict (NumPy writes the keys descr, fortran_order, shape in that order): %v", p))
		}
	}()
	if rr, err = npy.NewReader(r); err != nil {
		return nil, badHeader(header, err)
	}
	return rr, nil
}

func badHeader(header []byte, err error) error {
	if len(header) > 200 {
		header = append(header[:200:200], "…"...)
	}
	return fmt.Errorf("bad header %q: %w", header, err)
}

// checkNpyHeader validates the dtype (float32, float64 or uint8, either byte order) and the shape
// (rank ≤ 32, non-negative dimensions, at most 2^62 bytes) of a header decoded by npyio.
func checkNpyHeader(h *npy.Header) (*npyArray, error) {
	a := &npyArray{descr: strings.Trim(h.Descr.Type, "'"), fortran: h.Descr.Fortran, shape: h.Descr.Shape}
	switch a.descr {
	case "<f4", ">f4", "<f8", ">f8", "|u1", "<u1", ">u1":
		if h.Descr.Type == "'"+a.descr+"'" {
			break
		}
		fallthrough
	default:
		return nil, fmt.Errorf("unsupported dtype %s (want float32 '<f4', float64 '<f8' or uint8 '|u1')", strconv.Quote(a.descr))
	}
	if len(a.shape) > maxNpyRank {
		return nil, fmt.Errorf("rank %d exceeds %d", len(a.shape), maxNpyRank)
	}
	a.count = 1
	for _, d := range a.shape {
		if d < 0 {
			return nil, fmt.Errorf("dimension %d of shape %s: expected a non-negative integer", d, a.shapeString())
		}
		if d != 0 && a.count > (1<<62)/8/d {
			return nil, fmt.Errorf("shape %s is too large", a.shapeString())
		}
		a.count *= d
	}
	return a, nil
}

// elemSize is the size of an element in bytes.
func (a *npyArray) elemSize() int { return int(a.descr[2] - '0') }

// shapeString formats the shape as NumPy does: (2, 3) or (5,).
func (a *npyArray) shapeString() string {
	parts := make([]string, len(a.shape))
	for i, d := range a.shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// at returns element k in file order as float64.
func (a *npyArray) at(k int) float64 {
	switch {
	case a.f32 != nil:
		return float64(a.f32[k])
	case a.f64 != nil:
		return a.f64[k]
	default:
		return float64(a.u8[k])
	}
}

// eachC calls f(c, k) for every element in row-major (C) order c, with k
// its index in file order (k == c unless the file is Fortran-ordered).
func (a *npyArray) eachC(f func(c, k int)) {
	if !a.fortran || len(a.shape) < 2 {
		for c := range a.count {
			f(c, c)
		}
		return
	}
	rank := len(a.shape)
	stride := make([]int, rank) // Fortran strides in elements
	s := 1
	for ax, d := range a.shape {
		stride[ax], s = s, s*d
	}
	idx := make([]int, rank)
	k := 0
	for c := range a.count {
		f(c, k)
		for ax := rank - 1; ax >= 0; ax-- { // odometer over C order
			idx[ax]++
			k += stride[ax]
			if idx[ax] < a.shape[ax] {
				break
			}
			k -= idx[ax] * stride[ax]
			idx[ax] = 0
		}
	}
}

// openNpy opens and fully reads path; errors name the file.
func openNpy(path string, use func(a *npyArray) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("fid: npy file %q: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("fid: npy file %q: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("fid: npy file %q: not a regular file", path)
	}
	a, err := readNpy(bufio.NewReaderSize(f, 1<<16), info.Size())
	if err == nil {
		err = use(a)
	}
	if err != nil {
		return fmt.Errorf("fid: npy file %q: %w", path, err)
	}
	return nil
}
