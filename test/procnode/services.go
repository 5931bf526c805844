package procnode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// serviceTable makes Services work inside the Pods: it writes each Pod's hosts file
// (Service and Pod names) and keeps, in the node's service-proxy namespace to which
// Pods route the Service range, one TCP listener per ClusterIP and port that forwards
// to a ready endpoint — the jobs of cluster DNS and kube-proxy on a real node. The
// "kubernetes" Service leads to the API server on the node's loopback.
type serviceTable struct {
	node     *Node
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	synced   []cache.InformerSynced
	factory  informers.SharedInformerFactory
	kick     chan struct{}

	proxy *podNet // the namespace that owns the ClusterIPs

	mu        sync.Mutex
	pods      map[*podWorker]bool
	listeners map[string]*serviceListener // by "ip:port"
}

// serviceListener is one ClusterIP:port inside one Pod.
type serviceListener struct {
	l        net.Listener
	mu       sync.Mutex
	backends []string
	next     int
}

func newServiceTable(n *Node, proxy *podNet) *serviceTable {
	factory := informers.NewSharedInformerFactory(n.client, 0)
	t := &serviceTable{
		node: n, factory: factory, kick: make(chan struct{}, 1), proxy: proxy,
		services:  factory.Core().V1().Services().Lister(),
		slices:    factory.Discovery().V1().EndpointSlices().Lister(),
		pods:      map[*podWorker]bool{},
		listeners: map[string]*serviceListener{},
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { t.changed() },
		UpdateFunc: func(any, any) { t.changed() },
		DeleteFunc: func(any) { t.changed() },
	}
	for _, inf := range []cache.SharedIndexInformer{
		factory.Core().V1().Services().Informer(), factory.Discovery().V1().EndpointSlices().Informer(),
	} {
		_, _ = inf.AddEventHandler(handler)
		t.synced = append(t.synced, inf.HasSynced)
	}
	return t
}

func (t *serviceTable) changed() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

func (t *serviceTable) run(ctx context.Context) {
	t.factory.Start(ctx.Done())
	defer t.factory.Shutdown()
	cache.WaitForCacheSync(ctx.Done(), t.synced...)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.kick:
		}
		time.Sleep(50 * time.Millisecond) // one sync for a burst of changes
		t.syncAll()
	}
}

// addPod gives a new Pod its hosts file, once the node knows the cluster's Services
// (at most a minute after the node started).
func (t *serviceTable) addPod(w *podWorker) {
	ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
	cache.WaitForCacheSync(ctx.Done(), t.synced...)
	cancel()
	if err := w.writeResolvConf(); err != nil {
		t.node.logf("procnode: resolv.conf of %s/%s: %v", w.namespace, w.name, err)
	}
	t.mu.Lock()
	t.pods[w] = true
	t.mu.Unlock()
	t.syncListeners()
	t.syncHosts(w)
}

func (t *serviceTable) removePod(w *podWorker) {
	t.mu.Lock()
	delete(t.pods, w)
	t.mu.Unlock()
}

// close ends every listener.
func (t *serviceTable) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for addr, l := range t.listeners {
		l.l.Close()
		delete(t.listeners, addr)
	}
}

func (t *serviceTable) syncAll() {
	t.syncListeners()
	t.mu.Lock()
	pods := make([]*podWorker, 0, len(t.pods))
	for w := range t.pods {
		pods = append(pods, w)
	}
	t.mu.Unlock()
	for _, w := range pods {
		t.syncHosts(w)
	}
}

// virtualService is a ClusterIP:port — or, on the node itself, a NodePort or a
// LoadBalancer's address:port — and where it leads.
type virtualService struct {
	addr     string
	backends []string
	onNode   bool
	// loadBalanced is the LoadBalancer Service this address serves, whose status
	// names the address once it listens.
	loadBalanced *corev1.Service
}

func (t *serviceTable) syncHosts(w *podWorker) {
	pod := w.snapshot()
	hosts, _ := t.desired(pod.Namespace)
	if err := w.writeHosts(hosts); err != nil {
		t.node.logf("procnode: hosts file of %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

// syncListeners opens a listener for each new ClusterIP:port, updates the backends of
// the others and closes those of Services that went.
func (t *serviceTable) syncListeners() {
	_, vservices := t.desired("")
	t.mu.Lock()
	defer t.mu.Unlock()
	want := map[string]bool{}
	for _, vs := range vservices {
		want[vs.addr] = true
		l := t.listeners[vs.addr]
		if l == nil {
			var err error
			if l, err = t.listen(vs); err != nil {
				t.node.logf("procnode: service %s: %v", vs.addr, err)
				continue
			}
			t.listeners[vs.addr] = l
		}
		if vs.loadBalanced != nil {
			go t.publishLoadBalancer(vs.loadBalanced)
		}
		l.mu.Lock()
		l.backends = vs.backends
		l.mu.Unlock()
	}
	for addr, l := range t.listeners {
		if !want[addr] {
			l.l.Close()
			delete(t.listeners, addr)
		}
	}
}

// desired lists the hosts entries a Pod in namespace ns sees and every ClusterIP:port.
func (t *serviceTable) desired(ns string) ([]string, []virtualService) {
	var hosts []string
	var vservices []virtualService
	services, _ := t.services.List(labels.Everything())
	for _, svc := range services {
		names := serviceNames(svc, ns)
		endpoints := t.readyEndpoints(svc)
		if svc.Spec.ClusterIP == corev1.ClusterIPNone {
			for _, ep := range endpoints {
				hosts = append(hosts, ep.ip+" "+names)
				if ep.hostname != "" {
					hosts = append(hosts, fmt.Sprintf("%s %s.%s.%s.svc.cluster.local %[2]s.%[3]s.%[4]s.svc %[2]s.%[3]s.%[4]s",
						ep.ip, ep.hostname, svc.Name, svc.Namespace))
				}
			}
			continue
		}
		if svc.Spec.ClusterIP == "" {
			continue
		}
		hosts = append(hosts, svc.Spec.ClusterIP+" "+names)
		for _, sp := range svc.Spec.Ports {
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				continue
			}
			vs := virtualService{addr: net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(sp.Port)))}
			if svc.Namespace == corev1.NamespaceDefault && svc.Name == "kubernetes" {
				vs.backends = []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(t.node.opts.APIServerPort))}
			}
			for _, ep := range endpoints {
				if port, ok := ep.ports[sp.Name]; ok {
					vs.backends = append(vs.backends, net.JoinHostPort(ep.ip, strconv.Itoa(port)))
				}
			}
			vservices = append(vservices, vs)
			vservices = append(vservices, t.onNode(svc, sp, vs.backends)...)
		}
	}
	slices.Sort(hosts)
	return hosts, vservices
}

// onNode are the node's own addresses of a Service port, as kube-proxy and a
// node-local load balancer (k3s's ServiceLB) serve them: the NodePort on the node's IP
// and, for a LoadBalancer Service, the port on the cluster's load-balancer address.
func (t *serviceTable) onNode(svc *corev1.Service, sp corev1.ServicePort, backends []string) []virtualService {
	var out []virtualService
	if sp.NodePort != 0 {
		out = append(out, virtualService{addr: net.JoinHostPort(nodeIP, strconv.Itoa(int(sp.NodePort))), backends: backends, onNode: true})
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		out = append(out, virtualService{addr: net.JoinHostPort(t.node.opts.Slot.LoadBalancerIP(), strconv.Itoa(int(sp.Port))),
			backends: backends, onNode: true, loadBalanced: svc})
	}
	return out
}

// publishLoadBalancer names the cluster's load-balancer address in the status of svc,
// as a cloud's controller does once the load balancer serves it. A port another
// LoadBalancer Service holds leaves the later one pending, its status empty.
func (t *serviceTable) publishLoadBalancer(svc *corev1.Service) {
	ip := t.node.opts.Slot.LoadBalancerIP()
	if slices.ContainsFunc(svc.Status.LoadBalancer.Ingress, func(i corev1.LoadBalancerIngress) bool { return i.IP == ip }) {
		return
	}
	published := svc.DeepCopy()
	published.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip, IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := t.node.client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, published, metav1.UpdateOptions{}); err != nil {
		t.node.logf("procnode: load balancer of service %s/%s: %v", svc.Namespace, svc.Name, err)
	}
}

// serviceNames are the names under which a Pod in namespace ns finds svc.
func serviceNames(svc *corev1.Service, ns string) string {
	names := fmt.Sprintf("%s.%s.svc.cluster.local %[1]s.%[2]s.svc %[1]s.%[2]s", svc.Name, svc.Namespace)
	if svc.Namespace == ns {
		names += " " + svc.Name
	}
	return names
}

type endpoint struct {
	ip, hostname string
	ports        map[string]int // by Service port name
}

func (t *serviceTable) readyEndpoints(svc *corev1.Service) []endpoint {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	list, _ := t.slices.EndpointSlices(svc.Namespace).List(sel)
	var out []endpoint
	for _, slice := range list {
		ports := map[string]int{}
		for _, p := range slice.Ports {
			if p.Port != nil {
				name := ""
				if p.Name != nil {
					name = *p.Name
				}
				ports[name] = int(*p.Port)
			}
		}
		for _, ep := range slice.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, addr := range ep.Addresses {
				e := endpoint{ip: addr, ports: ports}
				if ep.Hostname != nil {
					e.hostname = *ep.Hostname
				}
				out = append(out, e)
			}
		}
	}
	return out
}

// listen opens the address of vs — inside the service-proxy namespace, or on the node
// — and forwards what it accepts.
func (t *serviceTable) listen(vs virtualService) (*serviceListener, error) {
	var l net.Listener
	var err error
	if vs.onNode {
		l, err = net.Listen("tcp", vs.addr)
	} else {
		l, err = listenInNamespace(t.proxy.path(), vs.addr)
	}
	if err != nil {
		return nil, err
	}
	sl := &serviceListener{l: l}
	go sl.serve()
	return sl, nil
}

// listenInNamespace opens a TCP listener inside a network namespace. The socket stays
// there; the thread that entered the namespace ends with its goroutine, because it is
// never unlocked.
func listenInNamespace(nsPath, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("enter %s: %w", nsPath, err)}
			return
		}
		l, err := net.Listen("tcp", addr)
		ch <- result{l, err}
	}()
	r := <-ch
	return r.l, r.err
}

func (sl *serviceListener) serve() {
	for {
		conn, err := sl.l.Accept()
		if err != nil {
			return
		}
		go sl.forward(conn)
	}
}

// forward connects a client to the first backend that answers, round robin; with none,
// the client is closed, as a Service without endpoints rejects.
func (sl *serviceListener) forward(client net.Conn) {
	defer client.Close()
	sl.mu.Lock()
	backends := slices.Clone(sl.backends)
	start := sl.next
	sl.next++
	sl.mu.Unlock()
	for i := range backends {
		backend, err := net.DialTimeout("tcp", backends[(start+i)%len(backends)], 3*time.Second)
		if err != nil {
			continue
		}
		defer backend.Close()
		done := make(chan struct{}, 2)
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			if tcp, ok := dst.(*net.TCPConn); ok {
				_ = tcp.CloseWrite()
			}
			done <- struct{}{}
		}
		go pipe(backend, client)
		go pipe(client, backend)
		<-done
		<-done
		return
	}
}

// serviceEnv is the kubelet's Service environment for a Pod in ns: the API server's
// variables and, for each Service of the namespace, <NAME>_SERVICE_HOST/_PORT.
func (t *serviceTable) serviceEnv(ns string) [][2]string {
	apiIP := t.node.opts.Slot.KubernetesServiceIP()
	env := [][2]string{
		{"KUBERNETES_SERVICE_HOST", apiIP}, {"KUBERNETES_SERVICE_PORT", "443"},
		{"KUBERNETES_SERVICE_PORT_HTTPS", "443"}, {"KUBERNETES_PORT", "tcp://" + apiIP + ":443"},
		{"KUBERNETES_PORT_443_TCP", "tcp://" + apiIP + ":443"}, {"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
		{"KUBERNETES_PORT_443_TCP_PORT", "443"}, {"KUBERNETES_PORT_443_TCP_ADDR", apiIP},
	}
	services, _ := t.services.Services(ns).List(labels.Everything())
	for _, svc := range services {
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone || len(svc.Spec.Ports) == 0 {
			continue
		}
		prefix := strings.ToUpper(strings.ReplaceAll(svc.Name, "-", "_"))
		env = append(env, [2]string{prefix + "_SERVICE_HOST", svc.Spec.ClusterIP},
			[2]string{prefix + "_SERVICE_PORT", strconv.Itoa(int(svc.Spec.Ports[0].Port))})
	}
	return env
}

// resolvConfPath is the Pod's /etc/resolv.conf on the node.
func (w *podWorker) resolvConfPath() string { return filepath.Join(w.dir, "resolv.conf") }

// writeResolvConf gives the Pod the kubelet's search path and a name server that
// answers at once (nothing listens on the Pod's own loopback, so a query is refused):
// names resolve from the hosts file, and a lookup the cluster cannot answer — Flink's
// reverse lookups of TaskManager addresses, say — fails fast instead of waiting on a
// resolver the Pod cannot reach.
func (w *podWorker) writeResolvConf() error {
	conf := fmt.Sprintf("search %s.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5 timeout:1 attempts:1\n", w.namespace)
	return os.WriteFile(w.resolvConfPath(), []byte(conf), 0o644)
}

// hostsPath is the Pod's /etc/hosts on the node.
func (w *podWorker) hostsPath() string { return filepath.Join(w.dir, "etc-hosts") }

// writeHosts rewrites the Pod's hosts file in place: containers see it through a bind
// mount of this very file, which a rename would break. It writes only a change, over
// the old content and then cuts what is left of it: the first lines — localhost and
// the Pod's own name, which never change — are there at every moment, where a
// truncation first would let a process resolving its own name meanwhile find nothing
// (Flink's JobManager then failed to submit its job).
func (w *podWorker) writeHosts(entries []string) error {
	pod := w.snapshot()
	ip := w.podIP()
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file (procnode).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	host := podHostname(pod)
	if pod.Spec.Subdomain != "" {
		fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.cluster.local\t%[2]s\n", ip, host, pod.Spec.Subdomain, pod.Namespace)
	} else {
		fmt.Fprintf(&b, "%s\t%s\n", ip, host)
	}
	for _, h := range pod.Spec.HostAliases {
		fmt.Fprintf(&b, "%s\t%s\n", h.IP, strings.Join(h.Hostnames, "\t"))
	}
	for _, e := range entries {
		b.WriteString(e + "\n")
	}
	content := []byte(b.String())
	if old, err := os.ReadFile(w.hostsPath()); err == nil && bytes.Equal(old, content) {
		return nil
	}
	f, err := os.OpenFile(w.hostsPath(), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(content, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(int64(len(content))); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
