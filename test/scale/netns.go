package scale

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// netnsEnv marks a process that already runs in the harness's own network namespace.
const netnsEnv = "FLOK_SCALE_NETNS"

// InOwnNetwork re-runs this program in a network namespace of its own, with only
// loopback up, and a mount namespace of its own (for the hosts file), unless it already
// runs there; it returns false in the process that goes on. Kubernetes hands out Pod
// addresses from private ranges that would route off this machine: there, a stray dial
// fails at once and no packet can leave. In the parent it returns true with the child's
// exit code.
func InOwnNetwork() (reexecuted bool, code int, err error) {
	if os.Getenv(netnsEnv) == "1" {
		return false, 0, nil
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return true, 1, fmt.Errorf("the scale harness needs unshare (util-linux): %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return true, 1, err
	}
	cmd := exec.Command("unshare", append([]string{"--net", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return true, exit.ExitCode(), nil
		}
		return true, 1, fmt.Errorf("running in a network namespace of its own (root needed): %w", err)
	}
	return true, 0, nil
}

// loopbackUp brings up the namespace's loopback interface, the only one it has.
func loopbackUp() error {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	return nil
}

// useHosts makes path this mount namespace's /etc/hosts.
func useHosts(path string) error {
	if err := syscall.Mount(path, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s on /etc/hosts: %w", path, err)
	}
	return nil
}
