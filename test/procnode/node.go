package procnode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/test/hostnet"
	"github.com/flok-dev/flok/test/supervisor"
)

// Options configure a process node.
type Options struct {
	// Name is the Node's name (default "procnode-0").
	Name string
	// Dir holds the Pods' directories (default: a temporary directory removed by Stop).
	Dir string
	// Slot is the cluster's address slot (localk8s.Cluster.Slot): it gives the Pod
	// subnet and the ClusterIP of the "kubernetes" Service.
	Slot *hostnet.Slot
	// APIServerPort is the port of the API server on 127.0.0.1, where the in-Pod
	// "kubernetes" Service leads.
	APIServerPort int
	// OperatorBinary runs Flok's operator image; empty means the image is unavailable.
	OperatorBinary string
	// RestartBackoff is the first delay before a container is restarted; it doubles up
	// to five minutes, as in the kubelet (default 10 s).
	RestartBackoff time.Duration
	// Log receives the node's own messages; nil discards them.
	Log func(format string, args ...any)
}

// Node is a running process node.
type Node struct {
	opts   Options
	client kubernetes.Interface
	cfg    *rest.Config
	net    *podNetwork
	dir    string

	removeDir bool
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	sup            *supervisor.Supervisor
	javaHome       string // the host's JDK, the JAVA_HOME of Flink containers
	entrypointPath string // the stand-in for the Flink image's /docker-entrypoint.sh

	mu      sync.Mutex
	workers map[string]*podWorker // by Pod UID

	imageMu sync.Mutex        // held while an image is pulled
	pulled  map[string]*image // images pulled from registries, by reference
	server  *kubeletServer
	svc     *serviceTable
}

// nodeLeaseDuration is the lease the node renews; the node lifecycle controller marks a
// node NotReady when it lapses.
const nodeLeaseDuration = 40

func (n *Node) logf(format string, args ...any) {
	if n.opts.Log != nil {
		n.opts.Log(format, args...)
	}
}

// Start registers the node, starts serving the kubelet API for logs and begins running
// the Pods bound to it.
func Start(ctx context.Context, cfg *rest.Config, opts Options) (*Node, error) {
	if opts.Name == "" {
		opts.Name = "procnode-0"
	}
	if opts.RestartBackoff == 0 {
		opts.RestartBackoff = 10 * time.Second
	}
	if opts.Slot == nil || opts.APIServerPort == 0 {
		return nil, fmt.Errorf("procnode: Options.Slot and Options.APIServerPort are required")
	}
	if err := checkHost(); err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	n := &Node{opts: opts, client: client, cfg: cfg, dir: opts.Dir, workers: map[string]*podWorker{}, pulled: map[string]*image{}}
	if n.dir == "" {
		if n.dir, err = os.MkdirTemp("", "flok-procnode-"); err != nil {
			return nil, err
		}
		n.removeDir = true
	} else if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return nil, err
	}
	if err := n.start(ctx); err != nil {
		_ = n.Stop()
		return nil, err
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	var err error
	if n.javaHome, err = findJavaHome(); err != nil {
		return err
	}
	if n.entrypointPath, err = writeEntrypoint(n.dir); err != nil {
		return err
	}
	if n.sup, err = supervisor.New(n.dir); err != nil {
		return err
	}
	if n.net, err = newPodNetwork(n.opts.Slot); err != nil {
		return err
	}
	n.logf("procnode: pod network %s on bridge %s; mount, network and UTS namespaces and memory cgroups on",
		n.opts.Slot.PodCIDR(), n.net.bridge)
	if n.server, err = startKubeletServer(n); err != nil {
		return err
	}
	if err := n.register(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	proxy, err := n.net.setupServiceProxy()
	if err != nil {
		cancel()
		return err
	}
	n.svc = newServiceTable(n, proxy)
	n.wg.Add(3)
	go func() { defer n.wg.Done(); n.heartbeat(runCtx) }()
	go func() { defer n.wg.Done(); n.svc.run(runCtx) }()
	go func() { defer n.wg.Done(); n.watchPods(runCtx) }()
	return nil
}

// Stop stops every Pod's processes, removes the namespaces, interfaces and cgroups the
// node made, and deletes the Node object; Pods stay in the API as they are. It reports
// any container process that survived it.
func (n *Node) Stop() error {
	pids := n.PIDs()
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	n.mu.Lock()
	workers := make([]*podWorker, 0, len(n.workers))
	for _, w := range n.workers {
		workers = append(workers, w)
	}
	n.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.shutdown() }()
	}
	wg.Wait()
	if n.sup != nil {
		n.sup.Close()
	}
	if n.svc != nil {
		n.svc.close()
	}
	if n.server != nil {
		n.server.close()
	}
	if n.net != nil {
		n.net.close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = n.client.CoreV1().Nodes().Delete(ctx, n.opts.Name, metav1.DeleteOptions{})
	if n.removeDir {
		_ = os.RemoveAll(n.dir)
	}
	var survivors []int
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			survivors = append(survivors, pid)
		}
	}
	if len(survivors) > 0 {
		return fmt.Errorf("procnode: container processes %v survived the node's stop", survivors)
	}
	return nil
}

// PIDs lists the process ids of every running container.
func (n *Node) PIDs() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	var pids []int
	for _, w := range n.workers {
		pids = append(pids, w.pids()...)
	}
	return pids
}

// findJavaHome locates the JDK that runs Flink, from JAVA_HOME or the java on PATH.
func findJavaHome() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		return home, nil
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("procnode needs a JDK (Java 17 or newer) for Flink: %w", err)
	}
	java, err = filepath.EvalSymlinks(java)
	if err != nil {
		return "", err
	}
	return filepath.Dir(filepath.Dir(java)), nil
}

// PodPIDs lists the process ids of one Pod's running containers.
func (n *Node) PodPIDs(namespace, name string) []int {
	if w := n.workerByName(namespace, name); w != nil {
		return w.pids()
	}
	return nil
}

func (n *Node) podDir(uid string) string { return filepath.Join(n.dir, "pods", uid) }

func (n *Node) nodeObject() *corev1.Node {
	capacity := corev1.ResourceList{
		// The node runs real processes on a small machine but advertises room for the
		// Pods of several Flink clusters: requests are for scheduling, not for sizing.
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	now := metav1.Now()
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: n.opts.Name,
			Labels: map[string]string{
				"kubernetes.io/hostname": n.opts.Name, "kubernetes.io/os": "linux",
				"kubernetes.io/arch": "amd64", "type": "procnode",
			},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
		},
		Spec: corev1.NodeSpec{PodCIDR: n.opts.Slot.PodCIDR(), PodCIDRs: []string{n.opts.Slot.PodCIDR()}},
		Status: corev1.NodeStatus{
			Capacity: capacity, Allocatable: capacity,
			// Only an IP: the API server must not ask a resolver for the node's name.
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(n.server.port)}},
			Conditions:      n.conditions(now),
			NodeInfo: corev1.NodeSystemInfo{
				OperatingSystem: "linux", Architecture: "amd64",
				KubeletVersion: "procnode", ContainerRuntimeVersion: "procnode://local-processes",
			},
		},
	}
}

func (n *Node) conditions(now metav1.Time) []corev1.NodeCondition {
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg,
			LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeReady, corev1.ConditionTrue, "ProcnodeReady", "the process node runs Pods as local processes"),
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "ProcnodeHasSufficientMemory", ""),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "ProcnodeHasNoDiskPressure", ""),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "ProcnodeHasSufficientPID", ""),
	}
}

// register creates the Node, replacing one left by an earlier run of the same name.
func (n *Node) register(ctx context.Context) error {
	nodes := n.client.CoreV1().Nodes()
	_ = nodes.Delete(ctx, n.opts.Name, metav1.DeleteOptions{})
	if _, err := nodes.Create(ctx, n.nodeObject(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("register node %s: %w", n.opts.Name, err)
	}
	// Node status is not taken from a create; write it through the status subresource,
	// on the latest version (the node controllers annotate and taint new nodes).
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, n.opts.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		node.Status = n.nodeObject().Status
		_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

// heartbeat renews the node's Lease every 10 s and its Ready condition every minute.
func (n *Node) heartbeat(ctx context.Context) {
	lastStatus := time.Now()
	ticker := time.NewTicker(10 * time.Second)
	defer ticker.Stop()
	n.renewLease(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			n.renewLease(ctx)
			if time.Since(lastStatus) > time.Minute {
				n.updateNodeStatus(ctx)
				lastStatus = time.Now()
			}
		}
	}
}

func (n *Node) renewLease(ctx context.Context) {
	leases := n.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, n.opts.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.opts.Name},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To(n.opts.Name), LeaseDurationSeconds: ptr.To[int32](nodeLeaseDuration), RenewTime: &now,
			},
		}, metav1.CreateOptions{})
	} else if err == nil {
		lease.Spec.RenewTime = &now
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	}
	if err != nil && ctx.Err() == nil {
		n.logf("procnode: renew lease: %v", err)
	}
}

func (n *Node) updateNodeStatus(ctx context.Context) {
	node, err := n.client.CoreV1().Nodes().Get(ctx, n.opts.Name, metav1.GetOptions{})
	if err != nil {
		return
	}
	node.Status.Conditions = n.conditions(metav1.Now())
	if _, err := n.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
		n.logf("procnode: update node status: %v", err)
	}
}
