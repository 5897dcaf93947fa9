package training

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ddpm-go/ddpm/ddpm/mnist"
)

// randomSet builds an n-image 4×3 set from random bytes.
func randomSet(t *testing.T, n int) *mnist.Set {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	pixels, labels := make([]uint8, n*12), make([]uint8, n)
	for i := range pixels {
		pixels[i] = uint8(r.IntN(256))
	}
	for i := range labels {
		labels[i] = uint8(r.IntN(10))
	}
	set, err := mnist.NewSet("random", n, 4, 3, pixels, labels, "images", "labels")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestBatchesHoldTheSetsValues checks that the batches carry exactly the set's float32 values and
// labels, in Permutation order, whether they keep the images as bytes (an 8-bit set) or as float32
// (a set with a value off the 8-bit grid).
func TestBatchesHoldTheSetsValues(t *testing.T) {
	for _, tc := range []struct {
		name      string
		offGrid   bool
		wantBytes bool
	}{{"8-bit set kept as bytes", false, true}, {"off-grid set kept as float32", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			set := randomSet(t, 10)
			if tc.offGrid {
				set.Images[5] = 0.123
			}
			const batch, seed = 3, 7
			d := NewBatches(set, seed, batch)
			if gotBytes := d.pixels != nil; gotBytes != tc.wantBytes {
				t.Fatalf("batches keep bytes: %v, want %v", gotBytes, tc.wantBytes)
			}
			d.Start = 2 // the last step of epoch 0, then epoch 1
			step := d.Start
			for b, err := range d.Iter() {
				if err != nil {
					t.Fatal(err)
				}
				epoch, first := int(step/3), int(step%3)*batch
				perm := Permutation(set.N, seed, epoch)
				images, labels := b.Inputs[0].Value().([][][][]float32), b.Inputs[1].Value().([]int32)
				for i := range batch {
					idx := perm[first+i]
					if int(labels[i]) != set.Labels[idx] {
						t.Fatalf("step %d example %d: label %d, want %d", step, i, labels[i], set.Labels[idx])
					}
					for p, want := range set.Image(idx) {
						if got := images[i][p/3][p%3][0]; math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("step %d example %d pixel %d: %v, want %v", step, i, p, got, want)
						}
					}
				}
				if step++; step == 5 {
					break
				}
			}
		})
	}
}
