package ociimage

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/ociimage/ocitest"
)

var stamp = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestLayerIsReproducibleAndComplete(t *testing.T) {
	files := []File{
		{Path: "/usr/local/bin/tool", Mode: 0o755, Data: []byte("#!binary")},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0::/root:/sbin/nologin\n")},
		{Path: "/home/app", Dir: true, Mode: 0o750, UID: 1000, GID: 1000},
	}
	first, err := Layer(files, stamp)
	require.NoError(t, err)
	reversed := []File{files[2], files[1], files[0]}
	second, err := Layer(reversed, stamp)
	require.NoError(t, err)
	require.Equal(t, digestOf(t, first), digestOf(t, second), "the order files are given in does not change the layer")
	later, err := Layer(files, stamp.Add(time.Second))
	require.NoError(t, err)
	require.NotEqual(t, digestOf(t, first), digestOf(t, later), "the time stamped is part of the layer")

	entries := tarEntries(t, first)
	require.Equal(t, []string{"etc/", "etc/passwd", "home/", "home/app/", "usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/tool"}, names(entries),
		"parents come first, sorted")
	for _, h := range entries {
		require.True(t, h.ModTime.Equal(stamp), h.Name)
		require.Empty(t, h.Uname+h.Gname, "no user or group names of the building machine")
	}
	require.Equal(t, 1000, entries[3].Uid)
	require.Equal(t, int64(0o750), entries[3].Mode)
	require.Equal(t, int64(0o755), entries[7].Mode)
}

func TestLayerRefusesBadPaths(t *testing.T) {
	for _, tc := range []struct {
		files []File
		want  string
	}{
		{[]File{{Path: "etc/passwd"}}, `layer file "etc/passwd": want a clean absolute path`},
		{[]File{{Path: "/etc/../passwd"}}, `layer file "/etc/../passwd": want a clean absolute path`},
		{[]File{{Path: "/"}}, `layer file "/": want a clean absolute path`},
		{[]File{{Path: "/a"}, {Path: "/a"}}, `layer file "/a": given twice`},
		{[]File{{Path: "/a"}, {Path: "/a/b"}}, `layer file "/a/b": its parent /a is a file, not a directory`},
	} {
		_, err := Layer(tc.files, stamp)
		require.ErrorContains(t, err, tc.want)
	}
}

func TestIndexRoundTripsThroughLayoutAndRegistry(t *testing.T) {
	ctx := context.Background()
	idx := testIndex(t)
	digest, err := idx.Digest()
	require.NoError(t, err)

	dir := t.TempDir()
	require.NoError(t, WriteLayout(dir, "demo:1", idx))
	read, err := ReadLayout(dir, "demo:1")
	require.NoError(t, err)
	require.Equal(t, digest, digestOf(t, read))
	_, err = ReadLayout(dir, "demo:2")
	require.ErrorContains(t, err, `has no image index named "demo:2"`)

	host := ocitest.Registry(t)
	ref := host + "/team/demo:1"
	pushed, err := Push(ctx, ref, read)
	require.NoError(t, err)
	require.Equal(t, digest.String(), pushed.DigestStr())
	pulled, err := PullIndex(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, digest, digestOf(t, pulled))

	manifest, err := pulled.IndexManifest()
	require.NoError(t, err)
	require.Equal(t, "v1", manifest.Annotations[AnnotationVersion])
	require.Len(t, manifest.Manifests, 2)
	for i, arch := range []string{"amd64", "arm64"} {
		require.Equal(t, arch, manifest.Manifests[i].Platform.Architecture)
		img, err := pulled.Image(manifest.Manifests[i].Digest)
		require.NoError(t, err)
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		require.Equal(t, arch, cf.Architecture)
		require.Equal(t, "1000:1000", cf.Config.User)
		require.Equal(t, []string{"/app"}, cf.Config.Entrypoint)
		require.Equal(t, "v1", cf.Config.Labels[AnnotationVersion])
		require.True(t, cf.Created.Time.Equal(stamp))
		m, err := img.Manifest()
		require.NoError(t, err)
		require.Equal(t, "v1", m.Annotations[AnnotationVersion])
	}

	_, err = Push(ctx, "Not A Reference", idx)
	require.ErrorContains(t, err, `image reference "Not A Reference"`)
	_, err = PullIndex(ctx, host+"/team/missing:1")
	require.ErrorContains(t, err, "pulling")
}

func TestIndexWantsPlatforms(t *testing.T) {
	img, err := Image(nil, v1.Platform{}, Config{Created: stamp})
	require.NoError(t, err)
	_, err = Index(nil, img)
	require.ErrorContains(t, err, "has no platform")
}

func testIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	var images []v1.Image
	for _, arch := range []string{"amd64", "arm64"} {
		l, err := Layer([]File{{Path: "/app", Mode: 0o755, Data: []byte("app for " + arch)}}, stamp)
		require.NoError(t, err)
		img, err := Image(nil, v1.Platform{OS: "linux", Architecture: arch},
			Config{Entrypoint: []string{"/app"}, User: "1000:1000", Created: stamp, Annotations: map[string]string{AnnotationVersion: "v1"}}, l)
		require.NoError(t, err)
		images = append(images, img)
	}
	idx, err := Index(map[string]string{AnnotationVersion: "v1"}, images...)
	require.NoError(t, err)
	return idx
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	require.NoError(t, err)
	return h
}

func tarEntries(t *testing.T, l v1.Layer) []*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var out []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, h)
	}
}

func names(headers []*tar.Header) []string {
	out := make([]string, 0, len(headers))
	for _, h := range headers {
		out = append(out, h.Name)
	}
	return out
}
