package hostnet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// MaxSlots is how many clusters can run on one machine at once.
const MaxSlots = 64

// SlotLockDir holds one lock file per slot. The kernel releases a lock when its holder
// dies, so a crashed test never leaks its slot.
var SlotLockDir = filepath.Join(os.TempDir(), "flok-slots")

// Slot is a share of the machine's address plan held by one running cluster. Its index
// is held by no other live cluster, so clusters of parallel test packages get disjoint
// Service ranges, Pod subnets and interface names.
type Slot struct {
	Index int
	lock  *os.File
}

// AcquireSlot takes the lowest free slot.
func AcquireSlot() (*Slot, error) {
	if err := os.MkdirAll(SlotLockDir, 0o777); err != nil {
		return nil, err
	}
	for i := range MaxSlots {
		f, err := os.OpenFile(filepath.Join(SlotLockDir, fmt.Sprintf("slot-%d.lock", i)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return nil, err
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &Slot{Index: i, lock: f}, nil
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("all %d cluster slots are in use: too many local clusters run at once", MaxSlots)
}

// Release gives the slot back.
func (s *Slot) Release() {
	if s != nil && s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// ServiceCIDR is the cluster's Service range, 10.96.<index>.0/24.
func (s *Slot) ServiceCIDR() string { return fmt.Sprintf("10.96.%d.0/24", s.Index) }

// KubernetesServiceIP is the first address of the Service range, the ClusterIP of the
// "kubernetes" Service.
func (s *Slot) KubernetesServiceIP() string { return fmt.Sprintf("10.96.%d.1", s.Index) }

// nodePortsPerSlot is how many NodePorts each cluster has: 64 slots share the 2,768
// ports Kubernetes allows (30000-32767).
const nodePortsPerSlot = 40

// NodePortRange is the cluster's share of the NodePort range, so that the NodePorts
// of clusters running at once, which all listen on the node's 127.0.0.1, never clash.
func (s *Slot) NodePortRange() string {
	first := 30000 + s.Index*nodePortsPerSlot
	return fmt.Sprintf("%d-%d", first, first+nodePortsPerSlot-1)
}

// LoadBalancerIP is where the cluster's process node serves LoadBalancer Services,
// 127.1.<index>.1: a loopback address of the cluster's own.
func (s *Slot) LoadBalancerIP() string { return fmt.Sprintf("127.1.%d.1", s.Index) }

// PodCIDR is the subnet of the Pods of the cluster's process node, 10.245.<index>.0/24.
// Its first address is the node's side of the Pod network.
func (s *Slot) PodCIDR() string { return fmt.Sprintf("10.245.%d.0/24", s.Index) }

// PodGateway is the node's address on the Pod network.
func (s *Slot) PodGateway() string { return fmt.Sprintf("10.245.%d.1", s.Index) }
