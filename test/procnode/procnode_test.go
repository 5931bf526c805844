package procnode_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/test/localk8s"
	"github.com/flok-dev/flok/test/procnode"
)

var (
	cluster *localk8s.Cluster
	node    *procnode.Node
)

func TestMain(m *testing.M) {
	addNode := procnode.AddOn(procnode.Options{
		RestartBackoff: time.Second,
		Log:            func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
	}, func(n *procnode.Node) { node = n })
	localk8s.Main(m, localk8s.Options{AddOns: []localk8s.AddOn{addNode}}, &cluster)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, timeout, true, cond)
	require.NoError(t, err, "waiting for %s", what)
}

func getPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	pod, err := cluster.Client.CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return pod
}

// podPhase waits for a Pod to reach phase, and gives up at once if it ends in the
// other terminal phase.
func podPhase(ns, name string, phase corev1.PodPhase) wait.ConditionWithContextFunc {
	return func(ctx context.Context) (bool, error) {
		pod, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		if p := pod.Status.Phase; p != phase && (p == corev1.PodSucceeded || p == corev1.PodFailed) {
			return false, fmt.Errorf("pod %s ended %s", name, p)
		}
		return pod.Status.Phase == phase, nil
	}
}

// TestPodSeesItsImageVolumesAndNetwork runs a Flink-image Pod whose script checks, from
// inside, what a container on a real node sees, and exits with a code of its own.
func TestPodSeesItsImageVolumesAndNetwork(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	_, err := cluster.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"greeting": "hello"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	script := strings.Join([]string{
		`set -e`,
		`test "$(hostname)" = probe`,
		`test -x /opt/flink/bin/flink && test -f /opt/flink/examples/streaming/TopSpeedWindowing.jar`,
		`test "$(cat /etc/settings/greeting)" = hello`,
		`sa=/var/run/secrets/kubernetes.io/serviceaccount`,
		`test -s $sa/token && test -s $sa/ca.crt && test "$(cat $sa/namespace)" = "$POD_NAMESPACE"`,
		// The API server, the way in-cluster clients (fabric8 in Flink) reach it.
		`curl -sf --cacert $sa/ca.crt -H "Authorization: Bearer $(cat $sa/token)" https://kubernetes.default.svc/api | grep -q APIVersions`,
		`curl -sf --cacert $sa/ca.crt -H "Authorization: Bearer $(cat $sa/token)" "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/version" >/dev/null`,
		`grep -q "$MY_IP" /etc/hosts && test -n "$MY_IP"`,
		`! touch /etc/settings/x 2>/dev/null`,
		`echo "greeting=$GREETING node=$NODE expanded=$EXPANDED java=$(command -v java)"`,
		`exit 3`,
	}, "\n")
	_, err = cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probe"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: "flink:2.3", Command: []string{"bash", "-c", script},
				Env: []corev1.EnvVar{
					{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
					{Name: "MY_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
					{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
					{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "greeting"}}},
					{Name: "EXPANDED", Value: "$(GREETING)-$(NODE)"},
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "settings", MountPath: "/etc/settings"}},
			}},
			Volumes: []corev1.Volume{{Name: "settings", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 2*time.Minute, "the pod to fail with its exit code", podPhase(ns, "probe", corev1.PodFailed))

	pod := getPod(t, ns, "probe")
	term := pod.Status.ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	require.EqualValues(t, 3, term.ExitCode, "the script's checks passed up to its own exit code")
	require.True(t, strings.HasPrefix(pod.Status.PodIP, "10.245."), "pod IP %q is on the node's pod network", pod.Status.PodIP)
	logs, err := cluster.Client.CoreV1().Pods(ns).GetLogs("probe", &corev1.PodLogOptions{}).Do(ctx).Raw()
	require.NoError(t, err)
	require.Contains(t, string(logs), "greeting=hello node=procnode-0 expanded=hello-procnode-0 java=")
}

func TestUnknownImageFailsWithErrImagePull(t *testing.T) {
	ns := cluster.Namespace(t)
	_, err := cluster.Client.CoreV1().Pods(ns).Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitForWaiting(t, ns, "nginx", "ErrImagePull", "not available on the process node")
}

// TestRestartAndGracefulDeletion checks restart counting with --previous logs, and that
// deleting the Pod sends SIGTERM and waits for the process.
func TestRestartAndGracefulDeletion(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	script := `echo "run $(cat /data/runs 2>/dev/null | wc -l)"; echo x >> /data/runs
if [ "$(wc -l < /data/runs)" -lt 2 ]; then exit 1; fi
trap 'echo got SIGTERM >> /host/events; exit 0' TERM; : > /host/trapped; while true; do sleep 0.1; done`
	hostDir := t.TempDir()
	_, err := cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "restarts"},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](20),
			Containers: []corev1.Container{{Name: "main", Image: "flink:1.20", Command: []string{"bash", "-c", script},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "host", MountPath: "/host"}}}},
			Volumes: []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 2*time.Minute, "a running second attempt", func(ctx context.Context) (bool, error) {
		pod, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, "restarts", metav1.GetOptions{})
		if err != nil || len(pod.Status.ContainerStatuses) == 0 {
			return false, nil
		}
		cs := pod.Status.ContainerStatuses[0]
		return cs.RestartCount == 1 && cs.State.Running != nil && cs.LastTerminationState.Terminated != nil, nil
	})
	// Running means the process started, not that the script reached its trap.
	waitFor(t, time.Minute, "the second attempt's SIGTERM trap", func(context.Context) (bool, error) {
		_, err := os.Stat(hostDir + "/trapped")
		return err == nil, nil
	})
	previous, err := cluster.Client.CoreV1().Pods(ns).GetLogs("restarts", &corev1.PodLogOptions{Previous: true}).Do(ctx).Raw()
	require.NoError(t, err)
	require.Equal(t, "run 0\n", string(previous))

	pids := node.PodPIDs(ns, "restarts")
	require.Len(t, pids, 1, "the Pod's one container runs")
	require.NoError(t, cluster.Client.CoreV1().Pods(ns).Delete(ctx, "restarts", metav1.DeleteOptions{}))
	waitFor(t, time.Minute, "the pod object to go", func(ctx context.Context) (bool, error) {
		_, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, "restarts", metav1.GetOptions{})
		return err != nil, nil
	})
	require.ErrorIs(t, syscall.Kill(pids[0], 0), syscall.ESRCH, "the container's process is gone")
	events, err := os.ReadFile(hostDir + "/events")
	require.NoError(t, err)
	require.Equal(t, "got SIGTERM\n", string(events), "deletion asked the container to stop before killing it")
}

// TestConfigMapVolumeFollowsItsConfigMap: a changed ConfigMap reaches the files of a
// running Pod, as the kubelet brings them up to date.
func TestConfigMapVolumeFollowsItsConfigMap(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	cm, err := cluster.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "level"}, Data: map[string]string{"level": "INFO"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cluster.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "watcher"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: "flink:2.3",
				Command:      []string{"bash", "-c", `cat /etc/level/level; echo; until grep -q DEBUG /etc/level/level; do sleep 0.2; done; echo changed`},
				VolumeMounts: []corev1.VolumeMount{{Name: "level", MountPath: "/etc/level"}},
			}},
			Volumes: []corev1.Volume{{Name: "level", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "level"}}}}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 2*time.Minute, "the pod to run", podPhase(ns, "watcher", corev1.PodRunning))
	cm.Data["level"] = "DEBUG"
	_, err = cluster.Client.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	waitFor(t, time.Minute, "the pod to see the new content and end", podPhase(ns, "watcher", corev1.PodSucceeded))
	logs, err := cluster.Client.CoreV1().Pods(ns).GetLogs("watcher", &corev1.PodLogOptions{}).Do(ctx).Raw()
	require.NoError(t, err)
	require.Equal(t, "INFO\nchanged\n", string(logs))
}
