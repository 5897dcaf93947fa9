package fid

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Stats file format (version 1), written by [SaveStats]: the layout of payloadfile.go, whose
// payload is Mean[0..Dim), then Cov row-major Dim×Dim (full matrix, exactly symmetric).
const (
	statsFormat  = "ddpm-fid-stats"
	statsVersion = 1
	maxStatsDim  = 1 << 14 // refuse absurd dimensions before allocating
)

// SaveStats writes s to path in the stats file format (see above),
// atomically: a temporary file in the same directory is written, fsynced
// and renamed over path.
func SaveStats(path string, s *Stats) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("fid: SaveStats %q: %w", path, err)
	}
	d := s.Dim
	payload := appendFloat64s(make([]byte, 0, 8*(d+d*d)), s.Mean...)
	for i := range d {
		for j := range d {
			payload = appendFloat64s(payload, s.Cov.At(i, j))
		}
	}
	err := writePayloadFile(path, payloadHeader{
		Format: statsFormat, Version: statsVersion,
		Network: s.Network, NetworkHash: s.NetworkHash, Dataset: s.Dataset,
		N: s.N, Dim: d,
		Payload: "float64le mean[dim], then cov[dim][dim] row-major",
	}, payload)
	if err != nil {
		return fmt.Errorf("fid: SaveStats %q: %w", path, err)
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
	h, vals, err := readPayloadFile(path, "stats", func(h *payloadHeader) (int, error) {
		switch {
		case h.Format != statsFormat:
			return 0, fmt.Errorf("format %q, want %q", h.Format, statsFormat)
		case h.Version != statsVersion:
			return 0, fmt.Errorf("unsupported format version %d (this code reads version %d)", h.Version, statsVersion)
		case h.Dim < 1 || h.Dim > maxStatsDim:
			return 0, fmt.Errorf("corrupt header: dim=%d out of range [1, %d]", h.Dim, maxStatsDim)
		case h.N < 2:
			return 0, fmt.Errorf("corrupt header: n=%d, want ≥ 2", h.N)
		}
		count := h.Dim + h.Dim*h.Dim
		if want := int64(8 * count); h.PayloadBytes != want {
			return 0, fmt.Errorf("corrupt header: payload_bytes=%d, want 8·(dim+dim²)=%d", h.PayloadBytes, want)
		}
		return count, nil
	})
	if err != nil {
		return nil, err
	}
	d := h.Dim
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
