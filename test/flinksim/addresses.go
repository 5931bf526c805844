package flinksim

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// Addresses gives each simulated cluster an address of its own on loopback
// (127.0.0.0/8 has room for millions) and writes the hosts file that maps every name a
// client may use for a cluster's REST Service to it.
type Addresses struct {
	mu     sync.Mutex
	byKey  map[string]string
	names  map[string][]string
	served int
}

// NewAddresses returns an empty address book.
func NewAddresses() *Addresses {
	return &Addresses{byKey: map[string]string{}, names: map[string][]string{}}
}

// Assign gives cluster key (namespace/name) an address, once, and records the DNS
// names of its REST Service in namespace.
func (a *Addresses) Assign(key, namespace, service string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if addr, ok := a.byKey[key]; ok {
		return addr
	}
	a.served++
	// 127.10.0.1 onwards, skipping the .0 and .255 host numbers.
	n := a.served - 1
	host := n%254 + 1
	n /= 254
	addr := fmt.Sprintf("127.%d.%d.%d", 10+n/256, n%256, host)
	a.byKey[key] = addr
	a.names[addr] = []string{service + "." + namespace + ".svc.cluster.local", service + "." + namespace + ".svc", service + "." + namespace, service}
	return addr
}

// Lookup returns the address of cluster key, or "".
func (a *Addresses) Lookup(key string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byKey[key]
}

// WriteHosts writes a hosts file with localhost and every assigned cluster. A
// Service's bare name resolves to the first namespace's cluster of that name.
func (a *Addresses) WriteHosts(path string) error {
	a.mu.Lock()
	addrs := make([]string, 0, len(a.names))
	for addr := range a.names {
		addrs = append(addrs, addr)
	}
	sort.Strings(addrs)
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, addr := range addrs {
		fmt.Fprintf(&b, "%s\t%s\n", addr, strings.Join(a.names[addr], " "))
	}
	a.mu.Unlock()
	return os.WriteFile(path, b.Bytes(), 0o644)
}
