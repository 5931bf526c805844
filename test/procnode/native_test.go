package procnode_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

var updateReference = flag.Bool("update", false, "rewrite testdata/native/ from the objects Flink's own client creates")

// TestFlinkNativeApplication deploys TopSpeedWindowing with Flink's own client in
// native Kubernetes application mode: the client creates the JobManager Deployment, the
// JobManager creates TaskManager Pods through the API server, and the job runs and
// checkpoints. Deleting the Deployment removes everything it owns.
func TestFlinkNativeApplication(t *testing.T) {
	flinktest.ForEachRelease(t, cluster, func(t *testing.T, release flinkdist.Release, ns string) {
		runWithFlinkClient(t, release, ns, "tsw")
		saveReference(t, ns, "tsw", release, "native")
		deleteNativeCluster(t, ns, "tsw")
	})
}

// TestFlinkNativeRichTemplate deploys the same application with Flink's own client and
// a pod template like production ones (testdata/rich-pod-template.yaml: an init
// container, a sidecar, a shared volume, env from a Secret, host aliases, pull secrets,
// a node selector, affinity, tolerations, security contexts): the job runs, the init
// container ran and the sidecar runs beside Flink in the JobManager's and the
// TaskManager's Pods. The objects are recorded for internal/render's comparison.
func TestFlinkNativeRichTemplate(t *testing.T) {
	flinktest.ForEachRelease(t, cluster, func(t *testing.T, release flinkdist.Release, ns string) {
		_, err := cluster.Client.CoreV1().Secrets(ns).Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"},
			StringData: map[string]string{"password": "s3cret"}}, metav1.CreateOptions{})
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "pod-template.yaml")
		require.NoError(t, os.WriteFile(path, flinktest.RichPodTemplate(t, "flink:"+release.MinorVersion()), 0o644))
		runWithFlinkClient(t, release, ns, "rich", "-Dkubernetes.pod-template-file.default="+path)
		for _, component := range []string{"jobmanager", "taskmanager"} {
			pods, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=rich,component=" + component})
			require.NoError(t, err)
			require.NotEmpty(t, pods.Items)
			flinktest.RequireRichPodRuns(t, &pods.Items[0])
		}
		saveReference(t, ns, "rich", release, "native-rich")
		deleteNativeCluster(t, ns, "rich")
	})
}

// runWithFlinkClient runs TopSpeedWindowing as cluster clusterID with Flink's own client
// (native application mode, with more -D options) and waits until a TaskManager Pod the
// JobManager created runs and the job checkpoints.
func runWithFlinkClient(t *testing.T, release flinkdist.Release, ns, clusterID string, options ...string) {
	t.Helper()
	ctx := t.Context()
	home, err := flinkdist.Provision(ctx, release)
	require.NoError(t, err)
	grantFlinkServiceAccount(t, ns)
	args := []string{"run", "--target", "kubernetes-application"}
	if release.MinorVersion() == flinkdist.Flink1.MinorVersion() {
		args = []string{"run-application", "--target", "kubernetes-application"}
	}
	args = append(args,
		"-Dkubernetes.cluster-id="+clusterID, "-Dkubernetes.namespace="+ns,
		"-Dkubernetes.config.file="+cluster.KubeconfigPath,
		"-Dkubernetes.container.image.ref=flink:"+release.MinorVersion(),
		"-Dkubernetes.service-account=flink",
		"-Dexecution.checkpointing.interval=2s")
	args = append(append(args, options...), "local:///opt/flink/examples/streaming/TopSpeedWindowing.jar")
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(home.Dir, "bin", "flink")}, args...)...)
	cmd.Env = append(os.Environ(), "FLINK_CONF_DIR="+filepath.Join(home.Dir, "conf"), "FLINK_LOG_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "flink %v:\n%s", args, out)

	flink := flinktest.RESTClient(t, cluster, ns, clusterID+"-rest", "rest")
	waitFor(t, 5*time.Minute, "a TaskManager Pod created by the JobManager and a RUNNING job with checkpoints", func(ctx context.Context) (bool, error) {
		pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + clusterID + ",component=taskmanager"})
		if err != nil || len(pods.Items) == 0 || pods.Items[0].Status.Phase != corev1.PodRunning {
			return false, nil
		}
		jobs, err := flink.Jobs(ctx)
		if err != nil || len(jobs) != 1 || jobs[0].State != flinkrest.JobRunning {
			return false, nil
		}
		c, err := flink.Checkpoints(ctx, jobs[0].ID)
		return err == nil && c.Counts.Completed >= 1, nil
	})
}

// deleteNativeCluster deletes the JobManager Deployment of clusterID and waits until
// everything it owned is collected.
func deleteNativeCluster(t *testing.T, ns, clusterID string) {
	t.Helper()
	require.NoError(t, cluster.Client.AppsV1().Deployments(ns).Delete(t.Context(), clusterID, metav1.DeleteOptions{}))
	waitFor(t, 2*time.Minute, "everything the Deployment owned to be collected", func(ctx context.Context) (bool, error) {
		pods, _ := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + clusterID})
		svcs, _ := cluster.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + clusterID})
		cms, _ := cluster.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + clusterID})
		return pods != nil && svcs != nil && cms != nil && len(pods.Items)+len(svcs.Items)+len(cms.Items) == 0, nil
	})
}

// grantFlinkServiceAccount creates the service account that Flink's documentation asks
// for: one bound to the edit role, so the JobManager can manage TaskManager Pods.
func grantFlinkServiceAccount(t *testing.T, ns string) {
	t.Helper()
	ctx := t.Context()
	_, err := cluster.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "flink"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cluster.Client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "flink-edit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "flink", Namespace: ns}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// referenceKinds are the objects Flink's native client and JobManager create.
var referenceKinds = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "pods"},
}

// saveReference writes, with -update, the objects Flink created — stripped of what the
// API server and the cluster fill in — to testdata/<set>/<version>/, where Flok's
// renderer is compared with them. Without -update it checks that the reference exists.
func saveReference(t *testing.T, ns, clusterID string, release flinkdist.Release, set string) {
	t.Helper()
	dir := filepath.Join("testdata", set, release.MinorVersion())
	if !*updateReference {
		_, err := os.Stat(dir)
		require.NoError(t, err, "no reference objects; run the test with -update")
		return
	}
	client := dynamic.NewForConfigOrDie(cluster.Config)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, gvr := range referenceKinds {
		list, err := client.Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + clusterID})
		require.NoError(t, err)
		for _, item := range list.Items {
			scrub(&item)
			data, err := yaml.Marshal(item.Object)
			require.NoError(t, err)
			data = scrubText(data, ns)
			name := item.GetKind() + "-" + item.GetName()
			if item.GetKind() == "Pod" {
				name = "Pod-taskmanager" // the name carries attempt and index
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, name+".yaml"), data, 0o644))
		}
	}
}

// scrub removes the fields that differ from run to run.
func scrub(u *unstructured.Unstructured) {
	for _, f := range [][]string{
		{"metadata", "uid"}, {"metadata", "resourceVersion"}, {"metadata", "creationTimestamp"},
		{"metadata", "managedFields"}, {"metadata", "generation"}, {"metadata", "generateName"}, {"status"},
		{"spec", "clusterIP"}, {"spec", "clusterIPs"},
	} {
		unstructured.RemoveNestedField(u.Object, f...)
	}
	refs := u.GetOwnerReferences()
	for i := range refs {
		refs[i].UID = "OWNER-UID"
	}
	u.SetOwnerReferences(refs)
}

var runSpecific = []struct {
	pattern     *regexp.Regexp
	replacement string
}{
	{regexp.MustCompile(`flink-web-[0-9a-f-]{36}`), "flink-web-UUID"},
	{regexp.MustCompile(`kube-api-access-[a-z0-9]{5}`), "kube-api-access-XXXXX"},
}

// scrubText replaces the test namespace and generated names in serialized objects.
func scrubText(data []byte, ns string) []byte {
	data = bytes.ReplaceAll(data, []byte(ns), []byte("NAMESPACE"))
	for _, r := range runSpecific {
		data = r.pattern.ReplaceAll(data, []byte(r.replacement))
	}
	return data
}
