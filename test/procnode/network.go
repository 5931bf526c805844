package procnode

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/flok-dev/flok/test/hostnet"
)

// podNetwork is the node's Pod network: a bridge holding the slot's gateway address,
// with one veth pair per Pod into the Pod's network namespace. The host does not
// forward between interfaces, so Pods reach nothing outside the bridge; the node's
// in-namespace Service listeners give them the API server and the cluster's Services.
type podNetwork struct {
	slot   *hostnet.Slot
	bridge string
	prefix netip.Prefix

	mu   sync.Mutex
	used map[netip.Addr]bool
	// last is the address handed out last: the next one is looked for after it, as
	// host-local IPAM does, so that a new Pod does not take the address of one just
	// gone (a peer's route or a partition naming it would then hit the newcomer).
	last netip.Addr

	// host is the namespace the node's hostNetwork Pods share, made with the first.
	hostOnce sync.Once
	host     *podNet
	hostErr  error
}

// podNet is one Pod's network namespace.
type podNet struct {
	name   string // network namespace name, also under /run/netns
	ip     netip.Addr
	hostIf string
}

// path is the namespace's file, for nsenter and setns.
func (p *podNet) path() string { return filepath.Join("/run/netns", p.name) }

func newPodNetwork(slot *hostnet.Slot) (*podNetwork, error) {
	prefix, err := netip.ParsePrefix(slot.PodCIDR())
	if err != nil {
		return nil, err
	}
	pn := &podNetwork{slot: slot, bridge: fmt.Sprintf("flokbr%d", slot.Index), prefix: prefix, used: map[netip.Addr]bool{}}
	// The slot is ours alone, so anything left under its names is a crashed run's.
	pn.removeLeftovers()
	gateway := slot.PodGateway()
	for _, args := range [][]string{
		{"link", "add", pn.bridge, "type", "bridge"},
		{"addr", "add", gateway + "/" + fmt.Sprint(prefix.Bits()), "dev", pn.bridge},
		{"link", "set", pn.bridge, "up"},
	} {
		if err := ip(args...); err != nil {
			pn.close()
			return nil, err
		}
	}
	return pn, nil
}

func (pn *podNetwork) nsPrefix() string { return fmt.Sprintf("flok%d-", pn.slot.Index) }

// hostIfPrefix starts the names of the host ends of the slot's veth pairs.
func (pn *podNetwork) hostIfPrefix() string { return fmt.Sprintf("fk%dh", pn.slot.Index) }

// removeLeftovers clears the slot's names. A run killed hard can leave processes in its
// Pod namespaces, which keep a namespace — and its veth pair — alive after `ip netns
// del`; so those processes are killed and the host ends of the pairs deleted by name.
func (pn *podNetwork) removeLeftovers() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), pn.nsPrefix()) {
			killNamespaceProcesses(e.Name())
			_ = exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
	links, _ := os.ReadDir("/sys/class/net")
	for _, l := range links {
		if strings.HasPrefix(l.Name(), pn.hostIfPrefix()) {
			_ = exec.Command("ip", "link", "del", l.Name()).Run()
		}
	}
	_ = exec.Command("ip", "link", "del", pn.bridge).Run()
}

// killNamespaceProcesses kills what still runs in a network namespace.
func killNamespaceProcesses(name string) {
	out, _ := exec.Command("ip", "netns", "pids", name).Output()
	for _, pid := range strings.Fields(string(out)) {
		_ = exec.Command("kill", "-9", pid).Run()
	}
}

// close removes the bridge and any Pod namespace still there.
func (pn *podNetwork) close() { pn.removeLeftovers() }

// setup creates a Pod's namespace with an address on the bridge, a default route via
// the node and a route for the Service range to the service proxy.
func (pn *podNetwork) setup(podUID string) (*podNet, error) {
	addr, err := pn.allocate()
	if err != nil {
		return nil, err
	}
	name := pn.nsPrefix() + strings.ReplaceAll(podUID, "-", "")[:12]
	return pn.create(name, addr, []string{"route", "add", pn.slot.ServiceCIDR(), "via", proxyIP(pn.slot).String()})
}

// setupHostNetwork returns the namespace the node's hostNetwork Pods share — their
// "host network": one address on the bridge (the Pod subnet's .253), routes like a
// Pod's, kept for the node's life. A real node's host network is the machine's own;
// here the machine's must stay untouched (processes listen on loopback only), so the
// node gets one of its own, in which Flink's processes meet the port clashes and
// shared addresses host networking means.
func (pn *podNetwork) setupHostNetwork() (*podNet, error) {
	pn.hostOnce.Do(func() {
		a := pn.prefix.Addr().As4()
		a[3] = 253
		addr := netip.AddrFrom4(a)
		pn.mu.Lock()
		pn.used[addr] = true
		pn.mu.Unlock()
		pn.host, pn.hostErr = pn.create(pn.nsPrefix()+"host", addr, []string{"route", "add", pn.slot.ServiceCIDR(), "via", proxyIP(pn.slot).String()})
	})
	return pn.host, pn.hostErr
}

// setupServiceProxy creates the namespace that owns every ClusterIP: the whole Service
// range is local there, so the node's listeners can bind any ClusterIP:port, and Pods
// route the range to it — as on a real node, a ClusterIP is never a Pod's own address.
func (pn *podNetwork) setupServiceProxy() (*podNet, error) {
	return pn.create(pn.nsPrefix()+"services", proxyIP(pn.slot), []string{"addr", "add", pn.slot.ServiceCIDR(), "dev", "lo"})
}

// proxyIP is the service proxy's address: the last host address of the Pod subnet.
func proxyIP(slot *hostnet.Slot) netip.Addr {
	prefix := netip.MustParsePrefix(slot.PodCIDR())
	a := prefix.Addr().As4()
	a[3] = 254
	return netip.AddrFrom4(a)
}

// create makes a namespace with addr on a veth pair into the bridge, lo up, a default
// route via the node, and one more `ip` step inside it.
func (pn *podNetwork) create(name string, addr netip.Addr, extra []string) (*podNet, error) {
	p := &podNet{name: name, ip: addr, hostIf: fmt.Sprintf("%s%d", pn.hostIfPrefix(), addr.As4()[3])}
	bits := fmt.Sprint(pn.prefix.Bits())
	steps := [][]string{
		{"netns", "add", p.name},
		{"link", "add", p.hostIf, "type", "veth", "peer", "name", "eth0", "netns", p.name},
		{"link", "set", p.hostIf, "master", pn.bridge, "up"},
		{"-n", p.name, "addr", "add", addr.String() + "/" + bits, "dev", "eth0"},
		{"-n", p.name, "link", "set", "eth0", "up"},
		{"-n", p.name, "link", "set", "lo", "up"},
		{"-n", p.name, "route", "add", "default", "via", pn.slot.PodGateway()},
		append([]string{"-n", p.name}, extra...),
	}
	for _, args := range steps {
		if err := ip(args...); err != nil {
			pn.teardown(p)
			return nil, err
		}
	}
	return p, nil
}

// teardown deletes a Pod's namespace (its veth pair goes with it) and frees its
// address; the host network stays for the node's other hostNetwork Pods.
func (pn *podNetwork) teardown(p *podNet) {
	if p == pn.host {
		return
	}
	_ = exec.Command("ip", "netns", "del", p.name).Run()
	_ = exec.Command("ip", "link", "del", p.hostIf).Run()
	pn.mu.Lock()
	delete(pn.used, p.ip)
	pn.mu.Unlock()
}

func (pn *podNetwork) allocate() (netip.Addr, error) {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	first := netip.MustParseAddr(pn.slot.PodGateway()).Next()
	inRange := func(a netip.Addr) bool { return a.IsValid() && pn.prefix.Contains(a) && a.As4()[3] < 254 }
	a := pn.last
	for range 256 {
		if a = a.Next(); !inRange(a) || a.Less(first) {
			a = first
		}
		if !pn.used[a] {
			pn.used[a], pn.last = true, a
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address left in %s", pn.prefix)
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// hostTool is the absolute path of one of the node's tools (checkHost found them all).
func hostTool(name string) string {
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	return name
}

// checkHost tells which of the process node's needs this machine does not meet.
func checkHost() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("procnode needs root (network and mount namespaces, cgroups); run the tests as root")
	}
	for _, tool := range []string{"ip", "nsenter", "unshare", "mount", "bash", "envsubst"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("procnode needs %q on PATH (Debian: apt-get install iproute2 util-linux mount bash gettext-base)", tool)
		}
	}
	if _, err := os.Stat(memoryCgroupRoot); err != nil {
		return fmt.Errorf("procnode needs the cgroup v1 memory controller at %s: %w", memoryCgroupRoot, err)
	}
	return nil
}
