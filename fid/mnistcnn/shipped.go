package mnistcnn

import _ "embed"

// The shipped weights of mnist-cnn-v1, embedded so that any binary can evaluate samples without
// files on disk. Retrain them with (see fid/README.md):
//
//	GOEXPERIMENT=simd go run ./cmd/ddpm fid-train --seed 1 --out fid/mnistcnn/weights
var (
	//go:embed weights/mnist-cnn-v1.json
	shippedManifest []byte
	//go:embed weights/mnist-cnn-v1.bin
	shippedWeights []byte
)

// ShippedHash is the SHA-256 of the shipped weight bytes (fid/mnistcnn/weights/mnist-cnn-v1.bin): the
// [Network.Hash] of [DefaultNetwork], recorded beside every statistic computed with it.
const ShippedHash = "d4773f21191144d8f0c064546eabd92c524c5bf533e2101d9ae156b86257c0f3"
