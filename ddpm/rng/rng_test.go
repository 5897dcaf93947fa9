package rng

import (
	"fmt"
	"testing"
)

// TestStreamsAreSeparate checks that streams are deterministic and that changing any of seed,
// purpose or index gives another stream.
func TestStreamsAreSeparate(t *testing.T) {
	seen := map[[2]uint64]string{}
	for _, seed := range []int64{0, 1, -1} {
		for _, p := range []Purpose{DataOrder, StepNoise, Sampling, ClassifierEval, PriorMixture} {
			for _, i := range []int64{0, 1, 2, 1 << 40} {
				a, b := StreamSeed(seed, p, i)
				if a2, b2 := StreamSeed(seed, p, i); a2 != a || b2 != b {
					t.Fatalf("StreamSeed(%d, %d, %d) is not deterministic", seed, p, i)
				}
				key := [2]uint64{a, b}
				name := fmt.Sprintf("(seed %d, purpose %d, index %d)", seed, p, i)
				if prev, ok := seen[key]; ok {
					t.Errorf("%s and %s share a stream", prev, name)
				}
				seen[key] = name
			}
		}
	}
	x, y := PCG(3, Sampling, 0).Uint64(), PCG(3, Sampling, 1).Uint64()
	if x == y {
		t.Error("PCG streams of consecutive indices start alike")
	}
}
