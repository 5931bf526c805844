package validation

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

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

func TestCheckDeployment(t *testing.T) {
	ok := CheckDeployment(sample(t), nil, lifecycle.DefaultSettings(), false)
	require.Empty(t, ok.Errs)
	require.NotNil(t, ok.Objects)

	for _, tc := range []struct {
		name   string
		mutate func(*v1beta1.FlinkDeployment)
		path   string
	}{
		{"configuration that is no map", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(`["a"]`)}
		}, "spec.flinkConfiguration"},
		{"an operator setting that does not parse", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(`{"kubernetes.operator.reconcile.interval": "soon"}`)}
		}, "kubernetes.operator.reconcile.interval"},
		{"a cluster that cannot render", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.JarURI = ""
		}, "spec.job.jarURI"},
		{"a digest Flink would not check", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.JarURI, fd.Spec.Job.Artifact = "s3://jobs/job.jar", &v1beta1.JobArtifact{SHA256: strings.Repeat("0", 64)}
		}, "spec.job.artifact.sha256: Forbidden: Flink fetches an application's jar itself and checks no digest"},
		{"credentials for a jar in the image", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.Artifact = &v1beta1.JobArtifact{CredentialsSecret: "s3"}
		}, "spec.job.artifact.credentialsSecret"},
		{"SQL on 1.20 without the runner", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkVersion, fd.Spec.Job.JarURI, fd.Spec.Job.SQL = "v1_20", "", &v1beta1.SQLJob{Script: "INSERT INTO t SELECT 1;"}
		}, "spec.flinkVersion: Invalid value: \"v1_20\": Flink before 2.1 runs a SQL job with Flok's SQL runner, and this operator has none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := sample(t)
			tc.mutate(fd)
			checked := CheckDeployment(fd, nil, lifecycle.DefaultSettings(), false)
			require.NotEmpty(t, checked.Errs)
			require.Contains(t, Message(checked.Errs), tc.path)
		})
	}

	// The same SQL job where the operator has the runner, or on Flink 2.3 without it.
	sqlJob := sample(t)
	sqlJob.Spec.FlinkVersion, sqlJob.Spec.Job.JarURI, sqlJob.Spec.Job.SQL = "v1_20", "", &v1beta1.SQLJob{Script: "INSERT INTO t SELECT 1;"}
	require.Empty(t, CheckDeployment(sqlJob, nil, lifecycle.DefaultSettings(), true).Errs)
	sqlJob.Spec.FlinkVersion = "v2_3"
	require.Empty(t, CheckDeployment(sqlJob, nil, lifecycle.DefaultSettings(), false).Errs)

	// Wrong settings still render: the running cluster is observed as it is.
	fd := sample(t)
	fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(`{"kubernetes.operator.reconcile.interval": "soon", "high-availability.type": "kubernetes", "high-availability.storageDir": "file:///ha", "execution.checkpointing.savepoint-dir": "file:///sp"}`)}
	checked := CheckDeployment(fd, nil, lifecycle.DefaultSettings(), false)
	require.NotEmpty(t, checked.Errs)
	require.NotNil(t, checked.Objects)
	require.True(t, checked.Objects.Configuration.HighAvailability())
}

func TestCheckSessionJob(t *testing.T) {
	artifacts := &artifact.Fetcher{}
	job := func(jar string) *v1beta1.FlinkSessionJob {
		sj := &v1beta1.FlinkSessionJob{Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: jar}}}
		sj.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(`{"parallelism.default": "2", "kubernetes.operator.reconcile.interval": "20s"}`)}
		return sj
	}
	ok := CheckSessionJob(job("https://repo.example.com/job.jar"), lifecycle.DefaultSettings(), artifacts)
	require.Empty(t, ok.Errs)
	require.Equal(t, "2", ok.JobConfig["parallelism.default"])
	require.NotContains(t, ok.JobConfig, "kubernetes.operator.reconcile.interval", "the operator's options are not the job's")
	require.NotEqual(t, lifecycle.DefaultSettings(), ok.Settings)

	require.Contains(t, Message(CheckSessionJob(job(""), lifecycle.DefaultSettings(), artifacts).Errs), "spec.job.jarURI: Required value")
	require.Contains(t, Message(CheckSessionJob(job("local:///opt/flink/job.jar"), lifecycle.DefaultSettings(), artifacts).Errs), "spec.job.jarURI: Invalid value")
	withArtifact := func(jar string, a v1beta1.JobArtifact) string {
		sj := job(jar)
		sj.Spec.Job.Artifact = &a
		return Message(CheckSessionJob(sj, lifecycle.DefaultSettings(), artifacts).Errs)
	}
	require.Empty(t, withArtifact("s3://jobs/job.jar", v1beta1.JobArtifact{SHA256: strings.Repeat("aB", 32), CredentialsSecret: "s3"}))
	require.Contains(t, withArtifact("s3://jobs/job.jar", v1beta1.JobArtifact{SHA256: "abc"}), "spec.job.artifact.sha256: Invalid value: \"abc\": must be the jar's SHA-256 as 64 hex digits")
	require.Contains(t, withArtifact("https://repo.example.com/job.jar", v1beta1.JobArtifact{CredentialsSecret: "s3"}),
		"spec.job.artifact.credentialsSecret: Invalid value: \"s3\": credentials are used only for s3:// jars")
	noJob := job("")
	noJob.Spec.Job = nil
	require.Contains(t, Message(CheckSessionJob(noJob, lifecycle.DefaultSettings(), artifacts).Errs), "spec.job: Required value")
	require.Empty(t, Message(nil))
}
