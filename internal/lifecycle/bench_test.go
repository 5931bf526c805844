package lifecycle

import "testing"

// BenchmarkNextSteady decides for a stable running deployment: the round every
// deployment goes through at each observation (the operator keeps the spec comparison
// while the resource is unchanged).
func BenchmarkNextSteady(b *testing.B) {
	fd := runningDeployment()
	in := Input{Deployment: fd, Observed: running(runningJobID), Settings: DefaultSettings(), Compared: CompareSpec(fd)}
	b.ReportAllocs()
	for b.Loop() {
		Next(in)
	}
}
