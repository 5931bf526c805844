package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/internal/jobimage"
	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/internal/ociimage/ocitest"
	"github.com/flok-dev/flok/test/flinkdist"
)

// jobImage builds the release's TopSpeedWindowing into a job image, as `flok image
// build` does, on a Flink base image made from the release's home; both are pushed to
// a registry on loopback that lives as long as the test. It returns the job image's
// tag and its reference by digest (what the Pods' imageID must say), having checked
// that a second build gives the same digest.
func jobImage(t *testing.T, release flinkdist.Release) (tag, byDigest string) {
	t.Helper()
	ctx := t.Context()
	host := ocitest.Registry(t)
	base, err := flinkdist.BaseImage(ctx, release)
	require.NoError(t, err)
	baseIndex, err := ociimage.Index(nil, base)
	require.NoError(t, err)
	baseRef := host + "/library/flink:" + release.MinorVersion()
	_, err = ociimage.Push(ctx, baseRef, baseIndex)
	require.NoError(t, err)

	jar := filepath.Join(t.TempDir(), flinkdist.TopSpeedWindowing+".jar")
	require.NoError(t, os.WriteFile(jar, exampleJar(t, release), 0o644))
	spec := jobimage.Spec{Base: baseRef, Jar: jar}
	img, err := jobimage.Build(ctx, spec)
	require.NoError(t, err)
	again, err := jobimage.Build(ctx, spec)
	require.NoError(t, err)
	first, err := img.Digest()
	require.NoError(t, err)
	second, err := again.Digest()
	require.NoError(t, err)
	require.Equal(t, first, second, "the same base and jar give the same digest")
	idx, err := ociimage.Index(nil, img)
	require.NoError(t, err)
	tag = host + "/team/top-speed:1"
	pushed, err := ociimage.Push(ctx, tag, idx)
	require.NoError(t, err)
	return tag, pushed.Context().Digest(first.String()).String()
}

// requireImageID checks that every Pod of cluster name — the JobManager and Flink's
// own TaskManagers — runs the image byDigest names.
func requireImageID(t *testing.T, ns, name, byDigest string) {
	t.Helper()
	pods, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + name})
	require.NoError(t, err)
	require.NotEmpty(t, pods.Items)
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			require.Equal(t, byDigest, cs.ImageID, "Pod %s container %s", p.Name, cs.Name)
		}
	}
}
