package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/internal/ociimage/ocitest"
)

// TestImage builds the operator image twice (the same digest both times), pushes it
// to a registry on loopback, pulls it back and checks what each platform's image runs
// and holds.
func TestImage(t *testing.T) {
	ctx := t.Context()
	repo := ocitest.Registry(t) + "/flok/operator"
	const version = "v0.0.0-test"
	dirs := []string{filepath.Join(t.TempDir(), "first"), filepath.Join(t.TempDir(), "second")}
	var out bytes.Buffer
	require.NoError(t, run(ctx, options{root: "../..", out: dirs[0], platforms: "linux/amd64,linux/arm64", version: version, push: repo}, &out))
	require.NoError(t, run(ctx, options{root: "../..", out: dirs[1], platforms: "linux/amd64,linux/arm64", version: version}, &out))
	require.Contains(t, out.String(), "pushed "+repo+"@sha256:")

	first, err := ociimage.ReadLayout(dirs[0], "flok-operator:"+version)
	require.NoError(t, err)
	second, err := ociimage.ReadLayout(dirs[1], "flok-operator:"+version)
	require.NoError(t, err)
	digest := digestOf(t, first)
	require.Equal(t, digest, digestOf(t, second), "the same commit gives the same digest")

	pulled, err := ociimage.PullIndex(ctx, repo+":"+version)
	require.NoError(t, err)
	require.Equal(t, digest, digestOf(t, pulled))
	revision, err := exec.Command("git", "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	manifest, err := pulled.IndexManifest()
	require.NoError(t, err)
	require.Equal(t, strings.TrimSpace(string(revision)), manifest.Annotations[ociimage.AnnotationRevision])
	require.Equal(t, sourceURL, manifest.Annotations[ociimage.AnnotationSource])
	require.Equal(t, version, manifest.Annotations[ociimage.AnnotationVersion])
	require.Len(t, manifest.Manifests, 2)
	for i, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		t.Run(i, func(t *testing.T) { checkPlatform(t, pulled, manifest, i, machine, version) })
	}
}

func checkPlatform(t *testing.T, idx v1.ImageIndex, manifest *v1.IndexManifest, arch string, machine elf.Machine, version string) {
	var desc *v1.Descriptor
	for i := range manifest.Manifests {
		if p := manifest.Manifests[i].Platform; p != nil && p.OS == "linux" && p.Architecture == arch {
			desc = &manifest.Manifests[i]
		}
	}
	require.NotNil(t, desc, "no linux/%s image in the index", arch)
	img, err := idx.Image(desc.Digest)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	require.Equal(t, "65532:65532", cf.Config.User, "not root")
	require.Equal(t, []string{"/usr/local/bin/flok-operator"}, cf.Config.Entrypoint)
	require.Equal(t, version, cf.Config.Labels[ociimage.AnnotationVersion])

	files := filesOf(t, img)
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	require.Equal(t, []string{
		"etc", "etc/group", "etc/passwd", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt",
		"flok", "flok/flok-sql-runner.jar",
		"home", "home/nonroot", "tmp", "usr", "usr/local", "usr/local/bin", "usr/local/bin/flok", "usr/local/bin/flok-operator",
	}, paths, "nothing but the binaries, a user, CA certificates, /tmp and the SQL runner: no shell")
	require.Equal(t, "PK\x03\x04", string(files["flok/flok-sql-runner.jar"].data[:4]), "the runner is a jar")
	require.Equal(t, 65532, files["home/nonroot"].header.Uid)
	require.Equal(t, int64(0o1777), files["tmp"].header.Mode&0o7777)
	require.Greater(t, bytes.Count(files["etc/ssl/certs/ca-certificates.crt"].data, []byte("BEGIN CERTIFICATE")), 100)
	for _, bin := range []string{"usr/local/bin/flok", "usr/local/bin/flok-operator"} {
		f, err := elf.NewFile(bytes.NewReader(files[bin].data))
		require.NoError(t, err, bin)
		require.Equal(t, machine, f.Machine, bin)
		for _, p := range f.Progs {
			require.NotEqual(t, elf.PT_INTERP, p.Type, "%s is static: no dynamic loader", bin)
		}
		require.Equal(t, int64(0o755), files[bin].header.Mode)
	}
}

type imageFile struct {
	header *tar.Header
	data   []byte
}

// filesOf is the image's file system, flattened.
func filesOf(t *testing.T, img v1.Image) map[string]imageFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]imageFile{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[h.Name] = imageFile{header: h, data: data}
	}
}

func digestOf(t *testing.T, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	h, err := idx.Digest()
	require.NoError(t, err)
	return h
}
