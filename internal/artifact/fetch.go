// Package artifact fetches the jars of session jobs for the operator to upload to a
// session cluster: over https (http only when allowed), from an S3-compatible object
// store, or from the operator's own file system, within a size limit, checked against
// a SHA-256 when one is given and checked to be a jar before Flink sees them.
package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultMaxSize is the largest jar fetched unless the operator says otherwise.
const DefaultMaxSize = 256 << 20

// DefaultTimeout bounds one fetch unless the fetcher says otherwise.
const DefaultTimeout = 2 * time.Minute

// reuseWithin is how long a fetched jar is used again without fetching it anew: one
// reconciliation checks the jar before it decides and uploads it after.
const reuseWithin = time.Minute

// Fetcher fetches jars into a directory.
type Fetcher struct {
	// Dir holds the fetched jars.
	Dir string
	// MaxSize is the largest jar accepted, in bytes.
	MaxSize int64
	// AllowHTTP lets jars come over plain http.
	AllowHTTP bool
	// HTTP is the client for http(s); http.DefaultClient when nil.
	HTTP *http.Client
	// Timeout bounds one fetch; DefaultTimeout when zero.
	Timeout time.Duration

	mu sync.Mutex
	// byURI serializes the fetches of one URI; different URIs are fetched at once,
	// so that a slow server holds up only the jobs that use it.
	byURI map[string]*fetchState
}

type fetchState struct {
	sync.Mutex
	at time.Time
}

func (f *Fetcher) state(uri string) *fetchState {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byURI == nil {
		f.byURI = map[string]*fetchState{}
	}
	if f.byURI[uri] == nil {
		f.byURI[uri] = &fetchState{}
	}
	return f.byURI[uri]
}

// Check says whether uri names a jar the fetcher can get, without getting it.
func (f *Fetcher) Check(uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("%q is not a URI: %v", uri, err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !f.AllowHTTP {
			return fmt.Errorf("%s: plain http is refused; use https://, or start the operator with --allow-http-artifacts", uri)
		}
	case "s3":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return fmt.Errorf("%s: an s3:// URI names a bucket and an object: s3://bucket/path/job.jar", uri)
		}
	case "file":
		if u.Path == "" {
			return fmt.Errorf("%s: a file:// URI needs an absolute path the operator can read", uri)
		}
	case "local":
		return fmt.Errorf("%s: local:// names a file inside the Flink image, which Flink's REST API cannot run in a session cluster; "+
			"use https:// (or file:// for a jar the operator's Pod can read)", uri)
	case "":
		return fmt.Errorf("%q has no scheme; use https://host/path/job.jar", uri)
	default:
		return fmt.Errorf("%s: scheme %q is not supported; use https://, s3:// or file://", uri, u.Scheme)
	}
	if !strings.HasSuffix(u.Path, ".jar") {
		return fmt.Errorf("%s: the path must end in .jar, as Flink accepts only jar files", uri)
	}
	return nil
}

// Source is one jar to fetch: where it is, what it must be, and how to reach the
// object store that holds it.
type Source struct {
	// URI is the jar's address.
	URI string
	// SHA256 is the jar's expected SHA-256 in hex; "" accepts any.
	SHA256 string
	// S3 reaches the store of an s3:// URI.
	S3 S3
}

// key names what was fetched: the same URI checked against another digest, from
// another store or with other credentials is another fetch — a jar one namespace's
// Secret could read is never handed to a job that names another Secret.
func (s Source) key() string {
	return strings.Join([]string{s.URI, strings.ToLower(s.SHA256), s.S3.Endpoint, s.S3.CredentialsFrom}, "\x00")
}

// Fetch returns the local path of the jar src names, fetching it unless it was
// fetched within the last minute.
func (f *Fetcher) Fetch(ctx context.Context, src Source) (string, error) {
	if err := f.Check(src.URI); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(src.key()))
	u, _ := url.Parse(src.URI)
	local := filepath.Join(f.Dir, hex.EncodeToString(sum[:8])+"-"+path.Base(u.Path))
	st := f.state(src.key())
	st.Lock()
	defer st.Unlock()
	if time.Since(st.at) < reuseWithin {
		if _, err := os.Stat(local); err == nil {
			return local, nil
		}
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := f.fetch(ctx, u, src, local); err != nil {
		return "", err
	}
	st.at = time.Now()
	return local, nil
}

func (f *Fetcher) fetch(ctx context.Context, u *url.URL, src Source, local string) error {
	var body io.ReadCloser
	var err error
	if u.Scheme == "s3" {
		body, err = f.openS3(ctx, u, src.S3)
	} else {
		body, err = f.open(ctx, u)
	}
	if err != nil {
		return err
	}
	defer body.Close()
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.Dir, ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	limit := f.maxSize()
	digest := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, digest), io.LimitReader(body, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return fmt.Errorf("fetching %s: %w", u, err)
	case n > limit:
		return fmt.Errorf("%s is larger than the limit of %d bytes (the operator's --max-artifact-size)", u, limit)
	}
	if got := hex.EncodeToString(digest.Sum(nil)); src.SHA256 != "" && !strings.EqualFold(got, src.SHA256) {
		return fmt.Errorf("%s: its SHA-256 is %s, not the %s the job expects (spec.job.artifact.sha256): "+
			"the object was replaced or the digest is out of date", u, got, strings.ToLower(src.SHA256))
	}
	if err := checkJar(tmp.Name(), u); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), local)
}

// open opens the jar's content: a file, or an http(s) answer that is not an error
// and not larger than the limit by its own account.
func (f *Fetcher) open(ctx context.Context, u *url.URL) (io.ReadCloser, error) {
	if u.Scheme == "file" {
		file, err := os.Open(u.Path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", u, err)
		}
		return file, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	client := f.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("fetching %s: the server answered %s", u, resp.Status)
	}
	if mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mediaType == "text/html" {
		resp.Body.Close()
		return nil, fmt.Errorf("%s is not a jar: the server answered an HTML page (a login or error page?)", u)
	}
	if err := f.checkAnnounced(u, resp.ContentLength); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp.Body, nil
}

// checkAnnounced refuses a jar whose server announces it larger than the limit, before
// any of it is read.
func (f *Fetcher) checkAnnounced(u *url.URL, size int64) error {
	if size > f.maxSize() {
		return fmt.Errorf("%s is larger than the limit of %d bytes (the operator's --max-artifact-size): the server announces %d bytes", u, f.maxSize(), size)
	}
	return nil
}

func (f *Fetcher) maxSize() int64 {
	if f.MaxSize > 0 {
		return f.MaxSize
	}
	return DefaultMaxSize
}

// zipMagic starts every jar (a zip file with entries).
var zipMagic = []byte("PK\x03\x04")

// ReadJar reads a jar on this machine, refusing a file that is no jar by its name or
// its content.
func ReadJar(local string) ([]byte, error) {
	if !strings.HasSuffix(local, ".jar") {
		return nil, fmt.Errorf("%s is not a .jar file", local)
	}
	data, err := os.ReadFile(local)
	if err != nil {
		return nil, err
	}
	if !IsZip(data) {
		return nil, fmt.Errorf("%s is not a jar: its content is not a zip file", local)
	}
	return data, nil
}

// IsZip reports whether content starts as every jar does.
func IsZip(content []byte) bool { return bytes.HasPrefix(content, zipMagic) }

// checkJar refuses content that is not a zip file, naming what it looks like.
func checkJar(file string, u *url.URL) error {
	head := make([]byte, 512)
	fh, err := os.Open(file)
	if err != nil {
		return err
	}
	defer fh.Close()
	n, _ := io.ReadFull(fh, head)
	head = head[:n]
	if IsZip(head) {
		return nil
	}
	what := "its content is not a zip file"
	if t := strings.ToLower(string(bytes.TrimSpace(head))); strings.HasPrefix(t, "<!doctype html") || strings.HasPrefix(t, "<html") {
		what = "it is an HTML page"
	} else if n == 0 {
		what = "it is empty"
	}
	return fmt.Errorf("%s is not a jar: %s", u, what)
}
