package fid

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"
)

// Stats file format (version 1), written by [SaveStats]:
//
//	line 1:  a JSON object (statsHeader) terminated by '\n'
//	payload: little-endian IEEE-754 float64 values: Mean[0..Dim), then Cov
//	         row-major Dim×Dim (full matrix, exactly symmetric)
//
// The header records the format name and version, network name and weight
// hash, dataset, N, Dim, the payload length and its SHA-256, so a file is
// self-describing and truncation or corruption is detected. Values
// round-trip bit-exactly.
const (
	statsFormat  = "ddpm-fid-stats"
	statsVersion = 1
	maxHeaderLen = 1 << 16 // bytes, including the newline
	maxStatsDim  = 1 << 14 // refuse absurd dimensions before allocating
)

type statsHeader struct {
	Format       string `json:"format"`
	Version      int    `json:"version"`
	Network      string `json:"network"`
	NetworkHash  string `json:"network_hash"`
	Dataset      string `json:"dataset"`
	N            int    `json:"n"`
	Dim          int    `json:"dim"`
	Payload      string `json:"payload"`
	PayloadBytes int64  `json:"payload_bytes"`
	SHA256       string `json:"sha256"`
}

// SaveStats writes s to path in the stats file format (see above),
// atomically: a temporary file in the same directory is written, fsynced
// and renamed over path.
func SaveStats(path string, s *Stats) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("fid: SaveStats %q: %w", path, err)
	}
	d := s.Dim
	payload := make([]byte, 0, 8*(d+d*d))
	for _, v := range s.Mean {
		payload = binary.LittleEndian.AppendUint64(payload, math.Float64bits(v))
	}
	for i := range d {
		for j := range d {
			payload = binary.LittleEndian.AppendUint64(payload, math.Float64bits(s.Cov.At(i, j)))
		}
	}
	sum := sha256.Sum256(payload)
	h := statsHeader{
		Format: statsFormat, Version: statsVersion,
		Network: s.Network, NetworkHash: s.NetworkHash, Dataset: s.Dataset,
		N: s.N, Dim: d,
		Payload:      "float64le mean[dim], then cov[dim][dim] row-major",
		PayloadBytes: int64(len(payload)), SHA256: hex.EncodeToString(sum[:]),
	}
	line, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("fid: SaveStats %q: %w", path, err)
	}
	line = append(line, '\n')
	err = writeFileAtomic(path, func(w io.Writer) error {
		if _, err := w.Write(line); err != nil {
			return err
		}
		_, err := w.Write(payload)
		return err
	})
	if err != nil {
		return fmt.Errorf("fid: SaveStats %q: %w", path, err)
	}
	return nil
}

// writeFileAtomic writes path with write (through a buffer) via a
// temporary file in the same directory that is fsynced and renamed into
// place; on error the temporary file is removed and path is untouched.
func writeFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // persist the rename; best effort
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// LoadStats reads statistics written by [SaveStats]. Errors name the file
// and say what is wrong (missing, truncated, corrupt, unsupported version).
func LoadStats(path string) (*Stats, error) {
	s, err := loadStats(path)
	if err != nil {
		return nil, fmt.Errorf("fid: stats file %q: %w", path, err)
	}
	return s, nil
}

func loadStats(path string) (*Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, maxHeaderLen)
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("no header line within %d bytes: not a stats file", maxHeaderLen)
		}
		return nil, fmt.Errorf("truncated or not a stats file: no complete header line (%d bytes)", info.Size())
	}
	var h statsHeader
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("corrupt header: %v", err)
	}
	switch {
	case h.Format != statsFormat:
		return nil, fmt.Errorf("format %q, want %q", h.Format, statsFormat)
	case h.Version != statsVersion:
		return nil, fmt.Errorf("unsupported format version %d (this code reads version %d)", h.Version, statsVersion)
	case h.Dim < 1 || h.Dim > maxStatsDim:
		return nil, fmt.Errorf("corrupt header: dim=%d out of range [1, %d]", h.Dim, maxStatsDim)
	case h.N < 2:
		return nil, fmt.Errorf("corrupt header: n=%d, want ≥ 2", h.N)
	}
	want := int64(8 * (h.Dim + h.Dim*h.Dim))
	if h.PayloadBytes != want {
		return nil, fmt.Errorf("corrupt header: payload_bytes=%d, want 8·(dim+dim²)=%d", h.PayloadBytes, want)
	}
	if have := info.Size() - int64(len(line)); have != want {
		if have < want {
			return nil, fmt.Errorf("truncated: payload has %d bytes, header promises %d", have, want)
		}
		return nil, fmt.Errorf("corrupt: %d unexpected trailing bytes after the payload", have-want)
	}
	payload := make([]byte, want)
	if _, err := io.ReadFull(br, payload); err != nil {
		return nil, fmt.Errorf("truncated: reading %d payload bytes: %v", want, err)
	}
	if sum := sha256.Sum256(payload); hex.EncodeToString(sum[:]) != h.SHA256 {
		return nil, errors.New("corrupt: payload SHA-256 does not match the header")
	}
	d := h.Dim
	vals := make([]float64, d+d*d)
	for i := range vals {
		vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
	}
	covData := vals[d:]
	for i := range d {
		for j := i + 1; j < d; j++ {
			if math.Float64bits(covData[i*d+j]) != math.Float64bits(covData[j*d+i]) {
				return nil, fmt.Errorf("corrupt: covariance is not symmetric at [%d,%d]", i, j)
			}
		}
	}
	s := &Stats{
		Mean: vals[:d:d], Cov: mat.NewSymDense(d, covData), N: h.N, Dim: d,
		Network: h.Network, NetworkHash: h.NetworkHash, Dataset: h.Dataset,
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// CachedStats returns the statistics cached at path if the file is
// readable, of the current format version, and records the given network
// hash, dataset and N; recomputed is then false. Otherwise (missing,
// stale, corrupt) it calls compute, checks that its result matches
// networkHash, dataset and n (empty NetworkHash/Dataset are filled in),
// writes it to path atomically and returns it with recomputed = true.
func CachedStats(path, networkHash, dataset string, n int,
	compute func() (*Stats, error)) (s *Stats, recomputed bool, err error) {
	if networkHash == "" || dataset == "" {
		return nil, false, fmt.Errorf("fid: CachedStats %q: networkHash and dataset are required (got %q, %q)",
			path, networkHash, dataset)
	}
	if old, err := LoadStats(path); err == nil &&
		old.NetworkHash == networkHash && old.Dataset == dataset && old.N == n {
		return old, false, nil
	}
	s, err = compute()
	if err != nil {
		return nil, false, fmt.Errorf("fid: CachedStats %q: computing: %w", path, err)
	}
	if s == nil {
		return nil, false, fmt.Errorf("fid: CachedStats %q: compute returned nil stats", path)
	}
	if s.NetworkHash == "" {
		s.NetworkHash = networkHash
	}
	if s.Dataset == "" {
		s.Dataset = dataset
	}
	switch {
	case s.NetworkHash != networkHash:
		return nil, false, fmt.Errorf("fid: CachedStats %q: computed stats have network hash %q, want %q", path, s.NetworkHash, networkHash)
	case s.Dataset != dataset:
		return nil, false, fmt.Errorf("fid: CachedStats %q: computed stats are of dataset %q, want %q", path, s.Dataset, dataset)
	case s.N != n:
		return nil, false, fmt.Errorf("fid: CachedStats %q: computed stats have N=%d, want %d", path, s.N, n)
	}
	if err := SaveStats(path, s); err != nil {
		return nil, false, err
	}
	return s, true, nil
}
