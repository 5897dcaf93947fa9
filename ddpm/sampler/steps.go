package sampler

import "github.com/ddpm-go/ddpm/ddpm/diffusion"

// VisitedSteps lists the diffusion steps a sampler with options o evaluates on a schedule of T
// steps, decreasing: T..1 for DDPM, the S steps τ_S > … > τ_1 for DDIM.
func VisitedSteps(T int, o Options) []int {
	if o.Method == "ddim" {
		steps, _ := diffusion.DDIMTimesteps(T, o.Steps)
		return steps
	}
	steps := make([]int, T)
	for i := range steps {
		steps[i] = T - i
	}
	return steps
}

// TrajectorySteps returns about k steps to record (Options.Record) for a trajectory figure: k−1
// evenly spaced steps among those the sampler visits (VisitedSteps, the first included), then 0,
// the final images. Every step returned is recorded, whatever the sampler.
func TrajectorySteps(T int, o Options, k int) []int {
	visited := VisitedSteps(T, o)
	var rec []int
	for i := range k - 1 {
		j := i * (len(visited) - 1) / max(1, k-2)
		if len(rec) == 0 || rec[len(rec)-1] != visited[j] {
			rec = append(rec, visited[j])
		}
	}
	return append(rec, 0)
}
