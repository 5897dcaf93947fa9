package fid

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Features cache format (version 1): the layout of payloadfile.go, like the stats format, whose
// payload is the N×D features, row-major. Used for the features of the MNIST test set, which KID
// needs at every evaluation.
const (
	featuresFormat  = "ddpm-fid-features"
	featuresVersion = 1
)

// saveFeatures writes f with its provenance to path atomically.
func saveFeatures(path, network, networkHash, dataset string, f *mat.Dense) error {
	n, d := f.Dims()
	payload := make([]byte, 0, 8*n*d)
	for i := range n {
		payload = appendFloat64s(payload, f.RawRowView(i)[:d]...)
	}
	err := writePayloadFile(path, payloadHeader{
		Format: featuresFormat, Version: featuresVersion, Network: network, NetworkHash: networkHash,
		Dataset: dataset, N: n, Dim: d, Payload: "float64le features[n][dim] row-major",
	}, payload)
	if err != nil {
		return fmt.Errorf("fid: saving features %q: %w", path, err)
	}
	return nil
}

// loadFeatures reads features written by saveFeatures and checks their provenance.
func loadFeatures(path, networkHash, dataset string, n, d int) (*mat.Dense, error) {
	_, vals, err := readPayloadFile(path, "features", func(h *payloadHeader) (int, error) {
		switch {
		case h.Format != featuresFormat || h.Version != featuresVersion:
			return 0, fmt.Errorf("format %q version %d, want %q version %d", h.Format, h.Version, featuresFormat, featuresVersion)
		case h.NetworkHash != networkHash || h.Dataset != dataset || h.N != n || h.Dim != d:
			return 0, fmt.Errorf("stale: %s %s N=%d D=%d, want %s %s N=%d D=%d",
				h.NetworkHash, h.Dataset, h.N, h.Dim, networkHash, dataset, n, d)
		}
		return n * d, nil
	})
	if err != nil {
		return nil, err
	}
	m := mat.NewDense(n, d, vals)
	if err := checkFinite(m, "cached features"); err != nil {
		return nil, err
	}
	return m, nil
}
