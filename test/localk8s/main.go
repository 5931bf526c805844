package localk8s

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// Main runs a test package against a fresh cluster and exits: call it from TestMain. It
// stores the cluster in *cluster before the tests run, prints the components' log tails
// when a test fails, and stops the cluster when the tests end or the run is interrupted.
// A process that survives the stop fails the run.
func Main(m *testing.M, opts Options, cluster **Cluster) {
	os.Exit(Run(m, opts, cluster))
}

// Run is Main without the exit: it returns the exit code, for a TestMain with its own
// cleanup to do after the cluster stopped.
func Run(m *testing.M, opts Options, cluster **Cluster) int {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	startDone := make(chan struct{})
	go func() {
		select {
		case <-signals:
			cancel()
		case <-startDone:
		}
	}()
	if opts.Progress == nil {
		opts.Progress = os.Stderr
	}
	c, err := Start(ctx, opts)
	close(startDone)
	if err != nil {
		fmt.Fprintf(os.Stderr, "localk8s: cannot start the control plane: %v\n", err)
		return 1
	}
	*cluster = c
	testsDone := make(chan struct{})
	defer close(testsDone)
	go stopOnSignal(c, signals, testsDone)

	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "localk8s: tests failed; the control plane's logs end with:\n%s", c.LogTails(20))
	}
	if err := c.Stop(); err != nil {
		// A process that outlives the tests is a failure of the run.
		fmt.Fprintf(os.Stderr, "localk8s: FAIL: %v\n", err)
		return 1
	}
	return code
}

// stopOnSignal stops the cluster and exits when the test binary is interrupted while its
// tests run, so no component outlives an aborted run.
func stopOnSignal(c *Cluster, signals <-chan os.Signal, testsDone <-chan struct{}) {
	select {
	case sig := <-signals:
		fmt.Fprintf(os.Stderr, "localk8s: %v: stopping the control plane\n", sig)
		_ = c.Stop()
		os.Exit(130)
	case <-testsDone:
	}
}
