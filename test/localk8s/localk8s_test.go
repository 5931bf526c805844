package localk8s_test

import (
	"context"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/test/localk8s"
)

var cluster *localk8s.Cluster

func TestMain(m *testing.M) {
	localk8s.Main(m, localk8s.Options{Kwok: true, CRDs: []string{"testdata/crds"}}, &cluster)
}

// gcDeadline is far below the garbage collector's 30 s rediscovery period, so a passing
// custom-resource test proves the CRD was known before kube-controller-manager started.
const gcDeadline = 10 * time.Second

var widgetGVR = schema.GroupVersionResource{Group: "test.flok.dev", Version: "v1", Resource: "widgets"}

func eventually(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, timeout, true, cond)
	require.NoError(t, err, "waiting for %s", what)
}

func kwokDeployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers:  []corev1.Container{{Name: "main", Image: "example.invalid/none:1"}},
					Tolerations: []corev1.Toleration{localk8s.KwokToleration},
				},
			},
		},
	}
}

func TestDeploymentPodsRunOnKwokNode(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	deploy, err := cluster.Client.AppsV1().Deployments(ns).Create(ctx, kwokDeployment("web", 3), metav1.CreateOptions{})
	require.NoError(t, err)

	eventually(t, time.Minute, "3 running pods on the kwok node", func(ctx context.Context) (bool, error) {
		pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName == localk8s.KwokNodeName && p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == 3, nil
	})
	sets, err := cluster.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	require.NoError(t, err)
	require.Len(t, sets.Items, 1)
	owner := metav1.GetControllerOf(&sets.Items[0])
	require.NotNil(t, owner, "the ReplicaSet has a controller owner")
	require.Equal(t, deploy.UID, owner.UID, "the Deployment controller created the ReplicaSet")
	eventually(t, time.Minute, "the Deployment to report 3 available replicas", func(ctx context.Context) (bool, error) {
		d, err := cluster.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 3, err
	})
}

func TestGarbageCollectionOfBuiltInOwner(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	deploy, err := cluster.Client.AppsV1().Deployments(ns).Create(ctx, kwokDeployment("owner", 2), metav1.CreateOptions{})
	require.NoError(t, err)
	dependent := ownedConfigMap("owned-by-deployment", metav1.OwnerReference{
		APIVersion: "apps/v1", Kind: "Deployment", Name: deploy.Name, UID: deploy.UID,
	})
	_, err = cluster.Client.CoreV1().ConfigMaps(ns).Create(ctx, dependent, metav1.CreateOptions{})
	require.NoError(t, err)
	eventually(t, time.Minute, "2 pods", podCount(ns, "app=owner", 2))

	require.NoError(t, cluster.Client.AppsV1().Deployments(ns).Delete(ctx, deploy.Name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
	}))
	eventually(t, gcDeadline, "the ConfigMap to be collected", configMapGone(ns, dependent.Name))
	eventually(t, gcDeadline, "the ReplicaSet to be collected", func(ctx context.Context) (bool, error) {
		sets, err := cluster.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=owner"})
		return err == nil && len(sets.Items) == 0, err
	})
	eventually(t, gcDeadline, "the pods to be collected", podCount(ns, "app=owner", 0))
}

func TestGarbageCollectionOfCustomResourceOwner(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	widgets := dynamic.NewForConfigOrDie(cluster.Config).Resource(widgetGVR).Namespace(ns)
	widget, err := widgets.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "test.flok.dev/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w"}, "spec": map[string]any{"size": 1},
	}}, metav1.CreateOptions{})
	require.NoError(t, err)
	dependent := ownedConfigMap("owned-by-widget", metav1.OwnerReference{
		APIVersion: "test.flok.dev/v1", Kind: "Widget", Name: widget.GetName(), UID: widget.GetUID(),
	})
	_, err = cluster.Client.CoreV1().ConfigMaps(ns).Create(ctx, dependent, metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, widgets.Delete(ctx, widget.GetName(), metav1.DeleteOptions{}))
	eventually(t, gcDeadline, "the ConfigMap owned by the custom resource to be collected", configMapGone(ns, dependent.Name))
}

func TestRBACDeniesServiceAccountWithoutRights(t *testing.T) {
	ctx := t.Context()
	ns := cluster.Namespace(t)
	_, err := cluster.Client.CoreV1().ServiceAccounts(ns).Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	sa := serviceAccountClient(t, ns, "reader")

	_, err = sa.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "listing pods without a role must be forbidden, got %v", err)

	// The same token is allowed once a Role grants the right: the denial came from
	// RBAC, not from a broken token.
	_, err = cluster.Client.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cluster.Client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "reader-reads-pods"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "reader", Namespace: ns}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	eventually(t, 10*time.Second, "the role binding to take effect", func(ctx context.Context) (bool, error) {
		_, err := sa.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	_, err = sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "secrets stay forbidden, got %v", err)
}

func TestKubectlWorksWithKubeconfig(t *testing.T) {
	out := kubectl(t, "version", "-o", "json")
	var version struct {
		ClientVersion struct{ GitVersion string } `json:"clientVersion"`
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &version), out)
	require.True(t, strings.HasPrefix(version.ServerVersion.GitVersion, "v1.36."), "server version %q", version.ServerVersion.GitVersion)
	require.Equal(t, version.ServerVersion.GitVersion, version.ClientVersion.GitVersion)

	require.Equal(t, "node/"+localk8s.KwokNodeName, strings.TrimSpace(kubectl(t, "get", "nodes", "-o", "name")))
	ns := cluster.Namespace(t)
	kubectl(t, "-n", ns, "create", "configmap", "from-kubectl", "--from-literal=k=v")
	cm, err := cluster.Client.CoreV1().ConfigMaps(ns).Get(t.Context(), "from-kubectl", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "v", cm.Data["k"])
}

// TestStopLeavesNoProcess starts a second, node-less cluster and restarts its etcd:
// what was written before survives and the API server answers again. Then it checks
// that Stop ends every process it started, the restarted etcd among them.
func TestStopLeavesNoProcess(t *testing.T) {
	ctx := t.Context()
	second, err := localk8s.Start(ctx, localk8s.Options{BinDir: cluster.BinDir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Stop() })
	written := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before-restart"}, Data: map[string]string{"k": "v"}}
	_, err = second.Client.CoreV1().ConfigMaps("default").Create(ctx, written, metav1.CreateOptions{})
	require.NoError(t, err)
	before := second.PIDs()
	require.NoError(t, second.RestartEtcd(ctx, time.Second))
	eventually(t, time.Minute, "the API server to answer after etcd's restart", func(ctx context.Context) (bool, error) {
		cm, err := second.Client.CoreV1().ConfigMaps("default").Get(ctx, written.Name, metav1.GetOptions{})
		return err == nil && cm.Data["k"] == "v", nil
	})
	pids := second.PIDs()
	require.Len(t, pids, 4, "etcd, kube-apiserver, kube-controller-manager, kube-scheduler")
	require.NotSubset(t, before, pids, "etcd was replaced")
	require.NoError(t, second.Stop())
	for _, pid := range pids {
		require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "process %d still exists after Stop", pid)
	}
	require.NoDirExists(t, second.Dir)
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cluster.Kubectl(t.Context(), nil, args...)
	require.NoError(t, err)
	return string(out)
}

func serviceAccountClient(t *testing.T, ns, name string) kubernetes.Interface {
	t.Helper()
	token, err := cluster.Client.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}},
		metav1.CreateOptions{})
	require.NoError(t, err)
	cfg := &rest.Config{
		Host:            cluster.Config.Host,
		BearerToken:     token.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cluster.Config.CAData},
	}
	client, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return client
}

func ownedConfigMap(name string, owner metav1.OwnerReference) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: []metav1.OwnerReference{owner}}}
}

func configMapGone(ns, name string) wait.ConditionWithContextFunc {
	return func(ctx context.Context) (bool, error) {
		_, err := cluster.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}
}

func podCount(ns, selector string, want int) wait.ConditionWithContextFunc {
	return func(ctx context.Context) (bool, error) {
		pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		return err == nil && len(pods.Items) == want, err
	}
}
