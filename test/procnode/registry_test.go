package procnode_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/internal/ociimage/ocitest"
)

// pushProbeImage builds an image around testdata/imageprobe — a static program, a
// user "probe" (1234:2345) in /etc/passwd and /etc/group, WORKDIR its home — pushes it
// to a registry on loopback and returns its reference and digest reference.
func pushProbeImage(t *testing.T) (ref, id string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "imageprobe")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./testdata/imageprobe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building imageprobe: %s", out)
	program, err := os.ReadFile(bin)
	require.NoError(t, err)
	stamp := time.Unix(0, 0)
	layer, err := ociimage.Layer([]ociimage.File{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nprobe:x:1234:2345::/home/probe:/sbin/nologin\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nprobe:x:2345:\n")},
		{Path: "/home/probe", Dir: true, Mode: 0o755, UID: 1234, GID: 2345},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
		// As in Debian's images: mounts below /var/run land in the image's /run.
		{Path: "/run", Dir: true, Mode: 0o755},
		{Path: "/var/run", Link: "/run", Mode: 0o777},
		{Path: "/usr/local/bin/imageprobe", Mode: 0o755, Data: program},
	}, stamp)
	require.NoError(t, err)
	img, err := ociimage.Image(nil, v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, ociimage.Config{
		Entrypoint: []string{"imageprobe"}, Cmd: []string{"from-image-cmd"}, User: "probe", WorkingDir: "/home/probe",
		Env: []string{"PATH=/usr/local/bin", "GREETING=from-image"}, Created: stamp,
	}, layer)
	require.NoError(t, err)
	idx, err := ociimage.Index(nil, img)
	require.NoError(t, err)
	repo := ocitest.Registry(t) + "/team/probe"
	_, err = ociimage.Push(t.Context(), repo+":1", idx)
	require.NoError(t, err)
	digest, err := img.Digest()
	require.NoError(t, err)
	return repo + ":1", repo + "@" + digest.String()
}

// TestRegistryImage runs an image pulled from a registry on loopback as a container
// runtime would: in its own root file system, as the image's user, in its WORKDIR,
// with its ENV and CMD, a read-only root when asked, volumes writable by that user;
// runAsNonRoot with a user name is refused as the kubelet refuses it.
func TestRegistryImage(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	ref, id := pushProbeImage(t)
	_, err := cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probe"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: ref,
				SecurityContext: &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true)},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "scratch", MountPath: "/scratch"},
					{Name: "scratch", MountPath: "/var/run/shared"},
				},
			}},
			Volumes: []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, time.Minute, "the probe to end", func(ctx context.Context) (bool, error) {
		cs := containerStatus(ctx, ns, "probe")
		return cs != nil && cs.State.Terminated != nil, nil
	})
	logs, err := cluster.Client.CoreV1().Pods(ns).GetLogs("probe", &corev1.PodLogOptions{}).Do(ctx).Raw()
	require.NoError(t, err)
	status := containerStatus(ctx, ns, "probe")
	require.Zero(t, status.State.Terminated.ExitCode, "logs: %s", logs)
	require.Equal(t, id, status.ImageID)
	require.Equal(t, strings.Join([]string{
		"uid=1234", "gid=2345", "cwd=/home/probe", "home=/home/probe", "greeting=from-image", "args=from-image-cmd",
		"hosts-names-me=true", "open /probe: read-only file system", "root-writable=false", "scratch-writable=true", "host-visible=false", "through-image-link=true", "",
	}, "\n"), string(logs))

	// A tag the node never pulled, with imagePullPolicy Never: nothing to run.
	_, err = cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "never"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: strings.TrimSuffix(ref, ":1") + ":2", ImagePullPolicy: corev1.PullNever,
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitForWaiting(t, ns, "never", "ErrImagePull", "imagePullPolicy is Never")

	_, err = cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nonroot"},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			Containers:      []corev1.Container{{Name: "main", Image: ref, Args: []string{"x"}}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitForWaiting(t, ns, "nonroot", "CreateContainerConfigError", "container has runAsNonRoot and image has non-numeric user (probe)")
}

// waitForWaiting waits until the Pod's first container waits for reason, with a
// message that says what.
func waitForWaiting(t *testing.T, ns, pod, reason, what string) {
	t.Helper()
	waitFor(t, time.Minute, reason+" of "+pod, func(ctx context.Context) (bool, error) {
		cs := containerStatus(ctx, ns, pod)
		if cs == nil || cs.State.Waiting == nil {
			return false, nil
		}
		return cs.State.Waiting.Reason == reason && strings.Contains(cs.State.Waiting.Message, what), nil
	})
}
