// Package fid computes honest sample-quality measures for generated MNIST
// images: Fréchet distance (FID), kernel distance (KID), classifier score
// (the MNIST analogue of the Inception Score), class histograms and
// accuracy, together with a cache for reference statistics and .npy
// interop.
//
// The metrics do not depend on a particular network: they take a [FeatureExtractor] (and a
// [Classifier] for the score and accuracy). The project's feature network, mnist-cnn-v1, lives in
// package fid/mnistcnn (its definition, training with GoMLX, `ddpm fid-train`, and the shipped
// embedded weights): a small CNN whose 128-dimensional penultimate layer gives the features and
// whose softmax gives the class probabilities. [Reference] implements the evaluation protocol
// (reference statistics of the MNIST test set cached per network hash and compute identity,
// real-data floors at equal N); see fid/README.md. Imports run one way: mnistcnn imports fid, never the reverse.
//
// All statistics are computed in float64. Features come from a
// [FeatureExtractor] (a small MNIST CNN, not Inception), so numbers are only
// comparable between runs that use the same network weights: every [Stats]
// records the network name and a hash of its weights, and [FID] refuses to
// compare statistics whose hashes differ.
//
// Shapes: images are passed as a flat []float32 of n×28×28 pixels in
// [-1, 1], row-major (image, row, column). Features are *mat.Dense of shape
// N×D (one row per image); class probabilities are N×10.
//
// Pitfalls handled here:
//   - FID in float32 drifts or becomes NaN: everything is float64.
//   - sqrtm of a near-singular product turns complex: the trace term is
//     computed from symmetric eigendecompositions (Σ₁^½ Σ₂ Σ₁^½ is symmetric
//     positive semidefinite), negative round-off eigenvalues are clipped and
//     reported in [Result].
//   - N ≤ D makes the covariance singular: FID stays finite, and a warning
//     says the value is biased.
//   - FID and KID are biased at small N: compare values only at equal N;
//     KID's estimator is unbiased but noisy, so its Std is reported.
//   - Different feature networks give incomparable numbers: the weight hash
//     travels with the statistics.
package fid
