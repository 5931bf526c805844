package sessionjob

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/flinkconf"
)

// Keys of a credentials Secret, as the AWS tools and Flink's S3 file systems read them
// from the environment.
const (
	accessKeyIDKey     = "AWS_ACCESS_KEY_ID"
	secretAccessKeyKey = "AWS_SECRET_ACCESS_KEY"
	sessionTokenKey    = "AWS_SESSION_TOKEN"
)

// artifactSource is where job's jar comes from and what it must be: its digest and,
// for an s3:// jar, the store that conf (the session's options under the job's) names
// with Flink's own s3.* keys and the credentials of the job's Secret.
func (r *Reconciler) artifactSource(ctx context.Context, sj *v1beta1.FlinkSessionJob, job *v1beta1.JobSpec, conf flinkconf.Config) (artifact.Source, error) {
	src := artifact.Source{URI: job.JarURI}
	if a := job.Artifact; a != nil {
		src.SHA256 = a.SHA256
	}
	if !strings.HasPrefix(job.JarURI, "s3://") {
		return src, nil
	}
	src.S3 = artifact.S3{Endpoint: conf["s3.endpoint"], PathStyle: flinkconf.IsTrue(conf["s3.path.style.access"]), Region: conf["s3.endpoint.region"]}
	if job.Artifact == nil || job.Artifact.CredentialsSecret == "" {
		return src, nil
	}
	creds, err := r.credentials(ctx, sj.Namespace, job.Artifact.CredentialsSecret)
	if err != nil {
		return src, fmt.Errorf("spec.job.artifact.credentialsSecret: %w", err)
	}
	src.S3.Credentials, src.S3.CredentialsFrom = creds, fmt.Sprintf("Secret %s/%s", sj.Namespace, job.Artifact.CredentialsSecret)
	return src, nil
}

// credentials reads an access key from a Secret, saying which key is missing rather
// than ever what the Secret holds.
func (r *Reconciler) credentials(ctx context.Context, namespace, name string) (*artifact.Credentials, error) {
	secret := &corev1.Secret{}
	err := r.Secrets.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("there is no Secret %s in namespace %s: create it with %s and %s", name, namespace, accessKeyIDKey, secretAccessKeyKey)
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("the operator may not read Secret %s/%s: grant it get on secrets in namespace %s", namespace, name, namespace)
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s/%s: %w", namespace, name, err)
	}
	for _, key := range []string{accessKeyIDKey, secretAccessKeyKey} {
		if len(secret.Data[key]) == 0 {
			return nil, fmt.Errorf("Secret %s/%s has no %s: it needs %s and %s (and may have %s)", namespace, name, key, accessKeyIDKey, secretAccessKeyKey, sessionTokenKey)
		}
	}
	return &artifact.Credentials{
		AccessKeyID: string(secret.Data[accessKeyIDKey]), SecretAccessKey: string(secret.Data[secretAccessKeyKey]),
		SessionToken: string(secret.Data[sessionTokenKey]),
	}, nil
}
