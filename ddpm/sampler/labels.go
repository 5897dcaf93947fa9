package sampler

import "github.com/ddpm-go/ddpm/ddpm/diffusion"

// CycleClasses returns n labels 0, 1, …, classes−1, 0, 1, …: every class equally often in every
// prefix of `classes` samples, so a grid shows each class and an evaluation is balanced.
func CycleClasses(n, classes int) []int {
	l := make([]int, n)
	for i := range l {
		l[i] = i % classes
	}
	return l
}

// BalancedLabels returns CycleClasses over the model's classes for a class-conditional model, nil
// for an unconditional one.
func BalancedLabels(m *diffusion.Model, n int) []int {
	if !m.Conditional() {
		return nil
	}
	return CycleClasses(n, m.Net.NumClasses())
}
