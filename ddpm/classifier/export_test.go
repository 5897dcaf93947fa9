package classifier

import "testing"

// TrainSmallForTest exposes the shared small training run to the external tests of this
// directory (package classifier_test, which may import package sampler).
func TrainSmallForTest(t testing.TB) *TrainResult { return trainSmall(t) }
