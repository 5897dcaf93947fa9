package sampler

import "fmt"

// Resumable sampling. Sample draws its images in chunks of Options.BatchSize, and chunk k draws
// x_T and every step's noise from its own random stream (the seed and k), so the images of the
// first chunks do not depend on the later ones: a long evaluation (10,000 samples take hours on a
// CPU) interrupted after k chunks continues from their images, and its samples are bit-identical
// to those of one uninterrupted call.

// Partial is the state of an interrupted Sample call: the images of its first complete chunks.
type Partial struct {
	Images  []float32 // the first k·BatchSize samples, Pixels values each (k ≥ 0 complete chunks)
	Seconds float64   // sampling time spent on them
}

// chunks checks that p (nil: nothing done) holds complete chunks of a call drawing n images with
// options o (BatchSize resolved), and returns how many.
func (p *Partial) chunks(n int, o Options) (int, error) {
	if p == nil || len(p.Images) == 0 {
		return 0, nil
	}
	per := o.BatchSize * Pixels
	have := len(p.Images)
	switch {
	case have > n*Pixels:
		return 0, optionError("Partial", have/Pixels, "%d samples done, more than the %d requested", have/Pixels, n)
	case have%Pixels != 0:
		return 0, optionError("Partial", have, "%d values are not whole %d-pixel images", have, Pixels)
	case have != n*Pixels && have%per != 0:
		return 0, optionError("Partial", have/Pixels, "%d samples done are not whole batches of %d", have/Pixels, o.BatchSize)
	case len(o.Record) > 0:
		return 0, optionError("Record", fmt.Sprint(o.Record), "a resumed call cannot record a trajectory (its first chunks' frames are gone)")
	}
	return (have + per - 1) / per, nil
}
