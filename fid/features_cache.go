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

	"gonum.org/v1/gonum/mat"
)

// Features cache format (version 1), like the stats format: one JSON header line
// (featuresHeader) then the N×D features as little-endian float64, row-major. Used for the
// features of the MNIST test set, which KID needs at every evaluation.
const (
	featuresFormat  = "ddpm-fid-features"
	featuresVersion = 1
)

type featuresHeader struct {
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

// saveFeatures writes f with its provenance to path atomically.
func saveFeatures(path, network, networkHash, dataset string, f *mat.Dense) error {
	n, d := f.Dims()
	payload := make([]byte, 0, 8*n*d)
	for i := range n {
		for _, v := range f.RawRowView(i)[:d] {
			payload = binary.LittleEndian.AppendUint64(payload, math.Float64bits(v))
		}
	}
	sum := sha256.Sum256(payload)
	line, err := json.Marshal(featuresHeader{
		Format: featuresFormat, Version: featuresVersion, Network: network, NetworkHash: networkHash,
		Dataset: dataset, N: n, Dim: d, Payload: "float64le features[n][dim] row-major",
		PayloadBytes: int64(len(payload)), SHA256: hex.EncodeToString(sum[:]),
	})
	if err != nil {
		return err
	}
	err = writeFileAtomic(path, func(w io.Writer) error {
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
		_, err := w.Write(payload)
		return err
	})
	if err != nil {
		return fmt.Errorf("fid: saving features %q: %w", path, err)
	}
	return nil
}

// loadFeatures reads features written by saveFeatures and checks their provenance.
func loadFeatures(path, networkHash, dataset string, n, d int) (*mat.Dense, error) {
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
		return nil, errors.New("no header line")
	}
	var h featuresHeader
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("corrupt header: %v", err)
	}
	want := int64(8 * n * d)
	switch {
	case h.Format != featuresFormat || h.Version != featuresVersion:
		return nil, fmt.Errorf("format %q version %d, want %q version %d", h.Format, h.Version, featuresFormat, featuresVersion)
	case h.NetworkHash != networkHash || h.Dataset != dataset || h.N != n || h.Dim != d:
		return nil, fmt.Errorf("stale: %s %s N=%d D=%d, want %s %s N=%d D=%d",
			h.NetworkHash, h.Dataset, h.N, h.Dim, networkHash, dataset, n, d)
	case h.PayloadBytes != want || info.Size()-int64(len(line)) != want:
		return nil, fmt.Errorf("truncated or corrupt: %d payload bytes, want %d", info.Size()-int64(len(line)), want)
	}
	payload := make([]byte, want)
	if _, err := io.ReadFull(br, payload); err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(payload); hex.EncodeToString(sum[:]) != h.SHA256 {
		return nil, errors.New("corrupt: payload SHA-256 does not match the header")
	}
	vals := make([]float64, n*d)
	for i := range vals {
		vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
	}
	m := mat.NewDense(n, d, vals)
	if err := checkFinite(m, "cached features"); err != nil {
		return nil, err
	}
	return m, nil
}
