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
	raiseOpenFiles()
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

// openFiles is how many files the harness and the processes it starts may hold open:
// with 10,000 simulated clusters the simulator alone listens on 10,000 sockets and
// holds a connection to each from the operator.
const openFiles = 1 << 18

// raiseOpenFiles lifts the open-file limit for this process and its children, as far
// as it may (root may raise the hard limit too); a limit it cannot raise shows later
// as a clear "too many open files".
func raiseOpenFiles() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= openFiles {
		return
	}
	want := syscall.Rlimit{Cur: openFiles, Max: max(lim.Max, openFiles)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}
