// Package testproc runs a server a test needs as a child process: its output kept in
// a log shown when the test fails, stopped (interrupted, then killed) when the test
// ends, and waited for until it answers.
package testproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Process is a started server.
type Process struct {
	name   string
	exited chan struct{}
}

// Start starts cmd, logging to name.log in a directory of the test's, until the test
// ends.
func Start(t *testing.T, name string, cmd *exec.Cmd) *Process {
	t.Helper()
	log, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start(), "starting %s", name)
	p := &Process{name: name, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			text, _ := os.ReadFile(log.Name())
			t.Logf("%s log:\n%s", name, text)
		}
		log.Close()
	})
	return p
}

// WaitReady waits up to a minute for ready to say yes, failing the test at once if
// the process exits first.
func (p *Process) WaitReady(t *testing.T, ready func(ctx context.Context) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case <-p.exited:
			return false, fmt.Errorf("%s exited (its log follows)", p.name)
		default:
		}
		return ready(ctx), nil
	})
	require.NoError(t, err, "%s ready", p.name)
}
