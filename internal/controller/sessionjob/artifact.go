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
	src.S3 = artifact.S3{Endpoint: s3Option(conf, "endpoint"), PathStyle: flinkconf.IsTrue(s3Option(conf, "path.style.access")), Region: s3Option(conf, "endpoint.region")}
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

// s3Option is an option of Flink's S3 file systems under any prefix they read: s3.,
// s3a. or Hadoop's own fs.s3a. (which config.yaml needs for the region, as s3.endpoint
// cannot also be the prefix of s3.endpoint.region there).
func s3Option(conf flinkconf.Config, name string) string {
	for _, prefix := range []string{"s3.", "s3a.", "fs.s3a."} {
		if v := conf[prefix+name]; v != "" {
			return v
		}
	}
	return ""
}

// credentials reads an access key from a Secret, saying which key is missing rather
// than ever what the Secret holds.
func (r *Reconciler) credentials(ctx context.Context, namespace, name string) (*artifact.Credentials, error) {
	secret := &corev1.Secret{}
	err := r.Secrets.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("there is no Secret %s in namespace %s: create it with %s and %s", name, namespace, v1beta1.CredentialsAccessKeyID, v1beta1.CredentialsSecretAccessKey)
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("the operator may not read Secret %s/%s: grant it get on secrets in namespace %s", namespace, name, namespace)
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s/%s: %w", namespace, name, err)
	}
	for _, key := range []string{v1beta1.CredentialsAccessKeyID, v1beta1.CredentialsSecretAccessKey} {
		if len(secret.Data[key]) == 0 {
			return nil, fmt.Errorf("Secret %s/%s has no %s: it needs %s and %s (and may have %s)", namespace, name, key, v1beta1.CredentialsAccessKeyID, v1beta1.CredentialsSecretAccessKey, v1beta1.CredentialsSessionToken)
		}
	}
	return &artifact.Credentials{
		AccessKeyID: string(secret.Data[v1beta1.CredentialsAccessKeyID]), SecretAccessKey: string(secret.Data[v1beta1.CredentialsSecretAccessKey]),
		SessionToken: string(secret.Data[v1beta1.CredentialsSessionToken]),
	}, nil
}
