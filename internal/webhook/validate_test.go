package webhook

import (
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/config"
	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/lifecycle"
)

func sample(t *testing.T) *v1beta1.FlinkDeployment {
	t.Helper()
	fd, err := config.SampleDeployment("flinkdeployment-native.yaml")
	require.NoError(t, err)
	fd.Namespace = "jobs"
	return fd
}

func validators() *Validators {
	return &Validators{Settings: lifecycle.DefaultSettings(), Artifacts: &artifact.Fetcher{}}
}

// An invalid resource created before the webhook existed must stay manageable: the
// operator removes its finalizer, users label it, it is deleted.
func TestUpdatesThatLeaveTheSpecAlonePass(t *testing.T) {
	v := deploymentValidator{validators()}
	invalid := sample(t)
	invalid.Spec.Job.JarURI = ""
	_, err := v.ValidateCreate(t.Context(), invalid)
	require.ErrorContains(t, err, `FlinkDeployment.flok.dev "top-speed" is invalid: spec.job.jarURI: Required value`)

	relabelled := invalid.DeepCopy()
	relabelled.Labels = map[string]string{"team": "orders"}
	relabelled.Finalizers = nil
	_, err = v.ValidateUpdate(t.Context(), invalid, relabelled)
	require.NoError(t, err)

	deleting := invalid.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{}
	deleting.Spec.Job.Parallelism = 3
	_, err = v.ValidateUpdate(t.Context(), invalid, deleting)
	require.NoError(t, err)

	changed := invalid.DeepCopy()
	changed.Spec.Job.Parallelism = 3
	_, err = v.ValidateUpdate(t.Context(), invalid, changed)
	require.ErrorContains(t, err, "spec.job.jarURI: Required value", "a changed spec is checked whole")
}

func TestApplicationAndSessionDoNotTurnIntoEachOther(t *testing.T) {
	v := deploymentValidator{validators()}
	app := sample(t)
	session := app.DeepCopy()
	session.Spec.Job = nil
	_, err := v.ValidateUpdate(t.Context(), app, session)
	require.ErrorContains(t, err, "spec.job: Forbidden: an application cluster cannot become a session cluster")
	_, err = v.ValidateUpdate(t.Context(), session, app)
	require.ErrorContains(t, err, "spec.job: Forbidden: a session cluster (no spec.job) cannot become an application cluster")

	standalone := app.DeepCopy()
	standalone.Spec.Mode = v1beta1.ModeStandalone
	_, err = v.ValidateUpdate(t.Context(), app, standalone)
	require.NoError(t, err, "native to standalone is an upgrade Flok carries out")
}

func TestSessionJobs(t *testing.T) {
	v := sessionJobValidator{validators()}
	job := &v1beta1.FlinkSessionJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: "orders"},
		Spec:       v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://repo.example.com/job.jar"}},
	}
	_, err := v.ValidateCreate(t.Context(), job)
	require.NoError(t, err)
	moved := job.DeepCopy()
	moved.Spec.DeploymentName = "other"
	_, err = v.ValidateUpdate(t.Context(), job, moved)
	require.ErrorContains(t, err, "spec.deploymentName: Forbidden: a session job cannot move to another session cluster (it runs in session)")
	noSession := job.DeepCopy()
	noSession.Spec.DeploymentName = ""
	_, err = v.ValidateCreate(t.Context(), noSession)
	require.ErrorContains(t, err, `FlinkSessionJob.flok.dev "orders" is invalid: spec.deploymentName: Required value`)
}
