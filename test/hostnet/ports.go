// Package hostnet hands out this machine's network resources to Flok's test clusters:
// free loopback ports, and slots: disjoint address ranges for clusters that run at once.
package hostnet

import (
	"fmt"
	"net"
)

// FreePorts reserves n distinct free TCP ports on 127.0.0.1. The ports are released
// before they are returned, so another process may take one in between; the program
// that then fails to bind says so in its log.
func FreePorts(n int) ([]int, error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("reserve a free port on 127.0.0.1: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
