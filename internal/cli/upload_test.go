package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flok-dev/flok/test/s3server"
)

// TestUploadJar: a local jar goes to the artifact store under its digest, with the
// credentials of the Secret the operator fetches with; the same jar again finds it
// there; a store that is no s3:// URI, a missing store and wrong credentials are refused.
func TestUploadJar(t *testing.T) {
	store := s3server.Start(t)
	store.Put(t, "jobs", "placeholder", []byte("x"))
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	_, err := w.Create("META-INF/MANIFEST.MF")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	jar := filepath.Join(t.TempDir(), "orders.jar")
	require.NoError(t, os.WriteFile(jar, buf.Bytes(), 0o644))
	sum := sha256.Sum256(buf.Bytes())
	digest := hex.EncodeToString(sum[:])
	secret := func(name, key string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: name},
			Data: map[string][]byte{"AWS_ACCESS_KEY_ID": []byte(store.AccessKeyID), "AWS_SECRET_ACCESS_KEY": []byte(key)}}
	}
	c := &Client{API: fake.NewClientBuilder().WithObjects(secret("s3", store.SecretAccessKey), secret("wrong", "nope")).Build(), Namespace: "jobs"}
	options := []string{"s3.endpoint=" + store.Endpoint, "s3.path.style.access=true"}
	ctx := context.Background()

	for range 2 {
		uri, got, err := c.UploadJar(ctx, jar, "s3://jobs/uploads/", options, "s3")
		require.NoError(t, err)
		require.Equal(t, digest, got)
		require.Equal(t, "s3://jobs/uploads/"+digest[:16]+"/orders.jar", uri)
	}
	bucket, key := "jobs", "uploads/"+digest[:16]+"/orders.jar"
	out, err := store.Client(store.AccessKeyID, store.SecretAccessKey).GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
	stored, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	require.Equal(t, buf.Bytes(), stored)

	_, _, err = c.UploadJar(ctx, jar, "", options, "s3")
	require.ErrorContains(t, err, "give --artifact-store s3://bucket/prefix")
	_, _, err = c.UploadJar(ctx, jar, "https://repo/jobs", options, "s3")
	require.ErrorContains(t, err, "an artifact store is s3://bucket/prefix")
	_, _, err = c.UploadJar(ctx, jar, "s3://jobs/other", options, "wrong")
	require.ErrorContains(t, err, "the object store refused the credentials of Secret jobs/wrong")
	_, _, err = c.UploadJar(ctx, jar, "s3://jobs/other", options, "absent")
	require.ErrorContains(t, err, "--credentials-secret: there is no Secret absent in namespace jobs")
}
