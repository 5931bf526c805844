package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// operatorBinaryPath is where the flok-operator binary the process node runs for
// Flok's operator image is built, on first use (see buildOperatorBinary); TestMain
// chooses it.
var operatorBinaryPath string

// buildOperatorBinary builds cmd/flok-operator for the operator image, once.
func buildOperatorBinary(t *testing.T) {
	t.Helper()
	require.NoError(t, operatorBinaryBuilt())
}

var operatorBinaryBuilt = sync.OnceValue(func() error {
	out, err := exec.Command("go", "build", "-o", operatorBinaryPath, "../../cmd/flok-operator").CombinedOutput()
	if err != nil {
		return fmt.Errorf("building flok-operator: %v\n%s", err, out)
	}
	return nil
})

// installedOperator reads config/manager/operator.yaml's Deployment and points it at
// namespace ns: it runs there, watches only ns (other tests run operators of their
// own) and keeps its leader-election Lease there.
func installedOperator(t *testing.T, ns string, replicas int32, extraArgs ...string) *appsv1.Deployment {
	t.Helper()
	data, err := os.ReadFile("../../config/manager/operator.yaml")
	require.NoError(t, err)
	docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := docs.Read()
		require.NoError(t, err, "config/manager/operator.yaml holds a Deployment")
		d := &appsv1.Deployment{}
		require.NoError(t, yaml.Unmarshal(doc, d))
		if d.Kind != "Deployment" {
			continue
		}
		d.Namespace, d.Spec.Replicas = ns, ptr.To(replicas)
		c := &d.Spec.Template.Spec.Containers[0]
		for i, arg := range c.Args {
			c.Args[i] = strings.Replace(arg, "=flok-system", "="+ns, 1)
		}
		// No admission webhook: its CA Secret lives in flok-system, and the
		// operators of other tests share the cluster (test/install and
		// test/admission prove it).
		c.Args = append(c.Args, append([]string{"--namespaces=" + ns, "--webhook-bind-address=0"}, extraArgs...)...)
		return d
	}
}

// namespacedOperatorRBAC gives a flok-operator ServiceAccount of ns the generated
// ClusterRole's rights in ns alone.
func namespacedOperatorRBAC(t *testing.T, ns string) {
	t.Helper()
	installOperatorRBAC(t)
	_, err := cluster.Kubectl(t.Context(), nil, "-n", ns, "create", "serviceaccount", "flok-operator")
	require.NoError(t, err)
	_, err = cluster.Kubectl(t.Context(), nil, "-n", ns, "create", "rolebinding", "flok-operator",
		"--clusterrole=flok-operator", "--serviceaccount="+ns+":flok-operator")
	require.NoError(t, err)
}

// leader is the name of the operator Pod holding the leader-election Lease.
func leader(ctx context.Context, ns string) string {
	// controller-runtime names the holder <hostname>_<uuid>; a Pod's hostname is its name.
	name, _, _ := strings.Cut(leaseHolder(ctx, ns), "_")
	return name
}

// leaseHolder is the identity of the operator holding the leader-election Lease in
// ns, or "" when none does.
func leaseHolder(ctx context.Context, ns string) string {
	lease, err := cluster.Client.CoordinationV1().Leases(ns).Get(ctx, "flok-operator.flok.dev", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// readyOperatorPods lists the operator's Pods whose readiness probe passes.
func readyOperatorPods(ctx context.Context, ns string) []string {
	pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=flok-operator"})
	if err != nil {
		return nil
	}
	var ready []string
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				ready = append(ready, p.Name)
			}
		}
	}
	return ready
}

// TestOperatorInCluster installs the operator the way config/ describes it — its
// image (the binary built from cmd/flok-operator), two replicas with leader election,
// probes, its ServiceAccount and generated role — with operator defaults from a
// ConfigMap that make Flink never restart a failed job itself and ask Flok to restart
// failed jobs. It checks that one replica leads and serves flok_ metrics; that the
// other takes over when the leader's Pod is deleted and keeps the job running as one
// copy; that a job failed by a killed TaskManager is restarted by the operator from
// its latest checkpoint; and that deletion cleans up — all with Flink's REST API and
// internal connections over TLS, with client certificates, from a generated Secret.
func TestOperatorInCluster(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	buildOperatorBinary(t)
	namespacedOperatorRBAC(t, ns)
	_, err := cluster.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "flok-defaults"},
		Data: map[string]string{"config.yaml": "restart-strategy.type: none\n" +
			"kubernetes.operator.job.restart.failed: true\n"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	operator := installedOperator(t, ns, 2, "--defaults-configmap="+ns+"/flok-defaults", "--observe-interval=5s", "--progress-interval=1s", "--checkpoint-observe-interval=5s")
	_, err = cluster.Client.AppsV1().Deployments(ns).Create(ctx, operator, metav1.CreateOptions{})
	require.NoError(t, err)

	var first string
	flinktest.WaitFor(t, 2*time.Minute, "both operator replicas ready and one of them leading", func(ctx context.Context) (bool, error) {
		first = leader(ctx, ns)
		return len(readyOperatorPods(ctx, ns)) == 2 && first != "", nil
	})
	requireMetric(t, ns, first, "controller_runtime_max_concurrent_reconciles")

	dir := flinktest.StateDir(t, cluster, ns)
	// The job's REST API and internal connections speak TLS with certificates Flok
	// generates, and Flink asks clients for theirs: the operator verifies the
	// JobManager with the Secret's CA and shows its certificate.
	fd := topSpeedWindowing(t, ns, "tsw", "native", release, dir)
	withOptions(t, fd, tlsOptions)
	// Its Pods are made of a pod template like production ones (an init container, a
	// sidecar, env from a Secret, host aliases, affinity, tolerations, …), the one
	// internal/render compares with what Flink's own client makes of it, layered for
	// each role over the base template (which mounts the state directory).
	_, err = cluster.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": dbPassword}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cluster.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "registry-pull"},
		Type: corev1.SecretTypeDockerConfigJson, StringData: map[string]string{corev1.DockerConfigJsonKey: `{"auths":{"registry.example.com":{"auth":"` + pullAuth + `"}}}`}},
		metav1.CreateOptions{})
	require.NoError(t, err)
	template, err := utilyaml.ToJSON(flinktest.RichPodTemplate(t, "flink:"+release.MinorVersion()))
	require.NoError(t, err)
	fd.Spec.JobManager = &v1beta1.JobManagerSpec{PodTemplate: &runtime.RawExtension{Raw: template}}
	fd.Spec.TaskManager = &v1beta1.TaskManagerSpec{PodTemplate: &runtime.RawExtension{Raw: template}}
	require.NoError(t, c.Create(ctx, fd))
	secret := tlsSecret(t, ns, "tsw")
	flink := directTLSClient(t, ns, "tsw", secret, true)
	fd = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "the job running under the in-cluster operator", stableWith(""))
	requireMetric(t, ns, first, `flok_deployments{lifecycle_state="STABLE"} 1`)
	proveTLSRefusals(t, ns, "tsw", secret)
	for _, component := range []string{"jobmanager", "taskmanager"} {
		pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=tsw,component=" + component})
		require.NoError(t, err)
		require.NotEmpty(t, pods.Items)
		flinktest.RequireRichPodRuns(t, &pods.Items[0])
	}

	// The Secret's CA replaced by another, the leader goes; the other replica takes
	// over, reads the Secret, refuses the JobManager's certificate and says so; the CA
	// put back, it observes again. The job keeps running, once, throughout.
	rightCA := replaceCA(t, ns, "tsw", otherCA(t))
	require.NoError(t, cluster.Client.CoreV1().Pods(ns).Delete(ctx, first, metav1.DeleteOptions{}))
	flinktest.WaitFor(t, 2*time.Minute, "another replica leading", func(ctx context.Context) (bool, error) {
		return leaderUpdated(ctx, ns, first), nil
	})
	waitForDeployment(t, c, ns, "tsw", 2*time.Minute, "the JobManager's certificate refused", func(fd *v1beta1.FlinkDeployment) bool {
		d := meta.FindStatusCondition(fd.Status.Conditions, lifecycle.ConditionDegraded)
		return d != nil && d.Status == metav1.ConditionTrue && d.Reason == "FlinkTLSFailed" && strings.Contains(d.Message, "certificate signed by unknown authority")
	})
	requireEvent(t, ns, "tsw", "FlinkTLSFailed")
	replaceCA(t, ns, "tsw", rightCA)
	handover, jobID := time.Now(), fd.Status.JobStatus.JobID
	fd = waitForDeployment(t, c, ns, "tsw", 2*time.Minute, "a checkpoint recorded by the new leader", func(fd *v1beta1.FlinkDeployment) bool {
		cp := fd.Status.JobStatus.CheckpointInfo
		d := meta.FindStatusCondition(fd.Status.Conditions, lifecycle.ConditionDegraded)
		return stableWith("")(fd) && cp != nil && cp.LastCheckpoint != nil && cp.LastCheckpoint.TimeStamp > handover.UnixMilli() && d.Status == metav1.ConditionFalse
	})
	require.Equal(t, jobID, fd.Status.JobStatus.JobID, "a change of leader leaves the job alone")
	requireOneRunningJob(t, flink)
	// The new leader counts the deployment it took over, times its calls to Flink by
	// endpoint, and shows its work queue.
	second := leader(ctx, ns)
	requireMetric(t, ns, second, `flok_deployments{lifecycle_state="STABLE"} 1`)
	requireMetric(t, ns, second, `flok_flink_rest_request_duration_seconds_count{endpoint="/jobs/:id`)
	requireMetric(t, ns, second, "workqueue_depth{")

	// Without restarts of its own (the defaults' restart strategy), the job fails when
	// its TaskManager is killed; the operator restarts it from its latest checkpoint.
	killPods(t, ns, "app=tsw,component=taskmanager")
	waitForDeployment(t, c, ns, "tsw", 2*time.Minute, "the failed job seen", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobStatus.State == lifecycle.JobFailed || fd.Status.Operation != nil && fd.Status.Operation.Kind == v1beta1.OperationRestart
	})
	fd = waitForDeployment(t, c, ns, "tsw", 5*time.Minute, "the failed job restarted by the operator", stableWith(jobID))
	restored := restoredFrom(t, flink, fd.Status.JobStatus.JobID)
	require.Contains(t, restored, "/chk-", "the restarted job continues from a checkpoint, not from empty state")
	require.DirExists(t, hostPath(dir, restored))
	requireOneRunningJob(t, flink)
	requireEvent(t, ns, "tsw", "FromRecordedState")
	// The operator read the TLS Secret; its key and keystore, the Secret the job's env
	// reads and the pull secret show nowhere it writes or says.
	proveSecretUnsaid(t, c, fd, operatorPodLogs(t, ns), flink, append(secretMaterial(t, ns, "tsw"), dbPassword, pullAuth)...)

	require.NoError(t, c.Delete(ctx, fd))
	deletedCleanly(t, c, fd)
}

// dbPassword is the value of Secret db the rich pod template's env reads, pullAuth the
// registry credentials of its pull secret: they must show nowhere else.
const (
	dbPassword = "e2e-db-passw0rd-never-shown"
	pullAuth   = "ZTJlLXB1bGwtY3JlZGVudGlhbHM6bmV2ZXItc2hvd24="
)

// requireMetric checks that an operator Pod's /metrics has a line starting with line.
func requireMetric(t *testing.T, ns, pod, line string) {
	t.Helper()
	metrics, err := cluster.Client.CoreV1().Pods(ns).ProxyGet("http", pod, "8080", "/metrics", nil).DoRaw(t.Context())
	require.NoError(t, err)
	for _, l := range strings.Split(string(metrics), "\n") {
		if strings.HasPrefix(l, line) {
			return
		}
	}
	t.Fatalf("%s's /metrics has no line %q", pod, line)
}

// leaderUpdated reports whether a replica other than old holds the Lease now.
func leaderUpdated(ctx context.Context, ns, old string) bool {
	l := leader(ctx, ns)
	return l != "" && l != old
}

// requireEvent checks that the FlinkDeployment got an event with the reason.
func requireEvent(t *testing.T, ns, name, reason string) {
	t.Helper()
	waitForEvent(t, ns, name, "a "+reason+" event", func(e eventsv1.Event) bool { return e.Reason == reason })
}

// waitForEvent waits for an event of the object name that matches.
func waitForEvent(t *testing.T, ns, name, what string, matches func(eventsv1.Event) bool) {
	t.Helper()
	flinktest.WaitFor(t, time.Minute, what, func(ctx context.Context) (bool, error) {
		events, err := cluster.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, e := range events.Items {
			if e.Regarding.Name == name && matches(e) {
				return true, nil
			}
		}
		return false, nil
	})
}
