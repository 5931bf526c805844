package render

import (
	"testing"
)

// BenchmarkRender renders the fullest case of the golden matrix: what the operator
// does for every deployment it observes.
func BenchmarkRender(b *testing.B) {
	fd := deploymentFrom(b, baseDeployment("native", "application", "2.3"), variants["full"])
	in := Input{Deployment: fd, JobID: "00000000000000000000000000000abc"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(in); err != nil {
			b.Fatal(err)
		}
	}
}
