package main

import "github.com/ddpm-go/ddpm/ddpm/pipeline"

// evaluator returns the sample-quality evaluation of `ddpm run` (nil: skipped).
func evaluator(dataDir string) pipeline.Evaluator { return nil }
