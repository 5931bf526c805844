package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// S3 says how to reach an S3-compatible object store.
type S3 struct {
	// Endpoint is the store's address (Flink's s3.endpoint); "" is AWS's endpoint for
	// Region.
	Endpoint string
	// PathStyle puts the bucket in the path rather than the host name (Flink's
	// s3.path.style.access), as most S3-compatible stores need.
	PathStyle bool
	// Region signs the requests; "" is us-east-1.
	Region string
	// Credentials sign the requests; nil uses the operator's own identity (its
	// environment, web identity token or instance role).
	Credentials *Credentials
	// CredentialsFrom names where Credentials came from, for error messages.
	CredentialsFrom string
}

// Credentials are an access key, as a Secret holds them. They are never printed.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// String keeps the key out of any message that formats Credentials.
func (Credentials) String() string { return "(credentials)" }

// GoString keeps the key out of %#v.
func (c Credentials) GoString() string { return c.String() }

// S3FromConfig is the store that Flink's own options in conf name — s3.endpoint,
// s3.path.style.access and the region — under any prefix Flink's S3 file systems read:
// s3., s3a. or Hadoop's fs.s3a. (which config.yaml needs for the region, as
// s3.endpoint cannot also be the prefix of s3.endpoint.region there).
func S3FromConfig(conf map[string]string) S3 {
	option := func(name string) string {
		for _, prefix := range []string{"s3.", "s3a.", "fs.s3a."} {
			if v := conf[prefix+name]; v != "" {
				return v
			}
		}
		return ""
	}
	return S3{Endpoint: option("endpoint"), PathStyle: flinkconf.IsTrue(option("path.style.access")), Region: option("endpoint.region")}
}

// Upload stores content as the object uri names (s3://bucket/key) unless one of the
// same size is there already: keys named by the content's digest hold one content.
func Upload(ctx context.Context, store S3, uri string, content []byte) error {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "s3" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("%q: an artifact store is s3://bucket/key", uri)
	}
	client, err := newS3Client(ctx, store, nil)
	if err != nil {
		return err
	}
	bucket, key := u.Host, strings.TrimPrefix(u.Path, "/")
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err == nil && aws.ToInt64(head.ContentLength) == int64(len(content)) {
		return nil
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(content)}); err != nil {
		return describeS3Error(u, store, err)
	}
	return nil
}

// openS3 opens the object u names (s3://bucket/key), refusing one the store announces
// larger than the limit.
func (f *Fetcher) openS3(ctx context.Context, u *url.URL, store S3) (io.ReadCloser, error) {
	client, err := newS3Client(ctx, store, f.HTTP)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	bucket, key := u.Host, strings.TrimPrefix(u.Path, "/")
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, describeS3Error(u, store, err)
	}
	if err := f.checkAnnounced(u, aws.ToInt64(out.ContentLength)); err != nil {
		out.Body.Close()
		return nil, err
	}
	return out.Body, nil
}

// newS3Client is a client for store, signing with its credentials or the process's
// own identity; httpClient nil is the SDK's.
func newS3Client(ctx context.Context, store S3, httpClient *http.Client) (*s3.Client, error) {
	region := store.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region), config.WithRetryMaxAttempts(2), config.WithLogger(logging.Nop{})}
	if httpClient != nil {
		opts = append(opts, config.WithHTTPClient(httpClient))
	}
	if c := store.Credentials; c != nil {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if store.Endpoint != "" {
			o.BaseEndpoint = aws.String(store.Endpoint)
		}
		o.UsePathStyle = store.PathStyle
	}), nil
}

// describeS3Error says in plain words why the store did not give or take the object:
// the store's own error code, never its message (which may echo what was signed).
func describeS3Error(u *url.URL, store S3, err error) error {
	var api smithy.APIError
	var resp *awshttp.ResponseError
	if !errors.As(err, &api) || !errors.As(err, &resp) {
		return fmt.Errorf("%s: the object store at %s cannot be reached: %w", u, endpointName(store), err)
	}
	from := store.CredentialsFrom
	if store.Credentials == nil {
		from = "the default AWS identity (environment, web identity, instance role)"
	}
	code := api.ErrorCode()
	switch status := resp.HTTPStatusCode(); {
	case code == "NoSuchBucket":
		return fmt.Errorf("%s: the object store at %s has no bucket %s", u, endpointName(store), u.Host)
	case code == "NoSuchKey" || code == "NotFound":
		return fmt.Errorf("%s: bucket %s has no object %s", u, u.Host, strings.TrimPrefix(u.Path, "/"))
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return fmt.Errorf("%s: the object store refused the credentials of %s (%s): check the access key, the secret key and that they may read the object",
			u, from, code)
	default:
		return fmt.Errorf("%s: the object store at %s answered %d %s", u, endpointName(store), status, code)
	}
}

func endpointName(store S3) string {
	if store.Endpoint != "" {
		return store.Endpoint
	}
	return "AWS S3"
}
