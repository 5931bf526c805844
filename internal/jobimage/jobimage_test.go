package jobimage

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // the repository's checksum, as Maven keeps it
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/internal/ociimage/ocitest"
)

var amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// jar is a small jar whose one entry says what it is.
func jar(t *testing.T, what string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("what.txt")
	require.NoError(t, err)
	_, _ = f.Write([]byte(what))
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// fixture is a registry on loopback holding a Flink-like base image, and a Maven
// repository holding one connector with its checksum (and one whose checksum lies).
type fixture struct {
	base, registry string
	maven          *Maven
	dir            string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	host := ocitest.Registry(t)
	layer, err := ociimage.Layer([]ociimage.File{
		{Path: "/opt/flink/lib/flink-dist-2.3.0.jar", Mode: 0o644, Data: jar(t, "flink")},
		{Path: "/docker-entrypoint.sh", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
	}, time.Unix(1700000000, 0))
	require.NoError(t, err)
	base, err := ociimage.Image(nil, amd64, ociimage.Config{Entrypoint: []string{"/docker-entrypoint.sh"}, User: "flink",
		Created: time.Unix(1700000000, 0).UTC()}, layer)
	require.NoError(t, err)
	idx, err := ociimage.Index(nil, base)
	require.NoError(t, err)
	_, err = ociimage.Push(t.Context(), host+"/library/flink:2.3", idx)
	require.NoError(t, err)

	repo := t.TempDir()
	put := func(rel string, data []byte, sum []byte) {
		p := filepath.Join(repo, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
		require.NoError(t, os.WriteFile(p+".sha1", sum, 0o644))
	}
	kafka := jar(t, "kafka")
	good := sha1.Sum(kafka) //nolint:gosec // see the import
	put("org/apache/flink/flink-sql-connector-kafka/4.0.1-2.0/flink-sql-connector-kafka-4.0.1-2.0.jar", kafka, []byte(hex.EncodeToString(good[:])+"  flink-sql-connector-kafka-4.0.1-2.0.jar\n"))
	put("org/example/tampered/1.0/tampered-1.0.jar", kafka, []byte(strings.Repeat("0", 40)))
	mavenRepo := httptest.NewServer(http.FileServer(http.Dir(repo)))
	t.Cleanup(mavenRepo.Close)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "orders.jar"), jar(t, "orders v1"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "udfs.jar"), jar(t, "udfs"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.jar"), []byte("not a zip"), 0o644))
	return fixture{base: host + "/library/flink:2.3", registry: host, maven: &Maven{Repository: mavenRepo.URL}, dir: dir}
}

func (f fixture) spec(jarName string, connectors ...string) Spec {
	return Spec{Base: f.base, Jar: filepath.Join(f.dir, jarName), Connectors: connectors, Maven: f.maven}
}

// TestBuildIsReproducible: the same base, jar and connectors give the same digest; a
// new jar changes only the top layer; the layers hold the jars where Flink finds them,
// over the base's files and settings; the image pushes to and pulls from a registry.
func TestBuildIsReproducible(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	spec := f.spec("orders.jar", "maven:org.apache.flink:flink-sql-connector-kafka:4.0.1-2.0", filepath.Join(f.dir, "udfs.jar"))
	first, err := Build(ctx, spec)
	require.NoError(t, err)
	second, err := Build(ctx, spec)
	require.NoError(t, err)
	require.Equal(t, digest(t, first), digest(t, second), "same inputs, same digest")

	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "orders.jar"), jar(t, "orders v2"), 0o644))
	changed, err := Build(ctx, spec)
	require.NoError(t, err)
	require.NotEqual(t, digest(t, first), digest(t, changed))
	before, after := layerDigests(t, first), layerDigests(t, changed)
	require.Len(t, after, 3, "the base's layer, the connectors', the job's")
	require.Equal(t, before[:2], after[:2], "the base and connector layers are shared")

	cf, err := changed.ConfigFile()
	require.NoError(t, err)
	require.Equal(t, []string{"/docker-entrypoint.sh"}, cf.Config.Entrypoint, "the base's settings stay")
	require.Equal(t, "flink", cf.Config.User)
	m, err := changed.Manifest()
	require.NoError(t, err)
	require.Equal(t, f.base, m.Annotations["org.opencontainers.image.base.name"])

	idx, err := ociimage.Index(nil, changed)
	require.NoError(t, err)
	pushed, err := ociimage.Push(ctx, f.registry+"/team/orders:2", idx)
	require.NoError(t, err)
	root := filepath.Join(t.TempDir(), "root")
	pulled, err := ociimage.PullImage(ctx, pushed, amd64)
	require.NoError(t, err)
	require.Equal(t, digest(t, changed), digest(t, pulled))
	require.NoError(t, ociimage.Unpack(pulled, root))
	for file, what := range map[string]string{
		"opt/flink/usrlib/orders.jar": "orders v2", "opt/flink/lib/udfs.jar": "udfs",
		"opt/flink/lib/flink-sql-connector-kafka-4.0.1-2.0.jar": "kafka", "opt/flink/lib/flink-dist-2.3.0.jar": "flink",
	} {
		require.Equal(t, jar(t, what), readFile(t, filepath.Join(root, file)), file)
	}
}

// TestBuildRefusesBadInput: each wrong input is refused with what is wrong.
func TestBuildRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{f.spec("notes.jar"), "notes.jar is not a jar: its content is not a zip file"},
		{f.spec("missing.jar"), "no such file"},
		{f.spec("orders.jar", "maven:org.example:tampered:1.0"), "its SHA-1 is"},
		{f.spec("orders.jar", "maven:org.example:absent:1.0"), "the repository answered 404 Not Found"},
		{f.spec("orders.jar", "maven:org.example:absent"), "Maven coordinates are group:artifact:version[:classifier]"},
		{f.spec("orders.jar", filepath.Join(f.dir, "udfs.jar"), filepath.Join(f.dir, "udfs.jar")), "both become /opt/flink/lib/udfs.jar"},
		{Spec{Base: f.registry + "/library/absent:1", Jar: filepath.Join(f.dir, "orders.jar")}, "pulling"},
		{Spec{Base: f.base}, "no job jar"},
	} {
		_, err := Build(ctx, tc.spec)
		require.ErrorContains(t, err, tc.want)
	}
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	d, err := img.Digest()
	require.NoError(t, err)
	return d
}

func layerDigests(t *testing.T, img v1.Image) []v1.Hash {
	layers, err := img.Layers()
	require.NoError(t, err)
	var out []v1.Hash
	for _, l := range layers {
		d, err := l.Digest()
		require.NoError(t, err)
		out = append(out, d)
	}
	return out
}

func readFile(t *testing.T, p string) []byte {
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	return data
}
