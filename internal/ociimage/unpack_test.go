package ociimage

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/ociimage/ocitest"
)

// rawLayer packs tar entries as they are: symbolic links, hard links and whiteouts,
// which Layer does not make.
func rawLayer(t *testing.T, entries ...*tar.Header) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body, h.Size = h.Linkname, int64(len(h.Linkname)) // the body rides in Linkname
			h.Linkname = ""
		}
		h.ModTime = stamp
		require.NoError(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	require.NoError(t, err)
	return l
}

func file(name, body string, mode int64) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Linkname: body, Mode: mode, Uid: 65532, Gid: 65532}
}

func TestUnpackFlattensLayers(t *testing.T) {
	lower := rawLayer(t,
		&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		file("etc/config", "old", 0o644),
		file("etc/gone", "deleted above", 0o644),
		&tar.Header{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o1777},
		file("data/old", "in an opaque directory", 0o644),
		file("usr/bin/tool", "#!", 0o4755),
		&tar.Header{Name: "bin", Typeflag: tar.TypeSymlink, Linkname: "usr/bin"},
		&tar.Header{Name: "etc/certs", Typeflag: tar.TypeSymlink, Linkname: "/usr/share/certs"},
		&tar.Header{Name: "usr/bin/tool-link", Typeflag: tar.TypeLink, Linkname: "usr/bin/tool"},
		&tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3},
	)
	upper := rawLayer(t,
		file("./etc/config", "new", 0o600),
		&tar.Header{Name: "etc/.wh.gone", Typeflag: tar.TypeReg},
		&tar.Header{Name: "data/.wh..wh..opq", Typeflag: tar.TypeReg},
		file("data/new", "only this", 0o644),
	)
	img, err := Image(nil, v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, Config{Created: stamp}, lower, upper)
	require.NoError(t, err)

	dir := filepath.Join(t.TempDir(), "rootfs")
	require.NoError(t, Unpack(img, dir))
	read := func(p string) string {
		data, err := os.ReadFile(filepath.Join(dir, p))
		require.NoError(t, err, p)
		return string(data)
	}
	require.Equal(t, "new", read("etc/config"), "the upper layer wins")
	require.NoFileExists(t, filepath.Join(dir, "etc/gone"), "a whiteout deletes")
	require.NoFileExists(t, filepath.Join(dir, "data/old"), "an opaque whiteout hides the lower directory")
	require.Equal(t, "only this", read("data/new"))
	require.Equal(t, "#!", read("bin/tool"), "through the relative link")
	target, err := os.Readlink(filepath.Join(dir, "etc/certs"))
	require.NoError(t, err)
	require.Equal(t, "/usr/share/certs", target, "absolute links are kept as written")
	require.NoFileExists(t, filepath.Join(dir, "dev/null"), "devices come from the runtime")

	info, err := os.Stat(filepath.Join(dir, "usr/bin/tool"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755)|os.ModeSetuid, info.Mode())
	linked, err := os.Stat(filepath.Join(dir, "usr/bin/tool-link"))
	require.NoError(t, err)
	require.True(t, os.SameFile(info, linked), "a hard link is one file")
	info, err = os.Stat(filepath.Join(dir, "etc/config"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode())
	info, err = os.Stat(filepath.Join(dir, "data"))
	require.NoError(t, err)
	require.Equal(t, os.ModeDir|os.ModeSticky|0o777, info.Mode())
	if os.Geteuid() == 0 {
		info, err = os.Lstat(filepath.Join(dir, "etc/config"))
		require.NoError(t, err)
		require.Equal(t, uint32(65532), info.Sys().(*syscall.Stat_t).Uid, "owners are kept")
	}

	require.Error(t, Unpack(img, dir), "the root file system is laid out once, into a new directory")
}

func TestUnpackStaysInside(t *testing.T) {
	outside := t.TempDir()
	for _, tc := range []struct {
		name    string
		entries []*tar.Header
		fails   bool
	}{
		{"dot-dot", []*tar.Header{file("../escaped", "x", 0o644)}, true},
		{"absolute link, then through it", []*tar.Header{
			{Name: "abs", Typeflag: tar.TypeSymlink, Linkname: outside},
			file("abs/escaped", "x", 0o644),
		}, false},
		// Dropped links: the file lands in a directory of the image.
		{"link out, then through it", []*tar.Header{
			{Name: "out", Typeflag: tar.TypeSymlink, Linkname: "../../" + filepath.Base(outside)},
			file("out/escaped", "x", 0o644),
		}, false},
		{"a lower link hidden by an upper directory", nil, false},
		{"hard link out", []*tar.Header{{Name: "hard", Typeflag: tar.TypeLink, Linkname: "../" + filepath.Base(outside) + "/escaped"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			layers := []v1.Layer{rawLayer(t, tc.entries...)}
			if tc.entries == nil {
				layers = []v1.Layer{
					rawLayer(t, &tar.Header{Name: "abs", Typeflag: tar.TypeSymlink, Linkname: outside}),
					rawLayer(t, file("abs/escaped", "x", 0o644)),
				}
			}
			img, err := Image(nil, v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, Config{Created: stamp}, layers...)
			require.NoError(t, err)
			rootfs := filepath.Join(t.TempDir(), "rootfs")
			err = Unpack(img, rootfs)
			if tc.fails {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				require.NoFileExists(t, filepath.Join(rootfs, "hard"))
			}
			require.NoFileExists(t, filepath.Join(outside, "escaped"))
		})
	}
}

func TestPullImageChoosesThePlatform(t *testing.T) {
	ref := ocitest.Registry(t) + "/team/demo:1"
	_, err := Push(t.Context(), ref, testIndex(t))
	require.NoError(t, err)
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := PullImage(t.Context(), r, v1.Platform{OS: "linux", Architecture: arch})
		require.NoError(t, err)
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		require.Equal(t, arch, cf.Architecture)
	}
	_, err = PullImage(t.Context(), r, v1.Platform{OS: "linux", Architecture: "s390x"})
	require.ErrorContains(t, err, "pulling "+ref)
}
