package localk8s

import (
	"bytes"
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
)

// stopGrace is how long a component gets to exit after SIGTERM before it is killed.
const stopGrace = 10 * time.Second

// process is one running component and the file that collects its output.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // why it exited; read after done is closed
}

// exited reports whether the process has ended, and why.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// supervisor starts components and stops all of them again.
//
// Every process is started from one goroutine locked to its OS thread, with a
// parent-death signal: if the test binary dies without running Stop (a panic, a test
// timeout, SIGKILL), the kernel kills the components with it. Go would otherwise be free
// to start them from a thread that exits early, which would fire the signal too soon.
type supervisor struct {
	logDir string
	spawn  chan spawnRequest

	mu    sync.Mutex
	procs []*process
}

type spawnRequest struct {
	cmd   *exec.Cmd
	reply chan error
}

func newSupervisor(logDir string) (*supervisor, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	s := &supervisor{logDir: logDir, spawn: make(chan spawnRequest)}
	go s.spawnLoop()
	return s, nil
}

func (s *supervisor) spawnLoop() {
	// Never unlocked: when the loop ends the thread ends with it, which is only after
	// every process was stopped.
	runtime.LockOSThread()
	for req := range s.spawn {
		req.reply <- req.cmd.Start()
	}
}

// start runs a component with its output appended to <logDir>/<name>.log.
func (s *supervisor) start(name, binary string, args ...string) (*process, error) {
	logPath := filepath.Join(s.logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	reply := make(chan error, 1)
	s.spawn <- spawnRequest{cmd: cmd, reply: reply}
	if err := <-reply; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// stopAll stops the components in the reverse order of their start, each with SIGTERM
// and, after stopGrace, SIGKILL to its whole process group.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		stopProcess(procs[i])
	}
}

// close stops everything and ends the spawning thread.
func (s *supervisor) close() {
	s.stopAll()
	close(s.spawn)
}

func stopProcess(p *process) {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	// Whatever the component left in its group goes too.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}

// pids lists the process ids of the running components.
func (s *supervisor) pids() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	pids := make([]int, 0, len(s.procs))
	for _, p := range s.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

// logTails returns the last n lines of every component's log, in start order.
func (s *supervisor) logTails(n int) string {
	entries, err := os.ReadDir(s.logDir)
	if err != nil {
		return fmt.Sprintf("cannot read logs: %v\n", err)
	}
	var b strings.Builder
	for _, e := range entries {
		path := filepath.Join(s.logDir, e.Name())
		fmt.Fprintf(&b, "----- %s (last %d lines) -----\n%s\n", path, n, tailFile(path, n))
	}
	return b.String()
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
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

// errExited explains a component that ended while it should have been starting.
func errExited(p *process) error {
	_, err := p.exited()
	if err == nil {
		err = errors.New("exit status 0")
	}
	return fmt.Errorf("%s exited during start-up (%v); last lines of %s:\n%s", p.name, err, p.logPath, tailFile(p.logPath, 30))
}
