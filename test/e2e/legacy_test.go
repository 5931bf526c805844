package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// TestFlink118ConfFile runs a native application on Flink 1.18, the last release that
// reads flink-conf.yaml (1.19 moved to config.yaml), under the operator: the cluster's
// ConfigMap holds flink-conf.yaml and no config.yaml; Flink reads it (its REST API
// reports the options, and checkpoints land in the directory named by 1.18's key); a
// savepoint upgrade restores the new job from the savepoint; deletion leaves nothing.
// On the way, the Ingress of spec.ingress is checked against the Service it names and
// followed as an ingress controller would, to Flink; the REST Service, exposed as a
// LoadBalancer, reaches Flink from outside the cluster on its NodePort and on the
// address its status publishes; and a Secret given as env
// (kubernetes.env.secretKeyRef) and as files (kubernetes.secrets) reaches the JVMs of
// the JobManager and a TaskManager, while its value shows nowhere Flok writes or says
// anything: the operator's log, events, the status, the CLI.
func TestFlink118ConfFile(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink118
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	stateDir := flinktest.StateDir(t, cluster, ns)
	fd := topSpeedWindowing(t, ns, "legacy", "native", release, stateDir)
	// Flink 1.18 knows the snapshot directories by their older keys; its TopSpeedWindowing
	// is only in the examples' main jar, which names no entry class.
	fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(`{"taskmanager.numberOfTaskSlots":"2",` +
		`"execution.checkpointing.interval":"2s","state.checkpoints.dir":"file:///flink-data/checkpoints",` +
		`"state.savepoints.dir":"file:///flink-data/savepoints","pipeline.name":"orders by car: legacy",` +
		`"kubernetes.secrets":"legacy-credentials:/opt/flink/credentials",` +
		`"kubernetes.env.secretKeyRef":"env:ORDERS_TOKEN,secret:legacy-credentials,key:token",` +
		`"kubernetes.rest-service.exposed.type":"LoadBalancer"}`)}
	fd.Spec.Job.EntryClass = "org.apache.flink.streaming.examples.windowing.TopSpeedWindowing"
	fd.Spec.Ingress = &v1beta1.IngressSpec{Template: "flink.example.com/{{namespace}}/{{name}}", ClassName: ptr.To("nginx")}
	require.NoError(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "legacy-credentials"},
		Data: map[string][]byte{"token": []byte(plantedToken)}}))
	require.NoError(t, c.Create(ctx, fd))
	operator := startOperator(t, ns, "")
	fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the first deployment", stableWith(""))
	first := fd.Status.JobStatus.JobID

	cm, err := cluster.Client.CoreV1().ConfigMaps(ns).Get(ctx, render.ConfigMapName(fd.Name), metav1.GetOptions{})
	require.NoError(t, err)
	require.NotContains(t, cm.Data, "config.yaml")
	require.Contains(t, cm.Data["flink-conf.yaml"], "state.checkpoints.dir: file:///flink-data/checkpoints\n")
	flink := flinktest.RESTClient(t, cluster, ns, render.RESTServiceName(fd.Name), "rest")
	conf, err := flink.JobManagerConfig(ctx)
	require.NoError(t, err)
	require.Equal(t, "file:///flink-data/checkpoints", conf["state.checkpoints.dir"])
	require.Equal(t, "orders by car: legacy", conf["pipeline.name"], "a value with \": \" read whole")
	proveIngressRoutes(t, ns, fd.Name, release)
	proveServedOnNode(t, ns, render.RESTServiceName(fd.Name), release)
	proveSecretReachesJVMs(t, ns, fd.Name)
	flinktest.WaitFor(t, 2*time.Minute, "a checkpoint in the directory flink-conf.yaml names", func(context.Context) (bool, error) {
		done, _ := filepath.Glob(filepath.Join(stateDir, "checkpoints", first, "chk-*", "_metadata"))
		return len(done) > 0, nil
	})

	update(t, c, fd, func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 2 })
	fd = waitForDeployment(t, c, ns, fd.Name, 5*time.Minute, "the savepoint upgrade", stableWith(first))
	savepoint := fd.Status.JobStatus.UpgradeSavepointPath
	require.NotEmpty(t, savepoint)
	_, err = os.Stat(filepath.Join(stateDir, "savepoints", filepath.Base(savepoint), "_metadata"))
	require.NoError(t, err, "the savepoint is in the directory flink-conf.yaml names")
	require.Equal(t, savepoint, restoredFrom(t, flink, fd.Status.JobStatus.JobID))
	requireOneRunningJob(t, flink)

	proveSecretUnsaid(t, c, fd, operator.LogPath, flinktest.RESTClient(t, cluster, fd.Namespace, render.RESTServiceName(fd.Name), "rest"), plantedToken)
	require.NoError(t, c.Delete(ctx, fd))
	deletedCleanly(t, c, fd)
}

// plantedToken is a Secret's value the test gives a job, which must reach its JVMs and
// show nowhere else.
const plantedToken = "e2e-0rders-t0ken-never-shown"

// proveSecretReachesJVMs reads, from the processes of deployment name's JobManager and
// of a TaskManager, the environment variable and the file the Secret was given as.
func proveSecretReachesJVMs(t *testing.T, ns, name string) {
	t.Helper()
	for _, role := range []string{"jobmanager", "taskmanager"} {
		pods, err := cluster.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + name + ",component=" + role})
		require.NoError(t, err)
		require.NotEmpty(t, pods.Items, role)
		pids := node.PodPIDs(ns, pods.Items[0].Name)
		require.NotEmpty(t, pids, "the processes of %s", pods.Items[0].Name)
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pids[0]))
		require.NoError(t, err)
		require.Contains(t, strings.Split(string(environ), "\x00"), "ORDERS_TOKEN="+plantedToken, "the %s's environment", role)
		file, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/opt/flink/credentials/token", pids[0]))
		require.NoError(t, err, "the %s's Secret volume", role)
		require.Equal(t, plantedToken, string(file))
	}
}

// proveSecretUnsaid: the planted values are in none of the operator's log, the
// namespace's events, the resource (a FlinkDeployment or FlinkSessionJob, its status
// with it), flok status and Flink's configuration as its REST API (which the console
// and flok ui relay) reports it.
func proveSecretUnsaid(t *testing.T, c client.Client, obj client.Object, operatorLog string, flink *flinkrest.Client, planted ...string) {
	t.Helper()
	ctx := t.Context()
	logData, err := os.ReadFile(operatorLog)
	require.NoError(t, err)
	texts := map[string]string{"the operator's log": string(logData)}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	resource, err := json.Marshal(obj)
	require.NoError(t, err)
	texts["the resource"] = string(resource)
	evs, err := cluster.Client.EventsV1().Events(obj.GetNamespace()).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, e := range evs.Items {
		texts["event "+e.Reason] += e.Note + "\n"
	}
	code, stdout, stderr := flok(t, obj.GetNamespace(), "status", obj.GetName())
	require.Zero(t, code, stderr)
	texts["flok status"] = stdout + stderr
	conf, err := flink.JobManagerConfig(ctx)
	require.NoError(t, err)
	texts["Flink's configuration"] = fmt.Sprint(conf)
	for where, text := range texts {
		for _, value := range planted {
			require.NotContains(t, text, value, where)
		}
	}
}

// proveIngressRoutes checks the Ingress of deployment name against the Service it
// names — there, with the port it routes to — and follows it as an ingress controller
// would: Flink of release answers on that Service port.
func proveIngressRoutes(t *testing.T, ns, name string, release flinkdist.Release) {
	t.Helper()
	ctx := t.Context()
	ing, err := cluster.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "nginx", ptr.Deref(ing.Spec.IngressClassName, ""))
	rule := ing.Spec.Rules[0]
	require.Equal(t, "flink.example.com", rule.Host)
	path := rule.HTTP.Paths[0]
	require.Equal(t, "/"+ns+"/"+name, path.Path)
	backend := path.Backend.Service
	svc, err := cluster.Client.CoreV1().Services(ns).Get(ctx, backend.Name, metav1.GetOptions{})
	require.NoError(t, err, "the Service the Ingress names")
	port := ""
	for _, p := range svc.Spec.Ports {
		if p.Port == backend.Port.Number {
			port = p.Name
		}
	}
	require.NotEmpty(t, port, "the Ingress routes to port %d, which Service %s has", backend.Port.Number, backend.Name)
	overview, err := flinktest.RESTClient(t, cluster, ns, backend.Name, port).Overview(ctx)
	require.NoError(t, err)
	require.Equal(t, release.Version, overview.FlinkVersion)
	require.Equal(t, 1, overview.JobsRunning)
}

// proveServedOnNode reaches Flink of release from outside the cluster through the
// LoadBalancer Service svc: on the node's address and its NodePort, as kube-proxy
// serves it, and on the address:port its status publishes, as a load balancer does.
func proveServedOnNode(t *testing.T, ns, svc string, release flinkdist.Release) {
	t.Helper()
	ctx := t.Context()
	var service *corev1.Service
	flinktest.WaitFor(t, time.Minute, "the load balancer's address in the Service's status", func(ctx context.Context) (bool, error) {
		var err error
		service, err = cluster.Client.CoreV1().Services(ns).Get(ctx, svc, metav1.GetOptions{})
		return err == nil && len(service.Status.LoadBalancer.Ingress) > 0, nil
	})
	require.Equal(t, corev1.ServiceTypeLoadBalancer, service.Spec.Type)
	nodes, err := cluster.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	nodeIP := nodes.Items[0].Status.Addresses[0].Address
	port := service.Spec.Ports[0]
	for _, addr := range []string{
		net.JoinHostPort(nodeIP, strconv.Itoa(int(port.NodePort))),
		net.JoinHostPort(service.Status.LoadBalancer.Ingress[0].IP, strconv.Itoa(int(port.Port))),
	} {
		flink, err := flinkrest.New("http://"+addr, flinkrest.WithAttempts(1, 0))
		require.NoError(t, err)
		overview, err := flink.Overview(ctx)
		require.NoError(t, err, "Flink's REST API at %s", addr)
		require.Equal(t, release.Version, overview.FlinkVersion, addr)
	}
}
