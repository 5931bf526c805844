// Package supervisor runs the local processes of Flok's test infrastructure — control
// plane components, Flink JVMs, Pod containers — and guarantees that none outlives its
// owner.
//
// Every process is started from one goroutine locked to its OS thread, in a process
// group of its own, with a parent-death signal: if the owning program dies without
// stopping them (a panic, a test timeout, SIGKILL), the kernel kills them with it. Go
// would otherwise be free to start them from a thread that exits early, which would fire
// the signal too soon.
package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// DefaultGrace is how long a process gets to exit after SIGTERM before it is killed.
const DefaultGrace = 10 * time.Second

// Process is one running program and the file that collects its output.
type Process struct {
	// Name identifies the process in messages; its log is <logDir>/<Name>.log.
	Name string
	// LogPath is the file with the process's standard output and error.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // why it exited; read after done is closed
}

// Pid is the process id, which is also the id of its process group.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended and, if so, how (nil for exit status 0).
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// ExitCode is the process's exit code once it has exited, or -1 if a signal ended it.
func (p *Process) ExitCode() int { return p.cmd.ProcessState.ExitCode() }

// ProcessState describes the exited process; nil while it runs.
func (p *Process) ProcessState() *os.ProcessState {
	select {
	case <-p.done:
		return p.cmd.ProcessState
	default:
		return nil
	}
}

// Signal sends sig to the process's whole group.
func (p *Process) Signal(sig syscall.Signal) error { return syscall.Kill(-p.Pid(), sig) }

// Stop sends SIGTERM to the process group, SIGKILL after grace, and waits for the exit.
// Whatever the process left in its group is killed as well.
func (p *Process) Stop(grace time.Duration) {
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.Signal(syscall.SIGKILL)
		<-p.done
	}
	_ = p.Signal(syscall.SIGKILL)
}

// Supervisor starts processes and stops all of them again.
type Supervisor struct {
	logDir string
	spawn  chan spawnRequest

	mu     sync.Mutex
	procs  []*Process
	closed bool
}

type spawnRequest struct {
	cmd   *exec.Cmd
	reply chan error
}

// New returns a supervisor that writes process logs into logDir.
func New(logDir string) (*Supervisor, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	s := &Supervisor{logDir: logDir, spawn: make(chan spawnRequest)}
	go s.spawnLoop()
	return s, nil
}

func (s *Supervisor) spawnLoop() {
	// Never unlocked: when the loop ends the thread ends with it, which happens only
	// after every process was stopped.
	runtime.LockOSThread()
	for req := range s.spawn {
		req.reply <- req.cmd.Start()
	}
}

// Command starts binary with args; see Start.
func (s *Supervisor) Command(name, binary string, args ...string) (*Process, error) {
	return s.Start(name, exec.Command(binary, args...))
}

// Start runs cmd with its output appended to <logDir>/<name>.log (name may contain
// slashes, for a tree of logs). Its Stdout, Stderr and
// process-group settings are set here; Env, Dir and the other fields are the caller's.
func (s *Supervisor) Start(name string, cmd *exec.Cmd) (*Process, error) {
	logPath := filepath.Join(s.logDir, name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("start %s: supervisor is closed", name)
	}
	reply := make(chan error, 1)
	s.spawn <- spawnRequest{cmd: cmd, reply: reply}
	if err := <-reply; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.procs = append(s.procs, p)
	return p, nil
}

// StopAll stops the processes in the reverse order of their start.
func (s *Supervisor) StopAll() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop(DefaultGrace)
	}
}

// Close stops everything and ends the spawning thread; later starts fail.
func (s *Supervisor) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.StopAll()
	close(s.spawn)
}

// Forget drops an exited process from the list that StopAll works through.
func (s *Supervisor) Forget(p *Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.procs {
		if q == p {
			s.procs = append(s.procs[:i], s.procs[i+1:]...)
			return
		}
	}
}

// PIDs lists the process ids of the processes started and not yet stopped.
func (s *Supervisor) PIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	pids := make([]int, 0, len(s.procs))
	for _, p := range s.procs {
		pids = append(pids, p.Pid())
	}
	return pids
}

// LogTails returns the last n lines of every log in the log directory.
func (s *Supervisor) LogTails(n int) string {
	entries, err := os.ReadDir(s.logDir)
	if err != nil {
		return fmt.Sprintf("cannot read logs: %v\n", err)
	}
	var b strings.Builder
	for _, e := range entries {
		path := filepath.Join(s.logDir, e.Name())
		fmt.Fprintf(&b, "----- %s (last %d lines) -----\n%s\n", path, n, TailFile(path, n))
	}
	return b.String()
}

// TailFile returns the last n lines of a file.
func TailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// ErrExited explains a process that ended while it should have been starting.
func ErrExited(p *Process) error {
	_, err := p.Exited()
	if err == nil {
		err = errors.New("exit status 0")
	}
	return fmt.Errorf("%s exited during start-up (%v); last lines of %s:\n%s", p.Name, err, p.LogPath, TailFile(p.LogPath, 30))
}

// WaitUntil polls healthy every 100 ms until it holds, the process exits or timeout
// passes. Both failures carry the end of the process's log.
func (p *Process) WaitUntil(ctx context.Context, timeout time.Duration, healthy func(context.Context) bool) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true,
		func(ctx context.Context) (bool, error) {
			if done, _ := p.Exited(); done {
				return false, ErrExited(p)
			}
			return healthy(ctx), nil
		})
	if err != nil && wait.Interrupted(err) && ctx.Err() == nil {
		return fmt.Errorf("%s not ready after %s; last lines of %s:\n%s", p.Name, timeout, p.LogPath, TailFile(p.LogPath, 30))
	}
	return err
}
