package jobimage

import (
	"context"
	"crypto/sha1" //nolint:gosec // Maven repositories publish SHA-1 checksums; it checks transfer, not trust
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/ociimage"
)

// DefaultMavenRepository is Maven Central.
const DefaultMavenRepository = "https://repo.maven.apache.org/maven2"

// maxJarSize bounds a connector jar fetched from a repository.
const maxJarSize = 512 << 20

// Maven fetches jars from a Maven repository by coordinates, each checked against the
// SHA-1 the repository keeps beside it.
type Maven struct {
	// Repository is the repository's base URL: https://, http:// or file:// (a local
	// repository such as ~/.m2/repository).
	Repository string
	// HTTP is the client for http(s); http.DefaultClient when nil.
	HTTP *http.Client
}

// jar fetches group:artifact:version[:classifier] as a file of /opt/flink/lib named as
// Maven names it.
func (m *Maven) jar(ctx context.Context, coords string) (ociimage.File, error) {
	parts := strings.Split(coords, ":")
	if len(parts) < 3 || len(parts) > 4 || slices.Contains(parts, "") {
		return ociimage.File{}, fmt.Errorf("%q: Maven coordinates are group:artifact:version[:classifier]", coords)
	}
	group, id, version := parts[0], parts[1], parts[2]
	file := id + "-" + version
	if len(parts) == 4 {
		file += "-" + parts[3]
	}
	file += ".jar"
	repo := DefaultMavenRepository
	if m != nil && m.Repository != "" {
		repo = strings.TrimSuffix(m.Repository, "/")
	}
	at := strings.Join([]string{repo, strings.ReplaceAll(group, ".", "/"), id, version, file}, "/")
	data, err := m.get(ctx, at, maxJarSize)
	if err != nil {
		return ociimage.File{}, err
	}
	sum, err := m.get(ctx, at+".sha1", 1024)
	if err != nil {
		return ociimage.File{}, fmt.Errorf("its checksum: %w", err)
	}
	want := strings.ToLower(strings.Fields(string(sum) + " ")[0])
	got := sha1.Sum(data) //nolint:gosec // see the import
	if hex.EncodeToString(got[:]) != want {
		return ociimage.File{}, fmt.Errorf("%s: its SHA-1 is %x, not the %s the repository gives", at, got, want)
	}
	if !artifact.IsZip(data) {
		return ociimage.File{}, fmt.Errorf("%s is not a jar: its content is not a zip file", at)
	}
	return ociimage.File{Path: path.Join(Lib, file), Mode: 0o644, Data: data}, nil
}

// get reads a repository file of at most limit bytes.
func (m *Maven) get(ctx context.Context, at string, limit int64) ([]byte, error) {
	u, err := url.Parse(at)
	if err != nil {
		return nil, err
	}
	var body io.ReadCloser
	switch u.Scheme {
	case "file":
		if body, err = os.Open(u.Path); err != nil {
			return nil, err
		}
	case "http", "https":
		if body, err = m.open(ctx, at); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("repository %s: use https://, http:// or file://", at)
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", at, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", at, limit)
	}
	return data, nil
}

func (m *Maven) open(ctx context.Context, at string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, at, nil)
	if err != nil {
		return nil, err
	}
	client := http.DefaultClient
	if m != nil && m.HTTP != nil {
		client = m.HTTP
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", at, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("fetching %s: the repository answered %s", at, resp.Status)
	}
	return resp.Body, nil
}
