package sessionjob

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/flinkconf"
)

// TestArtifactSource: an s3:// jar is reached as the job's options (over the
// session's) name the store, under any prefix Flink's S3 file systems read, with the
// credentials of its Secret; a missing Secret or key is named, never a value.
func TestArtifactSource(t *testing.T) {
	secret := func(name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	r := &Reconciler{Secrets: fake.NewClientBuilder().WithObjects(
		secret("s3", map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "planted-secret", "AWS_SESSION_TOKEN": "token"}),
		secret("half", map[string]string{"AWS_ACCESS_KEY_ID": "planted-id"}),
	).Build()}
	sj := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: "orders"}}
	job := func(uri, secret, sha string) *v1beta1.JobSpec {
		return &v1beta1.JobSpec{JarURI: uri, Artifact: &v1beta1.JobArtifact{CredentialsSecret: secret, SHA256: sha}}
	}
	conf := flinkconf.Config{"s3.endpoint": "http://store:9000", "fs.s3a.path.style.access": "true", "fs.s3a.endpoint.region": "eu-west-1"}
	ctx := context.Background()

	src, err := r.artifactSource(ctx, sj, job("s3://jobs/orders.jar", "s3", "ab"), conf)
	require.NoError(t, err)
	require.Equal(t, artifact.Source{URI: "s3://jobs/orders.jar", SHA256: "ab", S3: artifact.S3{
		Endpoint: "http://store:9000", PathStyle: true, Region: "eu-west-1",
		Credentials:     &artifact.Credentials{AccessKeyID: "id", SecretAccessKey: "planted-secret", SessionToken: "token"},
		CredentialsFrom: "Secret jobs/s3",
	}}, src)

	src, err = r.artifactSource(ctx, sj, &v1beta1.JobSpec{JarURI: "s3://jobs/orders.jar"}, flinkconf.Config{})
	require.NoError(t, err)
	require.Nil(t, src.S3.Credentials, "the operator's own identity")
	src, err = r.artifactSource(ctx, sj, job("https://repo/orders.jar", "", "ab"), conf)
	require.NoError(t, err)
	require.Equal(t, artifact.Source{URI: "https://repo/orders.jar", SHA256: "ab"}, src, "no store for https")

	_, err = r.artifactSource(ctx, sj, job("s3://jobs/orders.jar", "absent", ""), conf)
	require.EqualError(t, err, "spec.job.artifact.credentialsSecret: there is no Secret absent in namespace jobs: create it with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	_, err = r.artifactSource(ctx, sj, job("s3://jobs/orders.jar", "half", ""), conf)
	require.ErrorContains(t, err, "Secret jobs/half has no AWS_SECRET_ACCESS_KEY")
	require.NotContains(t, err.Error(), "planted-id")
}
