// Loading, verifying and saving the weights of the feature network (manifest + raw float32 file).

package mnistcnn

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ddpm-go/ddpm/ddpm/backend"
	"github.com/ddpm-go/ddpm/internal/atomicfile"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// WeightsManifest describes a weight file pair <name>.json + <name>.bin. The .bin holds the
// variables of [networkVars] as little-endian float32, concatenated in that order; its SHA-256
// is the network's [Network.Hash].
type WeightsManifest struct {
	Format      string    `json:"format"`
	Version     int       `json:"version"`
	Name        string    `json:"name"`
	FeatureDim  int       `json:"feature_dim"`
	Description string    `json:"description"`
	Variables   []varSpec `json:"variables"`
	WeightsFile string    `json:"weights_file"`
	Bytes       int64     `json:"weights_bytes"`
	SHA256      string    `json:"weights_sha256"`
	Training    TrainInfo `json:"training"`
}

// TrainInfo records how the weights were made.
type TrainInfo struct {
	Command       string  `json:"command"`
	Seed          int64   `json:"seed"`
	Epochs        int     `json:"epochs"`
	BatchSize     int     `json:"batch_size"`
	LearningRate  float64 `json:"learning_rate"`
	Schedule      string  `json:"schedule"`
	Steps         int64   `json:"steps"`
	Data          string  `json:"data"`
	Backend       string  `json:"backend"`
	Seconds       float64 `json:"seconds"`
	TestAccuracy  float64 `json:"test_accuracy"`
	TrainAccuracy float64 `json:"train_accuracy"`
	GoVersion     string  `json:"go_version"`
}

// DefaultNetwork returns the shipped mnist-cnn-v1 (weights embedded in the binary, see
// [ShippedHash]) on backend b; b == nil opens the project's default backend (backend.Open("")).
func DefaultNetwork(b compute.Backend) (*Network, error) {
	return NewNetwork(b, shippedManifest, shippedWeights)
}

// LoadNetwork loads a weight file pair written by [SaveWeights]: dir/<NetworkName>.json and the
// .bin it names (e.g. the output of `ddpm fid-train --out DIR`).
func LoadNetwork(b compute.Backend, dir string) (*Network, error) {
	manifest, err := os.ReadFile(filepath.Join(dir, NetworkName+".json"))
	if err != nil {
		return nil, fmt.Errorf("fid: loading network: %w", err)
	}
	var m WeightsManifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("fid: loading network: %s: %w", filepath.Join(dir, NetworkName+".json"), err)
	}
	if m.WeightsFile == "" || filepath.Base(m.WeightsFile) != m.WeightsFile {
		return nil, fmt.Errorf("fid: loading network: %s: weights_file %q must be a file name in the same directory",
			filepath.Join(dir, NetworkName+".json"), m.WeightsFile)
	}
	weights, err := os.ReadFile(filepath.Join(dir, m.WeightsFile))
	if err != nil {
		return nil, fmt.Errorf("fid: loading network: %w", err)
	}
	return NewNetwork(b, manifest, weights)
}

// NewNetwork builds a Network from a manifest (JSON, see [WeightsManifest]) and the weight bytes,
// checking format, variable names and shapes, size and SHA-256. b == nil opens the default backend.
func NewNetwork(b compute.Backend, manifestJSON, weights []byte) (*Network, error) {
	m, err := parseManifest(manifestJSON, weights)
	if err != nil {
		return nil, fmt.Errorf("fid: network weights: %w", err)
	}
	return newNetwork(b, m, weights)
}

// newNetwork loads checked weights into a fresh store.
func newNetwork(b compute.Backend, m *WeightsManifest, weights []byte) (*Network, error) {
	if b == nil {
		var err error
		if b, _, err = backend.Open(""); err != nil {
			return nil, fmt.Errorf("fid: network %s: %w", m.Name, err)
		}
	}
	store := model.NewStore()
	off := 0
	for _, v := range networkVars {
		vals := make([]float32, v.size())
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(weights[off+4*i:]))
		}
		off += 4 * len(vals)
		if _, err := store.CreateVariable(v.Path, tensors.FromFlatDataAndDimensions(vals, v.Shape...)); err != nil {
			return nil, fmt.Errorf("fid: network %s: variable %s: %w", m.Name, v.Path, err)
		}
	}
	return &Network{manifest: *m, weights: weights, backend: b, store: store}, nil
}

func parseManifest(manifestJSON, weights []byte) (*WeightsManifest, error) {
	var m WeightsManifest
	dec := json.NewDecoder(bytes.NewReader(manifestJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	switch {
	case m.Format != weightsFormat:
		return nil, fmt.Errorf("manifest format %q, want %q", m.Format, weightsFormat)
	case m.Version != weightsVersion:
		return nil, fmt.Errorf("manifest version %d, this code reads version %d", m.Version, weightsVersion)
	case m.Name != NetworkName || m.FeatureDim != FeatureDim:
		return nil, fmt.Errorf("network %q with D=%d, this code implements %q with D=%d", m.Name, m.FeatureDim, NetworkName, FeatureDim)
	case len(m.Variables) != len(networkVars):
		return nil, fmt.Errorf("%d variables, want %d", len(m.Variables), len(networkVars))
	}
	for i, v := range networkVars {
		got := m.Variables[i]
		if got.Path != v.Path || fmt.Sprint(got.Shape) != fmt.Sprint(v.Shape) {
			return nil, fmt.Errorf("variable %d is %s %v, want %s %v", i, got.Path, got.Shape, v.Path, v.Shape)
		}
	}
	if want := int64(4 * NumParameters()); int64(len(weights)) != want || m.Bytes != want {
		return nil, fmt.Errorf("weights have %d bytes (manifest says %d), want 4·%d = %d", len(weights), m.Bytes, NumParameters(), want)
	}
	if h := hashWeights(weights); h != m.SHA256 {
		return nil, fmt.Errorf("weights SHA-256 %s does not match the manifest's %s (corrupt or mismatched files)", h, m.SHA256)
	}
	for i := 0; i < len(weights); i += 4 {
		if v := math.Float32frombits(binary.LittleEndian.Uint32(weights[i:])); math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("weight %d is %v", i/4, v)
		}
	}
	return &m, nil
}

func hashWeights(weights []byte) string {
	sum := sha256.Sum256(weights)
	return hex.EncodeToString(sum[:])
}

// storeWeights serialises the network variables of store (in [networkVars] order) as
// little-endian float32 bytes.
func storeWeights(store *model.Store) ([]byte, error) {
	out := make([]byte, 0, 4*NumParameters())
	for _, v := range networkVars {
		vr := store.GetVariable(v.Path)
		if vr == nil {
			return nil, fmt.Errorf("variable %s missing from the store", v.Path)
		}
		t, err := vr.Value()
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Path, err)
		}
		if got := t.Shape(); got.DType != dtypes.Float32 || fmt.Sprint(got.Dimensions) != fmt.Sprint(v.Shape) {
			return nil, fmt.Errorf("variable %s has shape %s, want float32%v", v.Path, got, v.Shape)
		}
		for _, x := range tensors.MustCopyFlatData[float32](t) {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
		}
	}
	return out, nil
}

// Save writes the weights as dir/<NetworkName>.bin and the manifest as dir/<NetworkName>.json
// (each atomically, the .bin first); [LoadNetwork] reads them back.
func (n *Network) Save(dir string) error {
	js, err := json.MarshalIndent(n.manifest, "", "  ")
	if err != nil {
		return err
	}
	js = append(js, '\n')
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fid: saving network: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{n.manifest.WeightsFile, n.weights}, {NetworkName + ".json", js}} {
		path := filepath.Join(dir, f.name)
		// Shipped in the repository: atomicfile writes world-readable (0644) files.
		if err := atomicfile.WriteBytes(path, f.data); err != nil {
			return fmt.Errorf("fid: saving network %s: %w", path, err)
		}
	}
	return nil
}

// networkFromStore snapshots the network variables of a (training) store into a Network with a
// manifest recording info.
func networkFromStore(b compute.Backend, store *model.Store, info TrainInfo) (*Network, error) {
	weights, err := storeWeights(store)
	if err != nil {
		return nil, fmt.Errorf("fid: %w", err)
	}
	m := &WeightsManifest{
		Format: weightsFormat, Version: weightsVersion, Name: NetworkName, FeatureDim: FeatureDim,
		Description: networkDescription, Variables: networkVars, WeightsFile: NetworkName + ".bin",
		Bytes: int64(len(weights)), SHA256: hashWeights(weights), Training: info,
	}
	return newNetwork(b, m, weights)
}
