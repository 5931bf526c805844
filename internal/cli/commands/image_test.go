package commands

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/internal/ociimage/ocitest"
)

// TestImageBuild runs `flok image build` against a registry on loopback: the image is
// pushed under its tag and its digest, written as a layout that names it, and the
// command says what to run; without a place to put it, it says to choose one.
func TestImageBuild(t *testing.T) {
	host := ocitest.Registry(t)
	layer, err := ociimage.Layer([]ociimage.File{{Path: "/opt/flink/lib/flink-dist-2.3.0.jar", Mode: 0o644, Data: []byte("PK\x03\x04")}}, time.Unix(0, 0))
	require.NoError(t, err)
	base, err := ociimage.Image(nil, v1.Platform{OS: "linux", Architecture: "amd64"}, ociimage.Config{}, layer)
	require.NoError(t, err)
	idx, err := ociimage.Index(nil, base)
	require.NoError(t, err)
	_, err = ociimage.Push(context.Background(), host+"/library/flink:2.3", idx)
	require.NoError(t, err)
	var jar bytes.Buffer
	w := zip.NewWriter(&jar)
	_, err = w.Create("orders/Main.class")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	jarPath := filepath.Join(t.TempDir(), "orders.jar")
	require.NoError(t, os.WriteFile(jarPath, jar.Bytes(), 0o644))
	layout := filepath.Join(t.TempDir(), "layout")

	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
			append([]string{"image", "build", "--from", host + "/library/flink:2.3", "--jar", jarPath, "--tag", host + "/team/orders:1"}, args...))
		return code, out.String(), errOut.String()
	}
	code, out, errOut := run("--push", "--output", layout)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "pushed "+host+"/team/orders@sha256:")
	require.Contains(t, out, "run it with image: "+host+"/team/orders:1 and jarURI: local:///opt/flink/usrlib/orders.jar")
	read, err := ociimage.ReadLayout(layout, host+"/team/orders:1")
	require.NoError(t, err)
	pulled, err := ociimage.PullIndex(context.Background(), host+"/team/orders:1")
	require.NoError(t, err)
	want, err := read.Digest()
	require.NoError(t, err)
	got, err := pulled.Digest()
	require.NoError(t, err)
	require.Equal(t, want, got, "the layout and the registry hold the same image")

	code, _, errOut = run()
	require.Equal(t, ExitError, code)
	require.Contains(t, errOut, "say where the image goes: --push to the registry of --tag, or --output DIR")
}
