package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/controller/round"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/operator"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/supervisor"
)

// Environment of an operator process a test starts.
const (
	operatorEnv   = "FLOK_E2E_OPERATOR_NAMESPACE"
	kubeconfigEnv = "FLOK_E2E_KUBECONFIG"
	// crashEnv says where the operator kills itself with SIGKILL: "before:RemoveCluster"
	// (after recording the status that announces the action), "after:Deploy" (after
	// the action succeeded, before anything records that it did), "before:SendAlert"
	// (after recording an incident, before sending it).
	crashEnv = "FLOK_E2E_CRASH"
	// pauseAfterEnv names an action after which the operator pauses while the test
	// holds it (pauseDirEnv's "hold" exists): it writes "paused" and waits until "hold"
	// is gone, so that a test acts at that very point.
	pauseAfterEnv = "FLOK_E2E_PAUSE_AFTER"
	pauseDirEnv   = "FLOK_E2E_PAUSE_DIR"
	// leaderElectionEnv ("true") makes the operator elect a leader among the
	// operators of its namespace, with the Lease there.
	leaderElectionEnv = "FLOK_E2E_LEADER_ELECTION"
	// crashBeforeAlert names the point before an alert is sent.
	crashBeforeAlert = "SendAlert"
)

// runOperator is the main of an operator process: it watches one namespace and
// reaches Flink through the API server, as `make run` does.
func runOperator() int {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv(kubeconfigEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	opts := operator.DefaultOptions()
	opts.Namespaces = strings.Split(os.Getenv(operatorEnv), ",")
	opts.LeaderElection, opts.LeaderElectionNamespace = os.Getenv(leaderElectionEnv) == "true", opts.Namespaces[0]
	opts.MetricsAddr, opts.ProbeAddr, opts.FlinkAccess = "0", "0", "proxy"
	// Checkpoints are read every round, as the tests of recorded checkpoints expect.
	opts.ProgressInterval, opts.ObserveInterval, opts.CheckpointObserveInterval = time.Second, 5*time.Second, 5*time.Second
	// The console's checkpoint history is written soon after it is read — not every
	// round: each write is the whole history, and a dozen jobs share this API server.
	opts.CheckpointHistoryInterval = 20 * time.Second
	// Session jobs' jars come from a test server on loopback; kept with the cluster.
	opts.AllowHTTPArtifacts, opts.MaxArtifactSize = true, testMaxArtifactSize
	opts.ArtifactDir = filepath.Join(filepath.Dir(os.Getenv(kubeconfigEnv)), "artifacts-"+opts.Namespaces[0])
	if jar := os.Getenv(sqlRunnerEnv); jar != "" {
		opts.SQLRunnerJar = jar
	}
	var hooks round.Hooks
	when, action, _ := strings.Cut(os.Getenv(crashEnv), ":")
	switch {
	case when == "before" && action == crashBeforeAlert:
		hooks.BeforeAlert = func(client.Object) {
			fmt.Fprintln(os.Stderr, "crash test: killing the operator before it sends an alert")
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	case when == "before":
		hooks.BeforeAction = crashAt(when, action)
	case when == "after":
		hooks.AfterAction = crashAt(when, action)
	case os.Getenv(pauseAfterEnv) != "":
		hooks.AfterAction = pauseAfter(os.Getenv(pauseAfterEnv), os.Getenv(pauseDirEnv))
	}
	if err := operator.Run(ctrl.SetupSignalHandler(), cfg, opts, hooks); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// crashAt kills the process the first time it meets the named action.
func crashAt(when, action string) round.ActionHook {
	return func(_ client.Object, a lifecycle.Action) {
		if string(a.Type) == action {
			fmt.Fprintf(os.Stderr, "crash test: killing the operator %s %s\n", when, action)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}

// pauseAfter holds the operator after it has taken the named action while the test
// holds it (see pauseAfterEnv and holdAfterAction).
func pauseAfter(action, dir string) round.ActionHook {
	return func(_ client.Object, a lifecycle.Action) {
		if string(a.Type) != action {
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "hold")); err != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "pause test: paused after %s\n", action)
		_ = os.WriteFile(filepath.Join(dir, "paused"), nil, 0o644)
		for {
			if _, err := os.Stat(filepath.Join(dir, "hold")); err != nil {
				_ = os.Remove(filepath.Join(dir, "paused"))
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// holdAfterAction makes the operator started with pauseAfterEnv and pauseDirEnv=dir
// pause the next time it takes its action; it returns a function that waits until it
// is paused, and one that lets it go on.
func holdAfterAction(t *testing.T, dir string) (waitPaused, letGo func()) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hold"), nil, 0o644))
	waitPaused = func() {
		flinktest.WaitFor(t, 2*time.Minute, "the operator paused after its action", func(context.Context) (bool, error) {
			_, err := os.Stat(filepath.Join(dir, "paused"))
			return err == nil, nil
		})
	}
	letGo = func() { require.NoError(t, os.Remove(filepath.Join(dir, "hold"))) }
	return waitPaused, letGo
}

// startOperator runs an operator for ns (namespaces, comma-separated) as a child
// process (this test binary, run again), stopped when the test ends; crashBefore makes
// it kill itself (see crashEnv).
func startOperator(t *testing.T, ns, crashBefore string) *supervisor.Process {
	t.Helper()
	return startOperatorWith(t, ns, operatorKubeconfig(t), crashBefore)
}

// startOperatorWith is startOperator with the operator's kubeconfig given, and more
// environment (KEY=value).
func startOperatorWith(t *testing.T, ns, kubeconfig, crashBefore string, env ...string) *supervisor.Process {
	t.Helper()
	sup, err := supervisor.New(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(sup.Close)
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), operatorEnv+"="+ns, kubeconfigEnv+"="+kubeconfig, crashEnv+"="+crashBefore)
	cmd.Env = append(cmd.Env, env...)
	p, err := sup.Start("flok-operator-"+strings.ReplaceAll(ns, ",", "+"), cmd)
	require.NoError(t, err)
	t.Cleanup(func() {
		p.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("----- operator log (%s)\n%s", p.LogPath, supervisor.TailFile(p.LogPath, 60))
		}
	})
	return p
}

// installOperatorRBAC applies config/rbac once: the flok-system namespace, the
// flok-operator ServiceAccount in it and the ClusterRole make generate derives from the
// code.
func installOperatorRBAC(t *testing.T) {
	t.Helper()
	require.NoError(t, operatorRBACApplied(), "config/rbac applied")
}

var operatorRBACApplied = sync.OnceValue(func() error {
	_, err := cluster.Kubectl(context.Background(), nil, "apply", "-f", "../../config/rbac")
	return err
})

// operatorKubeconfig is a kubeconfig for the flok-operator ServiceAccount bound to the
// ClusterRole that make generate derives from the code (config/rbac): the operator in
// the tests has exactly the rights an installed one has.
func operatorKubeconfig(t *testing.T) string {
	t.Helper()
	installOperatorRBAC(t)
	path, err := operatorIdentity()
	require.NoError(t, err, "the operator's identity")
	return path
}

// operatorIdentity writes the flok-operator ServiceAccount's kubeconfig, once.
var operatorIdentity = sync.OnceValues(func() (string, error) {
	path := filepath.Join(cluster.Dir, "flok-operator.kubeconfig")
	return path, writeOperatorKubeconfig(path, cluster.Config.Host)
})

// operatorKubeconfigVia is a kubeconfig for a proxy at server (http://host:port on
// loopback) that adds the flok-operator ServiceAccount's credentials itself: client-go
// sends none over plain HTTP.
func operatorKubeconfigVia(t *testing.T, server string) string {
	t.Helper()
	config := clientcmdapi.NewConfig()
	config.Clusters["local"] = &clientcmdapi.Cluster{Server: server}
	config.AuthInfos["proxied"] = &clientcmdapi.AuthInfo{}
	config.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "proxied"}
	config.CurrentContext = "local"
	path := filepath.Join(t.TempDir(), "flok-operator.kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*config, path))
	return path
}

// writeOperatorKubeconfig writes to path a kubeconfig with a token of the
// flok-operator ServiceAccount for the API server at server.
func writeOperatorKubeconfig(path, server string) error {
	token, err := operatorToken()
	if err != nil {
		return err
	}
	config := clientcmdapi.NewConfig()
	config.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: cluster.Config.CAData}
	config.AuthInfos["flok-operator"] = &clientcmdapi.AuthInfo{Token: token}
	config.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "flok-operator"}
	config.CurrentContext = "local"
	return clientcmd.WriteToFile(*config, path)
}

// operatorToken is a new token of the flok-operator ServiceAccount, which has the
// rights config/rbac gives the operator.
func operatorToken() (string, error) {
	if err := operatorRBACApplied(); err != nil {
		return "", err
	}
	token, err := cluster.Client.CoreV1().ServiceAccounts("flok-system").CreateToken(context.Background(), "flok-operator",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)}}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return token.Status.Token, nil
}

// operatorTest prepares one test of the operator: a namespace whose Pod logs are kept
// if it fails, the Flink release provisioned, and a client for Flok's resources.
func operatorTest(t *testing.T, release flinkdist.Release) (string, client.Client) {
	t.Helper()
	ns := cluster.Namespace(t)
	flinktest.DumpOnFailure(t, cluster, ns)
	_, err := flinkdist.Provision(t.Context(), release)
	require.NoError(t, err)
	return ns, flokClient(t)
}

// flokClient reads and writes Flok's resources.
func flokClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(cluster.Config, client.Options{Scheme: cli.Scheme()})
	require.NoError(t, err)
	return c
}

// waitForDeployment polls the FlinkDeployment until cond holds, and returns it.
func waitForDeployment(t *testing.T, c client.Client, ns, name string, timeout time.Duration, what string, cond func(*v1beta1.FlinkDeployment) bool) *v1beta1.FlinkDeployment {
	t.Helper()
	fd := &v1beta1.FlinkDeployment{}
	var last string
	flinktest.WaitFor(t, timeout, what, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, fd); err != nil {
			return false, nil
		}
		last = fmt.Sprintf("lifecycle %s, job %s %s, operation %+v, error %q", fd.Status.LifecycleState, fd.Status.JobStatus.JobID, fd.Status.JobStatus.State, fd.Status.Operation, fd.Status.Error)
		return cond(fd), nil
	})
	t.Logf("%s: %s", what, last)
	return fd
}

func hostPath(stateDir, uri string) string {
	return filepath.Join(stateDir, strings.TrimPrefix(strings.TrimPrefix(uri, "file:"), "/flink-data"))
}

// deletedCleanly waits until the FlinkDeployment is gone and with it every Pod and
// ConfigMap of its cluster, HA ConfigMaps included.
func deletedCleanly(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	selector := metav1.ListOptions{LabelSelector: "app=" + fd.Name}
	flinktest.WaitFor(t, 3*time.Minute, "the FlinkDeployment, its Pods and its ConfigMaps to go", func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(fd), &v1beta1.FlinkDeployment{})
		pods, _ := cluster.Client.CoreV1().Pods(fd.Namespace).List(ctx, selector)
		cms, _ := cluster.Client.CoreV1().ConfigMaps(fd.Namespace).List(ctx, selector)
		return apierrors.IsNotFound(err) && len(pods.Items) == 0 && len(cms.Items) == 0, nil
	})
}
