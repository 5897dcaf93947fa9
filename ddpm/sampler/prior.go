package sampler

import (
	"math/rand/v2"

	"github.com/ddpm-go/ddpm/ddpm/diffusion"
	"github.com/ddpm-go/ddpm/ddpm/rng"
)

// priorClasses returns the class each of the b draws of x_T of a chunk starts from: the requested
// labels; or, without labels and with a mixture prior (diffusion.Prior.Mixture), classes drawn with
// the prior's class shares from the chunk's own stream (rng.PriorMixture), so that the same seed
// draws the same x_T; else nil (the one Gaussian fit of q(x_T)).
func priorClasses(p *diffusion.Prior, labels []int, seed int64, chunk, b int) ([]int, error) {
	if labels != nil || !p.Mixture {
		return labels, nil
	}
	return p.DrawClasses(rand.New(rng.PCG(seed, rng.PriorMixture, int64(chunk))), b)
}
