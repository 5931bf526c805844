package sessionjob

import (
	"context"
	"fmt"
	"strings"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/flinkconf"
)

// artifactSource is where job's jar comes from and what it must be: its digest and,
// for an s3:// jar, the store that conf (the session's options under the job's) names
// with Flink's own S3 options and the credentials of the job's Secret.
func (r *Reconciler) artifactSource(ctx context.Context, sj *v1beta1.FlinkSessionJob, job *v1beta1.JobSpec, conf flinkconf.Config) (artifact.Source, error) {
	src := artifact.Source{URI: job.JarURI}
	if a := job.Artifact; a != nil {
		src.SHA256 = a.SHA256
	}
	if !strings.HasPrefix(job.JarURI, "s3://") {
		return src, nil
	}
	src.S3 = artifact.S3FromConfig(conf)
	if job.Artifact == nil || job.Artifact.CredentialsSecret == "" {
		return src, nil
	}
	creds, err := artifact.CredentialsFromSecret(ctx, r.Secrets, sj.Namespace, job.Artifact.CredentialsSecret)
	if err != nil {
		return src, fmt.Errorf("spec.job.artifact.credentialsSecret: %w", err)
	}
	src.S3.Credentials, src.S3.CredentialsFrom = creds, fmt.Sprintf("Secret %s/%s", sj.Namespace, job.Artifact.CredentialsSecret)
	return src, nil
}
