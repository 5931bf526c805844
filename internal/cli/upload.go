package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/flok-dev/flok/internal/artifact"
)

// IsLocalJar reports whether a job's jar argument names a file on this machine rather
// than a URI (local:// is inside the image, not here).
func IsLocalJar(jar string) bool { return !strings.Contains(jar, "://") }

// UploadJar puts a local jar into the artifact store (s3://bucket/prefix) under a key
// named by its digest, so that a changed jar never overwrites one a running job was
// started from, and returns the jar's URI and SHA-256. The store is reached as options
// (the job's -D key=value) name it, with the credentials of Secret secret in the
// client's namespace (read with the kubeconfig, the same the operator fetches with) or,
// without one, the user's own AWS identity (environment, ~/.aws).
func (c *Client) UploadJar(ctx context.Context, local, store string, options []string, secret string) (uri, digest string, err error) {
	if store == "" {
		return "", "", fmt.Errorf("%s is a file here, which the cluster cannot read: give --artifact-store s3://bucket/prefix to upload it there, "+
			"or name it by a URI the operator can fetch (https://, s3://)", local)
	}
	if !strings.HasPrefix(store, "s3://") {
		return "", "", fmt.Errorf("--artifact-store %s: an artifact store is s3://bucket/prefix", store)
	}
	data, err := artifact.ReadJar(local)
	if err != nil {
		return "", "", err
	}
	conf, err := optionConfig(options, func(string, string) (bool, error) { return false, nil })
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(data)
	digest = hex.EncodeToString(sum[:])
	uri = strings.TrimSuffix(store, "/") + "/" + path.Join(digest[:16], filepath.Base(local))
	s3 := artifact.S3FromConfig(conf)
	if secret != "" {
		if s3.Credentials, err = artifact.CredentialsFromSecret(ctx, c.API, c.Namespace, secret); err != nil {
			return "", "", fmt.Errorf("--credentials-secret: %w", err)
		}
		s3.CredentialsFrom = "Secret " + c.Namespace + "/" + secret
	}
	if err := artifact.Upload(ctx, s3, uri, data); err != nil {
		return "", "", fmt.Errorf("uploading %s: %w", local, err)
	}
	return uri, digest, nil
}
