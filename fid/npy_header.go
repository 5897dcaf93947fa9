package fid

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Strict .npy header parsing. The format (NEP 1) is:
//
//	"\x93NUMPY" major minor  header_len (uint16 LE for v1, uint32 LE for v2/v3)
//	header: a Python dict literal {'descr': …, 'fortran_order': …, 'shape': (…), }
//	        padded with spaces and terminated by '\n'
//	data:   prod(shape) elements of descr, C or Fortran order
//
// Only the subset NumPy writes for plain arrays is accepted; every size is
// checked against the real file size before anything is allocated.

const (
	npyMagic     = "\x93NUMPY"
	maxNpyHeader = 1 << 16 // header bytes; NumPy itself refuses > 10000 by default
	maxNpyRank   = 32
)

// npyHeader is the parsed header of a .npy file.
type npyHeader struct {
	descr   string // e.g. "<f4"
	kind    byte   // 'f' (float) or 'u' (unsigned int)
	size    int    // bytes per element: 1, 4 or 8
	big     bool   // big-endian data
	fortran bool   // column-major data
	shape   []int
	count   int // number of elements
}

// shapeString formats the shape as NumPy does: (2, 3) or (5,).
func (h *npyHeader) shapeString() string {
	parts := make([]string, len(h.shape))
	for i, d := range h.shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// readNpyHeader reads and validates the preamble and header from r, a
// stream of exactly size bytes, and checks that the rest of the stream has
// exactly the size the header announces.
func readNpyHeader(r io.Reader, size int64) (*npyHeader, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("not a .npy file: only %d bytes", size)
	}
	if string(pre[:6]) != npyMagic {
		return nil, errors.New(`not a .npy file: missing "\x93NUMPY" magic`)
	}
	major, minor := pre[6], pre[7]
	if major < 1 || major > 3 || minor != 0 {
		return nil, fmt.Errorf("unsupported .npy format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	lenBytes := 2 // v1: uint16; v2, v3: uint32
	if major > 1 {
		lenBytes = 4
	}
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:lenBytes]); err != nil {
		return nil, fmt.Errorf("truncated .npy preamble (%d bytes)", size)
	}
	hlen := int64(binary.LittleEndian.Uint32(lb[:])) // zero-padded for v1
	preLen := int64(8 + lenBytes)
	if hlen > maxNpyHeader {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", hlen, maxNpyHeader)
	}
	if hlen > size-preLen {
		return nil, fmt.Errorf("truncated header: header length %d but only %d bytes follow the preamble", hlen, size-preLen)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("truncated header: %v", err)
	}
	h, err := parseNpyHeader(string(buf))
	if err != nil {
		if len(buf) > 200 {
			buf = append(buf[:200:200], "…"...)
		}
		return nil, fmt.Errorf("bad header %q: %w", buf, err)
	}
	dataLen := size - preLen - hlen
	want := int64(h.count) * int64(h.size) // count ≤ maxInt/8, no overflow
	switch {
	case dataLen < want:
		return nil, fmt.Errorf("truncated data: shape %s of %s needs %d bytes, file has %d",
			h.shapeString(), h.descr, want, dataLen)
	case dataLen > want:
		return nil, fmt.Errorf("%d unexpected bytes after the data of shape %s of %s",
			dataLen-want, h.shapeString(), h.descr)
	}
	return h, nil
}

// parseNpyHeader parses the dict literal of a .npy header.
func parseNpyHeader(s string) (*npyHeader, error) {
	if !strings.HasSuffix(s, "\n") {
		return nil, errors.New("header does not end with a newline")
	}
	p := &litParser{s: strings.TrimRight(s, " \n")}
	h := &npyHeader{}
	seen := map[string]bool{}
	if !p.eat('{') {
		return nil, errors.New("header is not a dict")
	}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return nil, fmt.Errorf("missing ':' after key %q", key)
		}
		switch key {
		case "descr":
			h.descr, err = p.str()
		case "fortran_order":
			h.fortran, err = p.boolean()
		case "shape":
			h.shape, err = p.tuple()
		default:
			err = fmt.Errorf("unexpected key %q", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return nil, fmt.Errorf("expected ',' or '}' after %q", key)
			}
			break
		}
	}
	if p.skipSpace(); p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected text after the dict at byte %d", p.i)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, fmt.Errorf("missing key %q", k)
		}
	}
	if err := h.setDType(); err != nil {
		return nil, err
	}
	if len(h.shape) > maxNpyRank {
		return nil, fmt.Errorf("rank %d exceeds %d", len(h.shape), maxNpyRank)
	}
	h.count = 1
	for _, d := range h.shape {
		if d != 0 && h.count > (1<<62)/8/d {
			return nil, fmt.Errorf("shape %s is too large", h.shapeString())
		}
		h.count *= d
	}
	return h, nil
}

// setDType validates descr: float32, float64 or uint8, any byte order.
func (h *npyHeader) setDType() error {
	switch h.descr {
	case "<f4", ">f4", "<f8", ">f8":
		h.kind, h.big = 'f', h.descr[0] == '>'
		h.size = int(h.descr[2] - '0')
	case "|u1", "<u1", ">u1":
		h.kind, h.size = 'u', 1
	default:
		return fmt.Errorf("unsupported dtype %q (want float32 '<f4', float64 '<f8' or uint8 '|u1')", h.descr)
	}
	return nil
}

// litParser scans the small Python-literal subset used in .npy headers.
type litParser struct {
	s string
	i int
}

func (p *litParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// eat consumes c (after spaces) if it is next.
func (p *litParser) eat(c byte) bool {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str parses a '…' or "…" string without escapes.
func (p *litParser) str() (string, error) {
	p.skipSpace()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", errors.New("expected a quoted string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.ContainsAny(v, "\\\n") {
		return "", errors.New("escapes are not supported in strings")
	}
	p.i += end + 2
	return v, nil
}

func (p *litParser) boolean() (bool, error) {
	p.skipSpace()
	for _, w := range []string{"True", "False"} {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			return w == "True", nil
		}
	}
	return false, errors.New("expected True or False")
}

// tuple parses (), (n,) or (n, m, …) of non-negative decimal integers.
func (p *litParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("expected a tuple")
	}
	dims := []int{}
	comma := false
	for !p.eat(')') {
		p.skipSpace()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, fmt.Errorf("expected a non-negative integer at byte %d", p.i)
		}
		d, err := strconv.Atoi(p.s[p.i:j])
		if err != nil || d > 1<<53 {
			return nil, fmt.Errorf("dimension %q out of range", p.s[p.i:j])
		}
		dims, p.i = append(dims, d), j
		if comma = p.eat(','); !comma {
			if !p.eat(')') {
				return nil, errors.New("expected ',' or ')' in tuple")
			}
			break
		}
	}
	if len(dims) == 1 && !comma {
		return nil, errors.New("(n) is not a tuple; NumPy writes (n,)")
	}
	return dims, nil
}
