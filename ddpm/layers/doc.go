// Package layers holds the building blocks of the ScoreNet U-Net that GoMLX v0.28.2 lacks or
// computes slowly on its pure-Go backend: 2-D convolutions and transposed convolutions whose
// formulation is chosen by backend, GroupNorm (+ swish), the Gaussian Fourier time embedding and a
// PyTorch-initialised dense layer.
//
// Kernels are [kernelHeight, kernelWidth, inputChannels, outputChannels] for both the convolution
// and the transposed convolution (PyTorch stores the latter as [in, out, kh, kw]), whatever the
// formulation, so checkpoints move between backends.
//
// # Two formulations
//
// Accelerators (XLA, Formulation Stock): images are channels-last [B, H, W, C]; a convolution is
// graph.Convolve (cuDNN on CUDA), a transposed convolution one matrix product per kernel tap
// followed by a "shift and add" per stride phase (ConvTranspose2D: GoMLX has no gradient for
// Convolve with input dilation, nor for Pad and Reverse, so neither is used), and GoMLX's autodiff
// differentiates it all.
//
// GoMLX's pure-Go backend (Formulation Patches, what Auto picks there): its Convolve is a naive
// loop (~0.6 GFLOP/s here) while DotGeneral runs SIMD kernels on all cores (~50-100 GFLOP/s on
// AVX-512 when built with GOEXPERIMENT=simd), but everything else is single-threaded and moves
// data element by element: a same-shape elementwise op costs ~1 ns per element, a broadcasting
// one ~3, Slice ~2.3, Transpose ~5, Exp ~9 and Tanh or Logistic 12-25 on real data, while
// Concatenate copies whole blocks. So on that backend:
//
//   - Activations are channels-first, [C, B, H, W] (ConvCF, ConvTransposeCF, GroupNormSwishCF).
//     Seen as a matrix [C, B·H·W], a convolution is W[Cout, k·k·Cin] · patches[k·k·Cin, N], and
//     its weight and input gradients are products whose operands are already in the layouts the
//     backend's kernels take (left operand [M, K] with K last, right one [K, N] or [N, K]).
//     Channels-last products would need a big transpose in every weight gradient: GoMLX's
//     DotGeneral VJP contracts v's leading axes, which makes the backend transpose both v and
//     the patches (9× the input).
//   - Gradients are hand-written (CustomGradient) instead of GoMLX's autodiff, which would
//     transpose, slice and broadcast: the weight gradient reuses the forward's patches; the input
//     gradient of a convolution is a transposed convolution and vice versa; GroupNorm + swish
//     keeps its statistics and σ for the backward pass.
//   - Patches are strided slices of x concatenated on the channel axis (whole blocks). A
//     transposed convolution is one product per tap, each shifted by concatenating zero blocks
//     (Pad copies element by element when the last axis is padded) and summed per stride phase;
//     its phases are stacked whole into a PhaseSplit grid (see Grid) when the next layers can
//     read that layout, instead of being interleaved element by element.
//   - GroupNorm statistics are row sums (Σy, Σy²) computed once per (channel, example), the
//     normalisation plus offset one per-row affine map, the swish u·σ(u) one Exp; see
//     GroupNormSwishCF (until compute v0.1.2 the row sums and maps were batched dot products,
//     which compute v0.1.14's SIMD element-wise kernels now beat ~5×). The U-Net's BatchNorm + GELU is built the
//     same way (BatchNormGeluCF; GELU's derivative from the fused GELU's output), and in inference
//     BatchNorm folds into the convolution before it (BatchNormInference, ConvBiasCF: the bias
//     added inside the product by a row of ones in the patches).
//   - Networks are built for two independent sub-batches from batch 32 (BatchChunks,
//     InBatchChunks): the backend runs independent ops concurrently when configured as
//     ddpm/backend does, so the two chains of single-threaded element-wise ops run on both cores.
//
// The two formulations agree to float32 round-off: the tests compare both with direct
// definitions, with each other and (package scorenet) with PyTorch.
package layers
