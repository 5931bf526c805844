package localk8s

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flok-dev/flok/test/hostnet"
	"github.com/flok-dev/flok/test/supervisor"
)

// Options configure a cluster. The zero value is a control plane without nodes.
type Options struct {
	// CRDs are CustomResourceDefinition manifests — files, or directories whose .yaml,
	// .yml and .json files are read — installed before kube-controller-manager starts.
	// Its garbage collector discovers new resource types only every 30 s, so types
	// installed later collect their dependents late.
	CRDs []string
	// Kwok adds the simulated node KwokNodeName, on which Pods that tolerate
	// KwokToleration become Running at once without running anything.
	Kwok bool
	// ServiceCIDR replaces the slot's Service range (a /24) with a wider one for more
	// than 250 Services; the kubernetes Service gets its first address. Only for a
	// cluster in a network namespace of its own without a process node, which routes
	// the slot's range.
	ServiceCIDR string
	// KwokPods is how many Pods the kwok node takes; 110, the kubelet's default, when 0.
	KwokPods int
	// Dir holds the cluster's files: PKI, kubeconfigs, etcd data and logs. It must not
	// exist or be empty. When empty, a temporary directory is used and removed by Stop.
	Dir string
	// BinDir holds the control-plane binaries; when empty, BinDir() provides it.
	BinDir string
	// Progress receives a line per start-up step; nil discards them.
	Progress io.Writer
	// AddOns start, in order, once the control plane is up — a process node, say. Each
	// returns how to stop it; Stop calls those in reverse order before the control
	// plane goes.
	AddOns []AddOn
}

// AddOn is something that runs against a started cluster and is stopped with it. Its
// stop reports what it could not clean up (a process that outlived it, say).
type AddOn func(ctx context.Context, c *Cluster) (stop func() error, err error)

// Cluster is a running control plane.
type Cluster struct {
	// Dir holds the cluster's files; logs are in Dir/logs.
	Dir string
	// KubeconfigPath is an admin kubeconfig (group system:masters) for kubectl.
	KubeconfigPath string
	// Config is the admin client configuration.
	Config *rest.Config
	// Client is an admin clientset.
	Client kubernetes.Interface
	// BinDir holds the control-plane binaries, kubectl among them.
	BinDir string
	// Slot is the cluster's share of the machine's addresses: its Service range and the
	// Pod subnet of a process node that joins it.
	Slot *hostnet.Slot

	sup       *supervisor.Supervisor
	etcd      *supervisor.Process
	addOnStop []func() error
	pki       *pki
	ports     componentPorts
	progress  io.Writer
	kwokPods  int
	// serviceCIDR and kubernetesIP are the Service range and the kubernetes Service's
	// address: the slot's unless Options.ServiceCIDR says otherwise.
	serviceCIDR, kubernetesIP string
	removeDir                 bool
	stopOnce                  sync.Once
	stopErr                   error
}

// startStep is one component brought up by Start, in order.
type startStep struct {
	name string
	run  func(context.Context) error
}

// componentPorts are the loopback ports of one cluster.
type componentPorts struct {
	etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok int
}

// Start brings up a control plane and returns when it serves requests, its controllers
// and scheduler are healthy, the CRDs are established and — if asked for — the kwok node
// is Ready. On error everything started is stopped again.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := newCluster(opts)
	if err != nil {
		return nil, err
	}
	if err := c.start(ctx, opts); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

func newCluster(opts Options) (*Cluster, error) {
	c := &Cluster{Dir: opts.Dir, BinDir: opts.BinDir, progress: opts.Progress, kwokPods: opts.KwokPods, serviceCIDR: opts.ServiceCIDR}
	if c.progress == nil {
		c.progress = io.Discard
	}
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "flok-localk8s-")
		if err != nil {
			return nil, err
		}
		c.Dir, c.removeDir = dir, true
	} else if entries, err := os.ReadDir(c.Dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("cluster directory %s is not empty; remove it first", c.Dir)
	}
	if c.BinDir == "" {
		dir, err := BinDir()
		if err != nil {
			return nil, err
		}
		c.BinDir = dir
	}
	if _, err := os.Stat(filepath.Join(c.BinDir, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("no control-plane binaries in %s (run hack/k8s-tools.sh): %w", c.BinDir, err)
	}
	sup, err := supervisor.New(filepath.Join(c.Dir, "logs"))
	if err != nil {
		return nil, err
	}
	c.sup = sup
	return c, nil
}

func (c *Cluster) start(ctx context.Context, opts Options) error {
	began := time.Now()
	ports, err := hostnet.FreePorts(6)
	if err != nil {
		return err
	}
	c.ports = componentPorts{ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]}
	if c.Slot, err = hostnet.AcquireSlot(); err != nil {
		return err
	}
	if err := c.chooseServiceRange(); err != nil {
		return err
	}
	if c.pki, err = newPKI(filepath.Join(c.Dir, "pki"), c.kubernetesIP); err != nil {
		return fmt.Errorf("generate PKI: %w", err)
	}
	steps := []startStep{
		{"etcd", c.startEtcd},
		{"kube-apiserver", c.startAPIServer},
		{"CRDs", func(ctx context.Context) error { return c.InstallCRDs(ctx, opts.CRDs...) }},
		{"kube-controller-manager", c.startControllerManager},
		{"kube-scheduler", c.startScheduler},
	}
	if opts.Kwok {
		steps = append(steps, startStep{"kwok", c.startKwok})
	}
	for _, step := range steps {
		stepStart := time.Now()
		if err := step.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
		fmt.Fprintf(c.progress, "localk8s: %s ready in %s\n", step.name, time.Since(stepStart).Round(time.Millisecond))
	}
	for i, addOn := range opts.AddOns {
		stepStart := time.Now()
		stop, err := addOn(ctx, c)
		if err != nil {
			return fmt.Errorf("add-on %d: %w", i+1, err)
		}
		c.addOnStop = append(c.addOnStop, stop)
		fmt.Fprintf(c.progress, "localk8s: add-on %d ready in %s\n", i+1, time.Since(stepStart).Round(time.Millisecond))
	}
	fmt.Fprintf(c.progress, "localk8s: control plane up in %s at %s (kubeconfig %s)\n",
		time.Since(began).Round(time.Millisecond), c.Config.Host, c.KubeconfigPath)
	return nil
}

// Stop stops the add-ons and every process of the cluster and, if Start created the
// directory, removes it. It reports what the add-ons could not clean up, and any
// component process still alive. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		pids := c.sup.PIDs()
		var errs []error
		for i := len(c.addOnStop) - 1; i >= 0; i-- {
			errs = append(errs, c.addOnStop[i]())
		}
		c.sup.Close()
		c.Slot.Release()
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				errs = append(errs, fmt.Errorf("control-plane process %d survived the stop", pid))
			}
		}
		if c.removeDir {
			_ = os.RemoveAll(c.Dir)
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// APIServerPort is the API server's port on 127.0.0.1.
func (c *Cluster) APIServerPort() int { return c.ports.apiserver }

// PIDs lists the process ids of the cluster's running components.
func (c *Cluster) PIDs() []int { return c.sup.PIDs() }

// LogTails returns the last n lines of each component's log.
func (c *Cluster) LogTails(n int) string { return c.sup.LogTails(n) }

// loadClient reads the admin kubeconfig into Config and Client.
func (c *Cluster) loadClient() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.KubeconfigPath)
	if err != nil {
		return err
	}
	// Tests create objects in bursts; the client-side default (5 QPS) would slow them.
	cfg.QPS, cfg.Burst = 200, 400
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c.Config, c.Client = cfg, client
	return nil
}

// Kubectl runs the cluster's kubectl with the admin kubeconfig, stdin as its input,
// and returns its combined output.
func (c *Cluster) Kubectl(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "kubectl"), append([]string{"--kubeconfig", c.KubeconfigPath}, args...)...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("kubectl %v: %w: %s", args, err, out)
	}
	return out, nil
}

// chooseServiceRange settles the Service range: Options.ServiceCIDR or the slot's.
func (c *Cluster) chooseServiceRange() error {
	if c.serviceCIDR == "" {
		c.serviceCIDR, c.kubernetesIP = c.Slot.ServiceCIDR(), c.Slot.KubernetesServiceIP()
		return nil
	}
	prefix, err := netip.ParsePrefix(c.serviceCIDR)
	if err != nil || !prefix.Addr().Is4() {
		return fmt.Errorf("ServiceCIDR %q: want an IPv4 range such as 10.100.0.0/16", c.serviceCIDR)
	}
	c.kubernetesIP = prefix.Masked().Addr().Next().String()
	return nil
}
