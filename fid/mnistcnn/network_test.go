package mnistcnn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
	"github.com/ddpm-go/ddpm/ddpm/training"
	"github.com/ddpm-go/ddpm/fid"
	"github.com/ddpm-go/ddpm/internal/testutil"
	"gonum.org/v1/gonum/mat"
)

var (
	shippedOnce sync.Once
	shippedNet  *Network
	shippedErr  error
)

func shipped(t testing.TB) *Network {
	t.Helper()
	shippedOnce.Do(func() { shippedNet, shippedErr = DefaultNetwork(testutil.GoBackend(t)) })
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shippedNet
}

func mnistSet(t testing.TB, split mnist.Split) *mnist.Set {
	t.Helper()
	set, err := mnist.EnsureAndLoad(context.Background(), "", split, os.Stderr)
	if err != nil {
		t.Skipf("MNIST unavailable (run `ddpm fetch`): %v", err)
	}
	return set
}

func TestShippedWeightsHash(t *testing.T) {
	sum := sha256.Sum256(shippedWeights)
	if got := hex.EncodeToString(sum[:]); got != ShippedHash {
		t.Fatalf("sha256 of fid/mnistcnn/weights/%s.bin is %s, recorded ShippedHash is %s", NetworkName, got, ShippedHash)
	}
	net := shipped(t)
	if net.Hash() != ShippedHash || net.Manifest().SHA256 != ShippedHash {
		t.Fatalf("network hash %s / manifest %s, want %s", net.Hash(), net.Manifest().SHA256, ShippedHash)
	}
	if net.Name() != NetworkName || net.Dim() != FeatureDim || len(shippedWeights) != 4*NumParameters() {
		t.Fatalf("name %q dim %d bytes %d", net.Name(), net.Dim(), len(shippedWeights))
	}
	if len(shippedWeights) >= 2<<20 {
		t.Errorf("weights are %d bytes, want < 2 MiB", len(shippedWeights))
	}
}

// TestShippedAccuracy asserts the shipped classifier's accuracy on the 10k MNIST test set from the
// shipped weights, and that it is the accuracy recorded in the manifest.
func TestShippedAccuracy(t *testing.T) {
	net := shipped(t)
	test := mnistSet(t, mnist.Test)
	acc, err := net.Accuracy(test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s: test accuracy %.4f (manifest %.4f)", net.Name(), net.Hash()[:12], acc, net.Manifest().Training.TestAccuracy)
	if acc < 0.99 {
		t.Fatalf("test accuracy %.4f < 0.990", acc)
	}
	if math.Abs(acc-net.Manifest().Training.TestAccuracy) > 5e-4 {
		t.Errorf("test accuracy %.4f differs from the manifest's %.4f", acc, net.Manifest().Training.TestAccuracy)
	}
}

// TestOutputsBatchingAndDeterminism: results do not depend on how images are batched (n not a
// multiple of EvalBatch, padding) and repeat exactly; probabilities sum to 1.
func TestOutputsBatchingAndDeterminism(t *testing.T) {
	net := shipped(t)
	test := mnistSet(t, mnist.Test)
	n := EvalBatch + 7
	f1, p1, err := net.Outputs(test.Images[:n*fid.ImagePixels], n)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := net.Features(test.Images[EvalBatch*fid.ImagePixels:n*fid.ImagePixels], 7)
	if err != nil {
		t.Fatal(err)
	}
	f3, err := net.Features(test.Images[:n*fid.ImagePixels], n)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(f1, f3) {
		t.Error("features differ between two identical calls")
	}
	for i := range 7 {
		for j := range FeatureDim {
			if a, b := f1.At(EvalBatch+i, j), f2.At(i, j); math.Abs(a-b) > 1e-5*(1+math.Abs(a)) {
				t.Fatalf("feature [%d,%d]: %v in a batch of %d, %v alone", i, j, a, n, b)
			}
		}
	}
	for i := range n {
		if s := mat.Sum(p1.RowView(i)); math.Abs(s-1) > 1e-5 {
			t.Fatalf("probabilities of image %d sum to %v", i, s)
		}
	}
	if _, _, err := net.Outputs(test.Images[:100], 1); err == nil {
		t.Error("want an error for a wrong number of pixels")
	}
}

func TestSaveLoadRoundTripAndCorruption(t *testing.T) {
	net := shipped(t)
	dir := t.TempDir()
	if err := net.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := LoadNetwork(testutil.GoBackend(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if back.Hash() != net.Hash() {
		t.Fatalf("hash %s after Save/Load, want %s", back.Hash(), net.Hash())
	}
	bin := filepath.Join(dir, NetworkName+".bin")
	data, _ := os.ReadFile(bin)
	data[1000] ^= 1
	if err := os.WriteFile(bin, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadNetwork(testutil.GoBackend(t), dir)
	testutil.WantErr(t, err, "SHA-256")
	if err := os.WriteFile(bin, data[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadNetwork(testutil.GoBackend(t), dir)
	testutil.WantErr(t, err, "bytes")
}

// TestTrainIsDeterministic: a few steps of training twice from the same seed give the same weight
// hash; another seed gives another.
func TestTrainIsDeterministic(t *testing.T) {
	train := mnistSet(t, mnist.Train)
	idx := make([]int, 400)
	for i := range idx {
		idx[i] = i
	}
	small := train.Subset(idx)
	hash := func(seed int64) string {
		net, err := Train(context.Background(), testutil.GoBackend(t), small, nil, TrainOptions{Seed: seed, Epochs: 1, BatchSize: 50, MaxSteps: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		if net.Manifest().Training.Steps != 4 {
			t.Fatalf("trained %d steps, want 4", net.Manifest().Training.Steps)
		}
		return net.Hash()
	}
	a, b, c := hash(7), hash(7), hash(8)
	if a != b {
		t.Fatalf("same seed, different weights: %s vs %s", a, b)
	}
	if a == c {
		t.Fatalf("seeds 7 and 8 gave the same weights %s", a)
	}
	if _, err := Train(context.Background(), testutil.GoBackend(t), small, nil, TrainOptions{}); err == nil {
		t.Error("seed 0 accepted")
	}
}

// pooledExtractor is a cheap stand-in network: 7×7 average pooling (D = 16), with a settable hash.
type pooledExtractor struct{ hash string }

func (p pooledExtractor) Name() string { return "pooled-7x7" }
func (p pooledExtractor) Hash() string { return p.hash }
func (p pooledExtractor) Dim() int     { return 16 }
func (p pooledExtractor) Features(images []float32, n int) (*mat.Dense, error) {
	f := mat.NewDense(n, 16, nil)
	for i := range n {
		img := images[i*fid.ImagePixels : (i+1)*fid.ImagePixels]
		for y := range fid.ImageSize {
			for x := range fid.ImageSize {
				f.Set(i, (y/7)*4+x/7, f.At(i, (y/7)*4+x/7)+float64(img[y*fid.ImageSize+x])/49)
			}
		}
	}
	return f, nil
}

// TestReferenceCacheRecomputesOnHashChange: the reference statistics are cached per hash, reused
// when they match, and recomputed (not reused) when the cached file records another hash.
func TestReferenceCacheRecomputesOnHashChange(t *testing.T) {
	mnistSet(t, mnist.Test)
	dir := t.TempDir()
	var log strings.Builder
	a := pooledExtractor{hash: strings.Repeat("a", 64)}
	ra, err := fid.NewReference(context.Background(), a, "", dir, &log)
	if err != nil {
		t.Fatal(err)
	}
	pathA := filepath.Join(dir, "mnist-test-aaaaaaaaaaaa.stats")
	if !strings.Contains(log.String(), "reference statistics") {
		t.Fatalf("first call did not compute the statistics: %s", log.String())
	}
	if s, err := fid.LoadStats(pathA); err != nil || s.NetworkHash != a.hash || s.N != 10000 || s.Dataset != fid.ReferenceDataset {
		t.Fatalf("cached stats %+v, %v", s, err)
	}
	log.Reset()
	if _, err := fid.NewReference(context.Background(), a, "", dir, &log); err != nil {
		t.Fatal(err)
	}
	if log.Len() != 0 {
		t.Fatalf("second call recomputed: %s", log.String())
	}
	// Plant hash a's files under hash b's names: they must not be used for b.
	b := pooledExtractor{hash: strings.Repeat("b", 64)}
	for _, ext := range []string{".stats", ".features"} {
		data, err := os.ReadFile(filepath.Join(dir, "mnist-test-aaaaaaaaaaaa"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "mnist-test-bbbbbbbbbbbb"+ext), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rb, err := fid.NewReference(context.Background(), b, "", dir, &log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "recomputing the cached test features") || !strings.Contains(log.String(), "reference statistics") {
		t.Fatalf("stale cache not recomputed: %s", log.String())
	}
	if rb.TestStats.NetworkHash != b.hash {
		t.Fatalf("stats hash %s, want %s", rb.TestStats.NetworkHash, b.hash)
	}
	if s, err := fid.LoadStats(filepath.Join(dir, "mnist-test-bbbbbbbbbbbb.stats")); err != nil || s.NetworkHash != b.hash {
		t.Fatalf("cache for b: %+v, %v", s, err)
	}
	// Same features, different hash: the statistics are equal but never comparable.
	if _, err := fid.FID(ra.TestStats, rb.TestStats); err == nil || !strings.Contains(err.Error(), "network mismatch") {
		t.Fatalf("FID across hashes: %v, want a network mismatch error", err)
	}
}

// TestPipelineSanity: with the shipped network, two disjoint halves of the test set are close,
// real images are far from noise, the floor is small, and an extractor that is not a classifier
// still gives FID/KID.
func TestPipelineSanity(t *testing.T) {
	net := shipped(t)
	test := mnistSet(t, mnist.Test)
	// The project's cache (data/fid): warm after the first run; recomputed if missing or stale.
	ref, err := fid.NewReference(context.Background(), net, "", fid.CacheDir(mnist.Dir("")), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Random halves: the first and second 5000 test images come from different writers (MNIST's
	// SD-3 and SD-1), and their FID is several times the floor.
	perm := training.Permutation(test.N, 3, 0)
	sa, err := fid.StatsFromImages(net, "test-random-half-a", test.Subset(perm[:5000]).Images, 5000)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := fid.StatsFromImages(net, "test-random-half-b", test.Subset(perm[5000:]).Images, 5000)
	if err != nil {
		t.Fatal(err)
	}
	rh, err := fid.FID(sa, sb)
	if err != nil {
		t.Fatal(err)
	}
	halves := rh.FID
	t.Logf("random halves: FID %.4f = mean term %.4f + Tr %.2f + Tr %.2f - 2·%.2f", halves, rh.MeanTerm, rh.TraceA, rh.TraceB, rh.TraceSqrt)

	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]float32, 1000*fid.ImagePixels)
	for i := range noise {
		noise[i] = float32(2*rng.Float64() - 1)
	}
	mNoise, err := ref.Measure(context.Background(), noise, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	mReal, err := ref.Measure(context.Background(), test.Images[:1000*fid.ImagePixels], 1000, test.Labels[:1000])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("N=1000: real test images FID %.4f (floor %.4f ± %.2f), KID %.5g ± %.3g (floor %.5g ± %.3g); noise FID %.1f, KID %.5g, score %.3f; real score %.3f, accuracy %.4f",
		mReal.FID.FID, mReal.Floor.FID, mReal.Floor.FIDStd, mReal.KID.Mean, mReal.KID.Std, mReal.Floor.KID, mReal.Floor.KIDStd,
		mNoise.FID.FID, mNoise.KID.Mean, mNoise.Score, mReal.Score, mReal.Accuracy)
	if halves <= 0 || halves*100 > mNoise.FID.FID {
		t.Errorf("FID of test halves %.4f is not ≪ FID of noise %.4f", halves, mNoise.FID.FID)
	}
	if mReal.Floor == nil || mReal.Floor.N != 1000 || mReal.Floor.FID*20 > mNoise.FID.FID {
		t.Errorf("floor %+v not ≪ noise FID %.4f", mReal.Floor, mNoise.FID.FID)
	}
	if mNoise.KID.Mean < 10*math.Abs(mReal.KID.Mean) || mNoise.KID.Mean < 10*mReal.KID.Std {
		t.Errorf("KID of noise %.5f not ≫ KID of real images %.5f ± %.5f", mNoise.KID.Mean, mReal.KID.Mean, mReal.KID.Std)
	}
	if mReal.Accuracy < 0.98 || mReal.Score < 9 || mReal.Confident < 0.95 {
		t.Errorf("real images: accuracy %.4f, score %.3f, confident %.4f", mReal.Accuracy, mReal.Score, mReal.Confident)
	}
	if f := mReal.Floor; f.Confident == nil || *f.Confident < 0.95 || *f.ConfidentStd > 0.02 {
		t.Errorf("floor: confident %v ± %v, want ≥ 0.95 ± ≤ 0.02", f.Confident, f.ConfidentStd)
	}
	if mNoise.Confident > 0.5 {
		t.Errorf("uniform noise: %.4f classified with confidence ≥ %g", mNoise.Confident, fid.ConfidenceThreshold)
	}
	h := 0
	for _, k := range mReal.Histogram {
		h += k
	}
	if h != 1000 {
		t.Errorf("histogram sums to %d", h)
	}
	// The floor is cached: a second reference over the same cache returns the same value.
	f2, err := ref.Floor(context.Background(), 1000)
	if err != nil || f2.FID != mReal.Floor.FID {
		t.Errorf("floor again: %+v, %v", f2, err)
	}
	if _, err := ref.Measure(context.Background(), noise[:fid.ImagePixels], 1, nil); err == nil {
		t.Error("N=1 accepted")
	}
	bad := append([]float32(nil), noise[:2*fid.ImagePixels]...)
	bad[5] = 3
	_, err = ref.Measure(context.Background(), bad, 2, nil)
	testutil.WantErr(t, err, "outside [-1,1]")
}

func TestNpyLabels(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.labels.npy")
	if fid.LabelsPath(filepath.Join(dir, "s.npy")) != p {
		t.Fatalf("LabelsPath = %s", fid.LabelsPath(filepath.Join(dir, "s.npy")))
	}
	want := []int{3, 1, 4, 1, 5, 9, 2, 6}
	if err := fid.WriteNpyLabels(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := fid.ReadNpyLabels(p)
	if err != nil || len(got) != len(want) {
		t.Fatalf("ReadNpyLabels: %v %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("label %d = %d, want %d", i, got[i], want[i])
		}
	}
	if err := fid.WriteNpyFloat32(p, []float32{1, 2.5}, 2); err != nil {
		t.Fatal(err)
	}
	_, err = fid.ReadNpyLabels(p)
	testutil.WantErr(t, err, "label 1 is 2.5")
	if err := fid.WriteNpyFloat32(p, make([]float32, 6), 2, 3); err != nil {
		t.Fatal(err)
	}
	_, err = fid.ReadNpyLabels(p)
	testutil.WantErr(t, err, "shape (2, 3)")
}
