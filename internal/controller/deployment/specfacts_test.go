package deployment

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/config"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// Each part of the facts is kept until what it depends on changes: a status write
// renders nothing again, a changed spec, last deployed spec or operation does.
func TestSpecFactsFollowWhatTheyDependOn(t *testing.T) {
	r := &Reconciler{Settings: lifecycle.DefaultSettings()}
	fd, err := config.SampleDeployment("flinkdeployment-native.yaml")
	require.NoError(t, err)
	fd.Namespace, fd.UID, fd.Generation = "jobs", "uid-1", 1

	first := r.specFacts(fd)
	require.Empty(t, first.renderError)
	require.Empty(t, first.desiredHash)

	fd.Status.JobStatus.State = "RUNNING"
	fd.ResourceVersion = "2"
	again := r.specFacts(fd)
	require.Same(t, first.compared, again.compared, "a status write keeps the facts")

	fd.Status.ReconciliationStatus.LastReconciledSpec = `{"job":{"parallelism":1}}`
	require.NotSame(t, first.compared, r.specFacts(fd).compared, "a new last deployed spec is compared again")

	fd.Status.Operation = &v1beta1.Operation{Kind: v1beta1.OperationUpgrade, Step: v1beta1.StepDeploying, JobID: "0123456789abcdef0123456789abcdef", RestorePath: "file:///sp/1"}
	deploying := r.specFacts(fd)
	require.NotEmpty(t, deploying.desiredHash)
	fd.Status.Operation.RestorePath = "file:///sp/2"
	require.NotEqual(t, deploying.desiredHash, r.specFacts(fd).desiredHash, "another restore path, other objects")

	fd.Spec.Job.JarURI = ""
	require.Empty(t, r.specFacts(fd).renderError, "the same generation is the same spec")
	fd.Generation = 2
	require.Contains(t, r.specFacts(fd).renderError, "spec.job.jarURI")

	fd.Spec.Job.JarURI = "local:///opt/flink/job.jar"
	fd.UID = "uid-2"
	require.Empty(t, r.specFacts(fd).renderError, "a new object of the same name and generation is looked at anew")
}
