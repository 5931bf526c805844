package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// TestRunOptions: flok run's flags become a FlinkDeployment; -D options go to the Flink
// configuration, pod template options read their file, malformed ones are named.
func TestRunOptions(t *testing.T) {
	template := filepath.Join(t.TempDir(), "pod.yaml")
	require.NoError(t, os.WriteFile(template, []byte("spec:\n  containers:\n  - name: flink-main-container\n"), 0o644))
	o := RunOptions{Namespace: "ns", JarURI: "local:///opt/flink/usrlib/Orders_v2.jar", FlinkVersion: "1.20", Mode: "native", Parallelism: 3,
		Options: []string{"taskmanager.numberOfTaskSlots=2", " state.backend.type = rocksdb", "kubernetes.pod-template-file.taskmanager=" + template}}
	fd, err := o.Deployment()
	require.NoError(t, err)
	require.Equal(t, "orders-v2", fd.Name)
	require.Equal(t, "flink:1.20", fd.Spec.Image)
	require.Equal(t, v1beta1.FlinkVersion("v1_20"), fd.Spec.FlinkVersion)
	require.JSONEq(t, `{"taskmanager.numberOfTaskSlots":"2","state.backend.type":"rocksdb"}`, string(fd.Spec.FlinkConfiguration.Raw))
	require.JSONEq(t, `{"spec":{"containers":[{"name":"flink-main-container"}]}}`, string(fd.Spec.TaskManager.PodTemplate.Raw))

	for opt, want := range map[string]string{
		"no-value": `-D "no-value": want key=value`,
		"=x":       `-D "=x": want key=value`,
		"kubernetes.pod-template-file.default=/nonexistent.yaml": "-D kubernetes.pod-template-file.default: open /nonexistent.yaml",
	} {
		_, err := RunOptions{JarURI: "local:///x.jar", FlinkVersion: "2.3", Options: []string{opt}}.Deployment()
		require.ErrorContains(t, err, want)
	}
	_, err = RunOptions{JarURI: "local:///x.jar", FlinkVersion: "3"}.Deployment()
	require.ErrorContains(t, err, "--flink-version")

	script := filepath.Join(t.TempDir(), "Orders_per_window.sql")
	require.NoError(t, os.WriteFile(script, []byte("INSERT INTO t SELECT 1;\n"), 0o644))
	fd, err = RunOptions{SQLFile: script, FlinkVersion: "2.3"}.Deployment()
	require.NoError(t, err)
	require.Equal(t, "orders-per-window", fd.Name, "named after the script")
	require.Equal(t, &v1beta1.SQLJob{Script: "INSERT INTO t SELECT 1;\n"}, fd.Spec.Job.SQL)
	require.Empty(t, fd.Spec.Job.JarURI)
	_, err = RunOptions{SQLFile: script, JarURI: "local:///x.jar", FlinkVersion: "2.3"}.Deployment()
	require.ErrorContains(t, err, "give either a jar")
	_, err = RunOptions{SQLFile: "/nonexistent.sql", FlinkVersion: "2.3"}.Deployment()
	require.ErrorContains(t, err, "--sql: open /nonexistent.sql")
}

// TestSubmitOptions: flok submit's flags become a FlinkSessionJob; a pod template is the
// session cluster's, not the job's.
func TestSubmitOptions(t *testing.T) {
	sj, err := SubmitOptions{Namespace: "ns", Session: "shared", JarURI: "https://repo/jobs/orders-1.4.jar", Args: []string{"--input", "x"},
		Options: []string{"pipeline.max-parallelism=128"}, FromSavepoint: "file:///sp/1", UpgradeMode: "savepoint"}.SessionJob()
	require.NoError(t, err)
	require.Equal(t, "orders-1-4", sj.Name)
	require.Equal(t, "shared", sj.Spec.DeploymentName)
	require.Equal(t, []string{"--input", "x"}, sj.Spec.Job.Args)
	require.Equal(t, "file:///sp/1", sj.Spec.Job.InitialSavepointPath)
	require.JSONEq(t, `{"pipeline.max-parallelism":"128"}`, string(sj.Spec.FlinkConfiguration.Raw))
	require.Nil(t, sj.Spec.Job.Artifact)
	sj, err = SubmitOptions{Session: "shared", JarURI: "s3://jobs/x.jar", SHA256: "ab12", CredentialsSecret: "s3-jobs"}.SessionJob()
	require.NoError(t, err)
	require.Equal(t, &v1beta1.JobArtifact{SHA256: "ab12", CredentialsSecret: "s3-jobs"}, sj.Spec.Job.Artifact)
	_, err = SubmitOptions{JarURI: "https://repo/x.jar", Options: []string{"kubernetes.pod-template-file.default=p.yaml"}}.SessionJob()
	require.ErrorContains(t, err, "pod templates go with `flok session start`")
}

// TestBlocked: waiting ends on a blocking Degraded condition of the current generation
// and on a job its spec keeps suspended, unless the resource is being deleted.
func TestBlocked(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Name: "orders", Generation: 4}, Spec: v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{}}}
	fd.Status.ObservedGeneration = 4
	require.Empty(t, blocked(fd, false))

	fd.Spec.Job.State, fd.Status.LifecycleState = v1beta1.JobStateSuspended, v1beta1.LifecycleSuspended
	require.Contains(t, blocked(fd, false), "orders is suspended: the change applies when it runs again (`flok resume orders`)")
	require.Empty(t, blocked(fd, true), "a deletion is waited for")
	fd.Status.ObservedGeneration = 3
	require.Empty(t, blocked(fd, false), "the operator has not seen the update yet")

	fd.Spec.Job.State, fd.Status.LifecycleState = v1beta1.JobStateRunning, v1beta1.LifecycleStable
	fd.Status.Conditions = []metav1.Condition{{Type: lifecycle.ConditionDegraded, Status: metav1.ConditionTrue, Reason: "SavepointFailed", Message: "no savepoint", ObservedGeneration: 4}}
	require.Equal(t, "SavepointFailed: no savepoint", blocked(fd, false))
	fd.Status.Conditions[0].ObservedGeneration = 3
	require.Empty(t, blocked(fd, false), "a condition of an older generation")
}
