package lifecycle

import "testing"

// BenchmarkNextSteady decides for a stable running deployment: the round every
// deployment goes through at each observation.
func BenchmarkNextSteady(b *testing.B) {
	in := Input{Deployment: runningDeployment(), Observed: running(runningJobID), Settings: DefaultSettings()}
	b.ReportAllocs()
	for b.Loop() {
		Next(in)
	}
}
