// Package s3server runs a real S3-compatible object store for tests: Versity's S3
// gateway over a directory of the test's, at the version pinned in
// hack/tools/versitygw, built from the Go module proxy once into
// ~/.cache/flok/versitygw, listening on 127.0.0.1.
package s3server

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/test/hostnet"
	"github.com/flok-dev/flok/test/testproc"
	"github.com/flok-dev/flok/test/toolcache"
)

// toolsModule is the module that pins the gateway, relative to this file.
const toolsModule = "../../hack/tools/versitygw"

// Region is the region the store signs in.
const Region = "us-east-1"

// Binary returns the pinned gateway, building it first when this machine has not yet
// (a cold build takes about a minute).
func Binary(ctx context.Context) (string, error) {
	_, self, _, _ := runtime.Caller(0)
	return toolcache.GoTool{
		Kind: "versitygw", Module: filepath.Join(filepath.Dir(self), toolsModule),
		Requires: "github.com/versity/versitygw", Package: "github.com/versity/versitygw/cmd/versitygw",
	}.Binary(ctx)
}

// Server is a running object store.
type Server struct {
	// Endpoint is its address, http://127.0.0.1:<port>; buckets are in the path.
	Endpoint string
	// AccessKeyID and SecretAccessKey are its root user's credentials.
	AccessKeyID, SecretAccessKey string
	// Dir holds the store: a directory per bucket, a file per object, its metadata
	// (ETag, content type) in extended attributes. Another gateway may serve it too.
	Dir    string
	client *s3.Client
}

// Start runs an object store until the test ends, and returns once it answers.
func Start(t *testing.T) *Server {
	t.Helper()
	bin, err := Binary(t.Context())
	require.NoError(t, err)
	ports, err := hostnet.FreePorts(1)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	s := &Server{Endpoint: "http://" + addr, AccessKeyID: "flok-test-access", SecretAccessKey: "flok-test-secret-" + filepath.Base(t.TempDir()), Dir: t.TempDir()}
	proc := testproc.Start(t, "versitygw", exec.Command(bin, "--access", s.AccessKeyID, "--secret", s.SecretAccessKey,
		"--region", Region, "--port", addr, "--quiet", "posix", s.Dir))
	s.client = s.Client(s.AccessKeyID, s.SecretAccessKey)
	proc.WaitReady(t, func(ctx context.Context) bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		conn.Close()
		_, err = s.client.ListBuckets(ctx, &s3.ListBucketsInput{})
		return err == nil
	})
	return s
}

// Client is a client of the store that signs with the given credentials.
func (s *Server) Client(accessKeyID, secretAccessKey string) *s3.Client {
	return s3.New(s3.Options{
		Region: Region, BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""), Logger: logging.Nop{},
	})
}

// Put stores content as bucket/key, creating the bucket when it is not there.
func (s *Server) Put(t *testing.T, bucket, key string, content []byte) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); err != nil {
		_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
		require.NoError(t, err, "creating bucket %s", bucket)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(content)})
	require.NoError(t, err, "putting s3://%s/%s", bucket, key)
}
