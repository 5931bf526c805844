package artifact

import (
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

// openS3 opens the object u names (s3://bucket/key), refusing one the store announces
// larger than the limit.
func (f *Fetcher) openS3(ctx context.Context, u *url.URL, store S3) (io.ReadCloser, error) {
	client, err := f.s3Client(ctx, store)
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

// s3Client is a client for store, signing with its credentials or the operator's.
func (f *Fetcher) s3Client(ctx context.Context, store S3) (*s3.Client, error) {
	region := store.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region), config.WithRetryMaxAttempts(2), config.WithLogger(logging.Nop{})}
	if f.HTTP != nil {
		opts = append(opts, config.WithHTTPClient(f.HTTP))
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

// describeS3Error says in plain words why the store did not give the object: the
// store's own error code, never its message (which may echo what was signed).
func describeS3Error(u *url.URL, store S3, err error) error {
	var api smithy.APIError
	var resp *awshttp.ResponseError
	if !errors.As(err, &api) || !errors.As(err, &resp) {
		return fmt.Errorf("fetching %s: the object store at %s cannot be reached: %w", u, endpointName(store), err)
	}
	from := store.CredentialsFrom
	if store.Credentials == nil {
		from = "the operator's own identity"
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
