package localk8s

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// startTimeout bounds how long one component may take to become healthy. Starts take
// seconds; the margin is for a machine busy compiling.
const startTimeout = 2 * time.Minute

func loopbackURL(scheme string, port int) string {
	return scheme + "://127.0.0.1:" + strconv.Itoa(port)
}

func (c *Cluster) bin(name string) string { return filepath.Join(c.BinDir, name) }

func (c *Cluster) startEtcd(ctx context.Context) error {
	client, peer := loopbackURL("http", c.ports.etcdClient), loopbackURL("http", c.ports.etcdPeer)
	p, err := c.sup.Command("etcd", c.bin("etcd"),
		"--name=local", "--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=local="+peer, "--listen-metrics-urls=",
		"--unsafe-no-fsync", "--log-level=warn")
	if err != nil {
		return err
	}
	c.etcd = p
	return p.WaitUntil(ctx, startTimeout, func(ctx context.Context) bool {
		body, ok := httpGet(ctx, http.DefaultClient, client+"/health")
		return ok && strings.Contains(body, `"health":"true"`)
	})
}

// RestartEtcd kills etcd (SIGKILL: no clean shutdown), keeps it away for down, and
// starts it again on its data; it returns once etcd is healthy. The API server stays up
// and answers with errors meanwhile, as a control plane does while its etcd restarts.
func (c *Cluster) RestartEtcd(ctx context.Context, down time.Duration) error {
	old := c.etcd
	if err := old.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing etcd: %w", err)
	}
	<-old.Done()
	c.sup.Forget(old)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down): // the outage's length, not a wait for something to happen
	}
	return c.startEtcd(ctx)
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	pki := c.pki.path
	p, err := c.sup.Command("kube-apiserver", c.bin("kube-apiserver"),
		"--etcd-servers="+loopbackURL("http", c.ports.etcdClient),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(c.ports.apiserver),
		"--cert-dir="+filepath.Join(c.Dir, "apiserver-certs"),
		"--tls-cert-file="+pki("apiserver.crt"), "--tls-private-key-file="+pki("apiserver.key"),
		"--client-ca-file="+pki("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki("sa.pub"), "--service-account-signing-key-file="+pki("sa.key"),
		"--service-cluster-ip-range="+c.serviceCIDR, "--service-node-port-range="+c.Slot.NodePortRange(),
		"--authorization-mode=Node,RBAC", "--allow-privileged=true",
		// The default reconciler would publish 127.0.0.1 as the endpoint of the
		// "kubernetes" Service, which endpoint validation rejects as loopback.
		"--endpoint-reconciler-type=none",
		// Reach nodes (for logs) by their IP, never by a host name the resolver would
		// be asked about.
		"--kubelet-preferred-address-types=InternalIP",
		// Call webhooks (flok-operator's admission webhook) at their Service's ready
		// endpoint, a Pod address the process node's bridge gives this host, not at
		// the ClusterIP, which only Pods route to.
		"--enable-aggregator-routing=true",
		"--profiling=false")
	if err != nil {
		return err
	}
	c.KubeconfigPath = filepath.Join(c.Dir, "admin.kubeconfig")
	server := loopbackURL("https", c.ports.apiserver)
	if err := c.pki.writeKubeconfig(c.KubeconfigPath, server, adminIdentity); err != nil {
		return err
	}
	if err := c.loadClient(); err != nil {
		return err
	}
	return p.WaitUntil(ctx, startTimeout, func(ctx context.Context) bool {
		_, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil
	})
}

func (c *Cluster) startControllerManager(ctx context.Context) error {
	kubeconfig := filepath.Join(c.Dir, "kube-controller-manager.kubeconfig")
	if err := c.pki.writeKubeconfig(kubeconfig, c.Config.Host, controllerIdentity); err != nil {
		return err
	}
	pki := c.pki.path
	p, err := c.sup.Command("kube-controller-manager", c.bin("kube-controller-manager"),
		"--kubeconfig="+kubeconfig, "--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.ports.controllerManager),
		"--cert-dir="+filepath.Join(c.Dir, "kcm-certs"), "--leader-elect=false",
		// Each controller runs as its own ServiceAccount under the bootstrap RBAC
		// policy, as kubeadm sets it up.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+pki("sa.key"), "--root-ca-file="+pki("ca.crt"),
		"--cluster-signing-cert-file="+pki("ca.crt"), "--cluster-signing-key-file="+pki("ca.key"),
		"--service-cluster-ip-range="+c.serviceCIDR, "--controllers=*",
		// Client-side rate limits as large clusters raise them (the defaults, 20/s,
		// would make thousands of Pods take minutes).
		"--kube-api-qps=100", "--kube-api-burst=200")
	if err != nil {
		return err
	}
	healthz := loopbackURL("https", c.ports.controllerManager) + "/healthz"
	return p.WaitUntil(ctx, startTimeout, func(ctx context.Context) bool {
		if _, ok := httpGet(ctx, selfSignedClient, healthz); !ok {
			return false
		}
		// Pods can be created in a namespace once its default ServiceAccount exists.
		_, err := c.Client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
}

func (c *Cluster) startScheduler(ctx context.Context) error {
	kubeconfig := filepath.Join(c.Dir, "kube-scheduler.kubeconfig")
	if err := c.pki.writeKubeconfig(kubeconfig, c.Config.Host, schedulerIdentity); err != nil {
		return err
	}
	p, err := c.sup.Command("kube-scheduler", c.bin("kube-scheduler"),
		"--kubeconfig="+kubeconfig, "--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.ports.scheduler),
		"--cert-dir="+filepath.Join(c.Dir, "scheduler-certs"), "--leader-elect=false",
		"--kube-api-qps=100", "--kube-api-burst=200")
	if err != nil {
		return err
	}
	healthz := loopbackURL("https", c.ports.scheduler) + "/healthz"
	return p.WaitUntil(ctx, startTimeout, func(ctx context.Context) bool {
		_, ok := httpGet(ctx, selfSignedClient, healthz)
		return ok
	})
}

// selfSignedClient probes the health endpoints of kube-controller-manager and
// kube-scheduler, which serve them on loopback with certificates they sign themselves.
var selfSignedClient = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health probe only
}

// httpGet reports whether url answered 200, with the body.
func httpGet(ctx context.Context, client *http.Client, url string) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", false
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return string(body), resp.StatusCode == http.StatusOK
}
