package mnistcnn

import (
	"fmt"
	"math"
	"sync"

	"github.com/ddpm-go/ddpm/ddpm/layers"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"gonum.org/v1/gonum/mat"
)

// The MNIST feature network ("mnist-cnn-v1"): a small CNN classifier trained by this project
// (see [Train]) whose penultimate layer gives the features of FID and KID and whose softmax gives
// the classifier score, the class histogram and the class accuracy.
//
//	input   x [B, 28, 28] in [-1, 1] (as mnist.Set.Images and `ddpm sample` .npy files), as [B, 28, 28, 1]
//	conv1   3×3, stride 1, 32 channels + bias, ReLU         → [B, 26, 26, 32]
//	conv2   3×3, stride 2, 64 channels + bias, ReLU         → [B, 12, 12, 64]
//	conv3   3×3, stride 2, 128 channels + bias, ReLU        → [B, 5, 5, 128]
//	flatten                                                  → [B, 3200]
//	fc1     dense 3200 → 128 + ReLU                          → [B, 128]  = the features (D = 128)
//	fc2     dense 128 → 10                                   → logits; softmax = class probabilities
//
// Convolutions have no padding. 503,690 float32 parameters (2,014,760 bytes, 1.92 MiB).
const (
	NetworkName    = "mnist-cnn-v1" // name recorded beside every statistic computed with the network
	FeatureDim     = 128            // D: dimension of the features (fc1 after its ReLU)
	EvalBatch      = 500            // images per call of the compiled inference graph
	networkScope   = "mnist_cnn"    // variables live under /mnist_cnn/...
	weightsFormat  = "ddpm-fid-network"
	weightsVersion = 1
)

// varSpec is one variable of the network, in the order the weight file stores them.
type varSpec struct {
	Path  string `json:"path"`
	Shape []int  `json:"shape"`
}

// networkVars lists the variables of mnist-cnn-v1 in file order. Each is float32, row-major;
// convolution kernels are [kh, kw, Cin, Cout], dense weights [in, out].
var networkVars = []varSpec{
	{"/mnist_cnn/conv1/weights", []int{3, 3, 1, 32}}, {"/mnist_cnn/conv1/biases", []int{32}},
	{"/mnist_cnn/conv2/weights", []int{3, 3, 32, 64}}, {"/mnist_cnn/conv2/biases", []int{64}},
	{"/mnist_cnn/conv3/weights", []int{3, 3, 64, 128}}, {"/mnist_cnn/conv3/biases", []int{128}},
	{"/mnist_cnn/fc1/weights", []int{3200, FeatureDim}}, {"/mnist_cnn/fc1/biases", []int{FeatureDim}},
	{"/mnist_cnn/fc2/weights", []int{FeatureDim, fid.NumClasses}}, {"/mnist_cnn/fc2/biases", []int{fid.NumClasses}},
}

func (v varSpec) size() int {
	n := 1
	for _, d := range v.Shape {
		n *= d
	}
	return n
}

// NumParameters is the number of float32 parameters of mnist-cnn-v1.
func NumParameters() int {
	n := 0
	for _, v := range networkVars {
		n += v.size()
	}
	return n
}

// pytorchUniform returns a float32 variable initialised uniformly in [-1/√fanIn, 1/√fanIn)
// (PyTorch's default for Conv2d and Linear weights and biases).
func pytorchUniform(scope *model.Scope, name string, fanIn int, dims ...int) *model.Variable {
	b := 1 / math.Sqrt(float64(fanIn))
	return scope.WithInitializer(initializer.RandomUniformFn(scope, -b, b)).
		VariableWithShape(name, shapes.Make(dtypes.Float32, dims...))
}

// cnnGraph builds mnist-cnn-v1 on x [B, 28, 28] (or [B, 28, 28, 1]) under scope (the root scope
// of the store; the variables are created under /mnist_cnn) and returns the features [B, 128] and
// the logits [B, 10].
func cnnGraph(scope *model.Scope, x *graph.Node) (features, logits *graph.Node) {
	s := scope.In(networkScope)
	g := x.Graph()
	h := graph.Reshape(x, x.Shape().Dim(0), fid.ImageSize, fid.ImageSize, 1)
	conv := func(name string, h *graph.Node, cout, stride int) *graph.Node {
		cin := h.Shape().Dim(-1)
		cs := s.In("%s", name)
		k := pytorchUniform(cs, "weights", 9*cin, 3, 3, cin, cout).NodeValue(g)
		b := pytorchUniform(cs, "biases", 9*cin, cout).NodeValue(g)
		y := conv2D(h, k, stride)
		return relu(graph.Add(y, graph.ExpandLeftToRank(b, 4)))
	}
	dense := func(name string, h *graph.Node, out int) *graph.Node {
		in := h.Shape().Dim(-1)
		ds := s.In("%s", name)
		w := pytorchUniform(ds, "weights", in, in, out).NodeValue(g)
		b := pytorchUniform(ds, "biases", in, out).NodeValue(g)
		return graph.Add(graph.MatMul(h, w), graph.ExpandLeftToRank(b, 2))
	}
	h = conv("conv1", h, 32, 1)  // 26×26
	h = conv("conv2", h, 64, 2)  // 12×12
	h = conv("conv3", h, 128, 2) // 5×5
	h = graph.Reshape(h, h.Shape().Dim(0), -1)
	features = relu(dense("fc1", h, FeatureDim))
	logits = dense("fc2", features, fid.NumClasses)
	return features, logits
}

const networkDescription = "conv3x3(32)-relu, conv3x3/2(64)-relu, conv3x3/2(128)-relu, flatten(3200), " +
	"dense(128)-relu [features], dense(10) [logits]; no padding; input 28x28 in [-1,1]"

// Network is a loaded mnist-cnn-v1: it implements [fid.FeatureExtractor] (fc1 activations, D = 128)
// and [fid.Classifier] (softmax of the logits). Methods are safe for concurrent use (calls are
// serialised).
type Network struct {
	manifest WeightsManifest
	weights  []byte // little-endian float32, networkVars order
	backend  compute.Backend
	store    *model.Store

	mu   sync.Mutex
	exec *model.Exec // one compiled graph for batches of EvalBatch images
}

var _ interface {
	fid.FeatureExtractor
	fid.Classifier
} = (*Network)(nil)

// Name implements [fid.FeatureExtractor]: "mnist-cnn-v1".
func (n *Network) Name() string { return n.manifest.Name }

// Hash implements [fid.FeatureExtractor]: the hex SHA-256 of the weight bytes (the .bin file).
func (n *Network) Hash() string { return n.manifest.SHA256 }

// Dim implements [fid.FeatureExtractor]: 128.
func (n *Network) Dim() int { return FeatureDim }

// Manifest returns the description of the loaded weights (training command, seed, accuracy).
func (n *Network) Manifest() WeightsManifest { return n.manifest }

// Features implements [fid.FeatureExtractor].
func (n *Network) Features(images []float32, num int) (*mat.Dense, error) {
	f, _, err := n.Outputs(images, num)
	return f, err
}

// Probabilities implements [fid.Classifier].
func (n *Network) Probabilities(images []float32, num int) (*mat.Dense, error) {
	_, p, err := n.Outputs(images, num)
	return p, err
}

// Outputs returns both the N×128 features and the N×10 class probabilities of num images (a
// flat slice of num×28×28 float32 pixels in [-1, 1]) in one pass, EvalBatch images per call of
// the compiled graph (the last batch is padded).
func (n *Network) Outputs(images []float32, num int) (features, probs *mat.Dense, err error) {
	if num < 1 || len(images) != num*fid.ImagePixels {
		return nil, nil, fmt.Errorf("fid: %s: %d values for n=%d images, want n ≥ 1 and n×28×28 = %d",
			n.Name(), len(images), num, max(num, 0)*fid.ImagePixels)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exec == nil {
		n.exec, err = model.NewExec(n.backend, n.store, func(scope *model.Scope, x *graph.Node) (*graph.Node, *graph.Node) {
			f, logits := cnnGraph(scope, x)
			return f, graph.Softmax(logits, -1)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("fid: %s: building the inference graph: %w", n.Name(), err)
		}
	}
	features = mat.NewDense(num, FeatureDim, nil)
	probs = mat.NewDense(num, fid.NumClasses, nil)
	batch := make([]float32, EvalBatch*fid.ImagePixels)
	for lo := 0; lo < num; lo += EvalBatch {
		hi := min(lo+EvalBatch, num)
		clear(batch[copy(batch, images[lo*fid.ImagePixels:hi*fid.ImagePixels]):])
		outs, err := n.call(tensors.FromFlatDataAndDimensions(batch, EvalBatch, fid.ImageSize, fid.ImageSize))
		if err != nil {
			return nil, nil, fmt.Errorf("fid: %s: %w", n.Name(), err)
		}
		f := tensors.MustCopyFlatData[float32](outs[0])
		p := tensors.MustCopyFlatData[float32](outs[1])
		for _, o := range outs {
			_ = o.FinalizeAll()
		}
		for i := lo; i < hi; i++ {
			row := features.RawRowView(i)
			for j := range row {
				row[j] = float64(f[(i-lo)*FeatureDim+j])
			}
			row = probs.RawRowView(i)
			for j := range row {
				row[j] = float64(p[(i-lo)*fid.NumClasses+j])
			}
		}
	}
	return features, probs, nil
}

// call runs the compiled graph, turning GoMLX panics into errors.
func (n *Network) call(x *tensors.Tensor) (outs []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("inference graph panicked: %v", r)
		}
	}()
	return n.exec.Call(x)
}

// Close releases the compiled graph and the weights on the device.
func (n *Network) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exec != nil {
		n.exec.Finalize()
		n.exec = nil
	}
}

// relu is max(x, 0).
func relu(x *graph.Node) *graph.Node { return graph.Max(x, graph.ZerosLike(x)) }

// conv2D is a convolution without padding of x [B, H, W, Cin] with kernel [3, 3, Cin, Cout]: on
// GoMLX's pure-Go backend as patches (im2col) times the kernel matrix, whose matrix product runs
// on the SIMD kernels (GoMLX's stock Convolve is a naive loop there); elsewhere (XLA) the stock
// convolution. It is a private copy of the Patches formulation of ddpm/layers.Conv2D, so that work
// on the diffusion model's layers cannot change the round-off of this measuring instrument (and
// so the weights that `ddpm fid-train` reproduces bit for bit).
func conv2D(x, kernel *graph.Node, stride int) *graph.Node {
	if !layers.IsGoBackend(x.Graph().Backend()) {
		return graph.Convolve(x, kernel).StridePerAxis(stride, stride).NoPadding().Done()
	}
	batch, h, w, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	kh, kw, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(1), kernel.Shape().Dim(3)
	ho, wo := (h-kh)/stride+1, (w-kw)/stride+1
	taps := make([]*graph.Node, 0, kh*kw)
	for ky := range kh {
		for kx := range kw {
			taps = append(taps, graph.Slice(x, graph.AxisRange(),
				graph.AxisRange(ky, ky+(ho-1)*stride+1).Stride(stride),
				graph.AxisRange(kx, kx+(wo-1)*stride+1).Stride(stride),
				graph.AxisRange()))
		}
	}
	patches := graph.Reshape(graph.Concatenate(taps, -1), batch*ho*wo, kh*kw*cin) // columns in (ky, kx, cin) order
	out := graph.MatMul(patches, graph.Reshape(kernel, kh*kw*cin, cout))
	return graph.Reshape(out, batch, ho, wo, cout)
}
