//go:build !unix

package app

import "time"

// processCPUTime is not measured on this system (BenchRow.CPUMS stays 0).
func processCPUTime() time.Duration { return 0 }
