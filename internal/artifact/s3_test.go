package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/test/s3server"
)

// TestFetchS3 fetches jars from a real S3-compatible store on loopback: a good jar
// arrives (its digest checked), and a missing object, a missing bucket, wrong
// credentials, a wrong digest and a jar over the limit are each refused with what is
// wrong — never with the credentials.
func TestFetchS3(t *testing.T) {
	store := s3server.Start(t)
	jar := jarBytes(t)
	store.Put(t, "jobs", "team/job.jar", jar)
	store.Put(t, "jobs", "big.jar", append(jar, make([]byte, 4096)...))
	sum := sha256.Sum256(jar)
	f := &Fetcher{Dir: t.TempDir(), MaxSize: int64(len(jar) + 1024)}
	good := &Credentials{AccessKeyID: store.AccessKeyID, SecretAccessKey: store.SecretAccessKey}
	access := func(c *Credentials) S3 {
		return S3{Endpoint: store.Endpoint, PathStyle: true, Region: s3server.Region, Credentials: c, CredentialsFrom: "Secret ns/s3"}
	}
	ctx := context.Background()

	path, err := f.Fetch(ctx, Source{URI: "s3://jobs/team/job.jar", SHA256: hex.EncodeToString(sum[:]), S3: access(good)})
	require.NoError(t, err)
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, jar, content)

	wrong := &Credentials{AccessKeyID: store.AccessKeyID, SecretAccessKey: "not-the-secret"}
	unknown := &Credentials{AccessKeyID: "nobody", SecretAccessKey: store.SecretAccessKey}
	for _, tc := range []struct {
		uri, sha string
		creds    *Credentials
		want     string
	}{
		{"s3://jobs/team/missing.jar", "", good, "s3://jobs/team/missing.jar: bucket jobs has no object team/missing.jar"},
		{"s3://nothere/job.jar", "", good, "the object store at " + store.Endpoint + " has no bucket nothere"},
		{"s3://jobs/team/job.jar", "", wrong, "the object store refused the credentials of Secret ns/s3 (SignatureDoesNotMatch)"},
		// S3 says 403 InvalidAccessKeyId; this store says which user it does not know.
		{"s3://jobs/team/job.jar", "", unknown, "the object store at " + store.Endpoint + " answered 404 XAdminUserNotFound"},
		{"s3://jobs/team/job.jar", strings.Repeat("0", 64), good, "its SHA-256 is " + hex.EncodeToString(sum[:])},
		{"s3://jobs/big.jar", "", good, "larger than the limit of"},
	} {
		_, err := f.Fetch(ctx, Source{URI: tc.uri, SHA256: tc.sha, S3: access(tc.creds)})
		require.ErrorContains(t, err, tc.want, tc.uri)
		for _, secret := range []string{store.SecretAccessKey, "not-the-secret", fmt.Sprint(tc.creds)} {
			if secret != "(credentials)" {
				require.NotContains(t, err.Error(), secret, "an error never shows a secret key")
			}
		}
	}
	// A jar fetched with one Secret is not handed out for another within the minute
	// it is kept.
	wrongFrom := access(wrong)
	wrongFrom.CredentialsFrom = "Secret other/s3"
	_, err = f.Fetch(ctx, Source{URI: "s3://jobs/team/job.jar", SHA256: hex.EncodeToString(sum[:]), S3: wrongFrom})
	require.ErrorContains(t, err, "refused the credentials of Secret other/s3")
	closed := S3{Endpoint: "http://127.0.0.1:1", PathStyle: true, Credentials: good}
	_, err = f.Fetch(ctx, Source{URI: "s3://jobs/team/job.jar", S3: closed})
	require.ErrorContains(t, err, "s3://jobs/team/job.jar: the object store at http://127.0.0.1:1 cannot be reached")
	entries, err := os.ReadDir(f.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "refused artifacts leave nothing behind")
}
