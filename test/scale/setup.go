package scale

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinksim"
	"github.com/flok-dev/flok/test/hostnet"
	"github.com/flok-dev/flok/test/localk8s"
)

func (r *run) setUp(ctx context.Context) error {
	if err := loopbackUp(); err != nil {
		return err
	}
	if r.opts.Dir == "" {
		dir, err := os.MkdirTemp("", "flok-scale-")
		if err != nil {
			return err
		}
		r.opts.Dir = dir
	}
	if r.opts.ProfileDir != "" {
		if err := os.MkdirAll(r.opts.ProfileDir, 0o755); err != nil {
			return err
		}
	}
	r.logf("starting the control plane with a kwok node for %d Pods (files in %s)", r.opts.N+r.opts.Arrivals, r.opts.Dir)
	cluster, err := localk8s.Start(ctx, localk8s.Options{
		CRDs: r.opts.CRDs, Kwok: true, KwokPods: r.opts.N + r.opts.Arrivals + 100, Dir: filepath.Join(r.opts.Dir, "cluster"),
		// Room for a REST Service per deployment; nothing here routes it.
		ServiceCIDR: "10.100.0.0/16",
	})
	if err != nil {
		return err
	}
	r.cluster, r.kube = cluster, cluster.Client
	if r.dyn, err = dynamic.NewForConfig(cluster.Config); err != nil {
		return err
	}
	if err := r.createNamespace(ctx); err != nil {
		return err
	}
	if err := r.startFlink(ctx); err != nil {
		return err
	}
	r.watch = newWatcher()
	if err := r.watch.run(ctx, r.kube, r.dyn, r.opts.Resource, namespace); err != nil {
		return err
	}
	r.operator, err = r.startOperator()
	return err
}

func (r *run) createNamespace(ctx context.Context) error {
	if _, err := r.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "flink", Namespace: namespace}}
	_, err := r.kube.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{})
	return err
}

// startFlink gives every deployment the run will create an address and DNS names,
// and starts the simulator and the stand-in for the JobManagers' processes.
func (r *run) startFlink(ctx context.Context) error {
	r.addrs = flinksim.NewAddresses()
	for _, name := range append(r.names("fd", r.opts.N), r.names("arrival", r.opts.Arrivals)...) {
		r.addrs.Assign(namespace+"/"+name, namespace, render.RESTServiceName(name))
	}
	hosts := filepath.Join(r.opts.Dir, "hosts")
	if err := r.addrs.WriteHosts(hosts); err != nil {
		return err
	}
	if err := useHosts(hosts); err != nil {
		return err
	}
	sim, err := flinksim.New(flinksim.Options{
		Version: r.opts.FlinkVersion, CheckpointInterval: r.opts.CheckpointInterval, SavepointDuration: r.opts.SavepointDuration,
	})
	if err != nil {
		return err
	}
	r.sim = sim
	kubelet := &flinksim.Kubelet{Sim: sim, Client: r.kube, Addresses: r.addrs,
		Errors: func(err error) { r.logf("simulated JobManager: %v", err) }}
	go func() {
		if err := kubelet.Run(ctx); err != nil {
			r.logf("simulated JobManagers stopped: %v", err)
		}
	}()
	return nil
}

func (r *run) names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i+1)
	}
	return out
}

func (r *run) tearDown() error {
	var errs []string
	if r.operator != nil {
		r.operator.stop()
	}
	if r.sim != nil {
		r.sim.StopAll()
	}
	if r.cluster != nil {
		if err := r.cluster.Stop(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("tearing down: %s", strings.Join(errs, "; "))
	}
	return nil
}

// operatorProcess is the operator under measurement.
type operatorProcess struct {
	cmd     *exec.Cmd
	metrics string
	pprof   string
	logPath string
	done    chan struct{}
}

// startOperator starts the operator with its output in Dir/operator-<n>.log.
func (r *run) startOperator() (*operatorProcess, error) {
	ports, err := hostnet.FreePorts(2)
	if err != nil {
		return nil, err
	}
	metrics, pprof := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	args := make([]string, len(r.opts.Operator))
	for i, a := range r.opts.Operator {
		args[i] = strings.NewReplacer("{kubeconfig}", r.cluster.KubeconfigPath, "{metrics}", metrics, "{pprof}", pprof).Replace(a)
	}
	logs, _ := filepath.Glob(filepath.Join(r.opts.Dir, "operator-*.log"))
	logPath := filepath.Join(r.opts.Dir, fmt.Sprintf("operator-%d.log", len(logs)+1))
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "KUBECONFIG="+r.cluster.KubeconfigPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting the operator %v: %w", args, err)
	}
	p := &operatorProcess{cmd: cmd, metrics: "http://" + metrics + "/metrics", pprof: "http://" + pprof + "/debug/pprof/",
		logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	r.logf("operator started (pid %d, log %s)", cmd.Process.Pid, logPath)
	return p, nil
}

// kill ends the operator at once, as a crash or an evicted Pod would.
func (p *operatorProcess) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (p *operatorProcess) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// strayDials counts the operator's log lines about addresses it could not reach
// because they are not on this machine: Pod or Service addresses it should never dial.
func (p *operatorProcess) strayDials() int {
	if p == nil {
		return 0
	}
	logs, _ := filepath.Glob(filepath.Join(filepath.Dir(p.logPath), "operator-*.log"))
	n := 0
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		n += strings.Count(string(data), "network is unreachable")
	}
	return n
}
