//go:build !goexperiment.simd

package backend

// simdBuild tells whether this binary was built with GOEXPERIMENT=simd.
const simdBuild = false
