package procnode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/test/supervisor"
)

// maxRestartBackoff caps the delay between restarts, as in the kubelet.
const maxRestartBackoff = 5 * time.Minute

// containerRunner runs one container of a Pod, restarting it as the Pod's
// restartPolicy says, and keeps the state the Pod status reports.
type containerRunner struct {
	w    *podWorker
	spec corev1.Container
	img  *image
	init bool
	dir  string // <podDir>/containers/<name>

	loopDone chan struct{} // closed when the run loop has ended; nil before it starts

	mu        sync.Mutex
	proc      *supervisor.Process
	attempts  int // runs started so far; attempt n logs to <n>.log
	restarts  int
	state     corev1.ContainerState
	lastState corev1.ContainerState
	ready     bool
	started   bool
}

func newContainerRunner(w *podWorker, c corev1.Container, img *image, init bool) *containerRunner {
	r := &containerRunner{w: w, spec: c, img: img, init: init, dir: filepath.Join(w.dir, "containers", c.Name)}
	r.state.Waiting = &corev1.ContainerStateWaiting{Reason: "PodInitializing"}
	if !init {
		r.state.Waiting.Reason = "ContainerCreating"
	}
	return r
}

func (r *containerRunner) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		return 0
	}
	if done, _ := r.proc.Exited(); done {
		return 0
	}
	return r.proc.Pid()
}

// startLoop runs the container in the background until the Pod stops or the
// restartPolicy says it is done.
func (r *containerRunner) startLoop() {
	r.loopDone = make(chan struct{})
	go func() {
		defer close(r.loopDone)
		r.run(func(exitCode int) bool { return r.shouldRestart(exitCode) })
	}()
}

// runInit runs an init container to success; it reports false when the Pod failed or
// stopped first.
func (r *containerRunner) runInit() bool {
	r.loopDone = make(chan struct{})
	defer close(r.loopDone)
	return r.run(func(exitCode int) bool {
		return exitCode != 0 && r.w.snapshot().Spec.RestartPolicy != corev1.RestartPolicyNever
	})
}

// wait blocks until the run loop has ended (the Pod's context is canceled first).
func (r *containerRunner) wait() {
	if r.loopDone != nil {
		<-r.loopDone
	}
}

func (r *containerRunner) shouldRestart(exitCode int) bool {
	switch r.w.snapshot().Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return true
}

// run starts the container, waits for its end and restarts it with back-off while
// again says so. It reports whether the last run exited 0.
func (r *containerRunner) run(again func(exitCode int) bool) bool {
	backoff := r.w.node.opts.RestartBackoff
	for {
		if r.w.ctx.Err() != nil {
			return false
		}
		began := time.Now()
		exitCode, err := r.runOnce()
		if err != nil {
			reason := "CreateContainerError"
			if errors.As(err, new(*errContainerConfig)) {
				reason = "CreateContainerConfigError"
			}
			r.setWaiting(reason, err.Error())
			exitCode = -1
		}
		if r.w.ctx.Err() != nil {
			return exitCode == 0
		}
		if !again(exitCode) {
			return exitCode == 0
		}
		if time.Since(began) > 10*time.Minute {
			backoff = r.w.node.opts.RestartBackoff
		}
		if err == nil { // a container that could not be created keeps saying why
			r.setWaiting("CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container %s", backoff, r.spec.Name))
		}
		select {
		case <-r.w.ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxRestartBackoff)
	}
}

func (r *containerRunner) setWaiting(reason, message string) {
	r.mu.Lock()
	if r.state.Terminated != nil {
		r.lastState = r.state
	}
	r.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
	r.ready = false
	r.mu.Unlock()
	r.w.markDirty()
}

// runOnce starts one instance of the container and waits until it exits or the Pod
// stops, and returns its exit code.
func (r *containerRunner) runOnce() (int, error) {
	cmd, cg, err := r.command()
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	attempt := r.attempts
	r.attempts++
	r.mu.Unlock()
	proc, err := r.w.node.sup.Start(r.logName(attempt), cmd)
	if err != nil {
		cg.remove()
		return 0, err
	}
	defer r.w.node.sup.Forget(proc)
	oomBefore := cg.oomKills()
	startedAt := metav1.Now()
	r.mu.Lock()
	if r.state.Terminated != nil {
		r.lastState = r.state
	}
	r.restarts = attempt
	r.proc = proc
	r.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: startedAt}}
	r.ready = r.spec.ReadinessProbe == nil
	r.started = r.spec.StartupProbe == nil
	r.mu.Unlock()
	r.w.markDirty()

	probeCtx, stopProbes := context.WithCancel(r.w.ctx)
	go r.probe(probeCtx, proc)
	select {
	case <-proc.Done():
	case <-r.w.ctx.Done():
		r.w.mu.Lock()
		grace := r.w.stopGrace
		r.w.mu.Unlock()
		proc.Stop(grace)
	}
	stopProbes()
	oomKilled := cg.oomKills() > oomBefore
	cg.remove()
	exitCode := r.recordExit(proc, startedAt, oomKilled, attempt)
	return exitCode, nil
}

func (r *containerRunner) logName(attempt int) string {
	return filepath.Join("pods", string(r.w.uid), "logs", r.spec.Name, strconv.Itoa(attempt))
}

// logPath is the log of one attempt of the container (0 for the first run).
func (r *containerRunner) logPath(attempt int) string {
	return filepath.Join(r.w.node.dir, r.logName(attempt)+".log")
}

// recordExit turns the process's end into a Terminated state.
func (r *containerRunner) recordExit(proc *supervisor.Process, startedAt metav1.Time, oomKilled bool, attempt int) int {
	state := proc.ProcessState()
	exitCode := state.ExitCode()
	var signal int32
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		signal = int32(ws.Signal())
		exitCode = 128 + int(signal)
	}
	reason := "Completed"
	switch {
	case oomKilled:
		reason = "OOMKilled"
	case exitCode != 0:
		reason = "Error"
	}
	r.mu.Lock()
	r.ready = false
	r.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: int32(exitCode), Signal: signal, Reason: reason,
		StartedAt: startedAt, FinishedAt: metav1.Now(), ContainerID: r.containerID(attempt),
	}}
	r.mu.Unlock()
	r.w.markDirty()
	return exitCode
}

func (r *containerRunner) containerID(attempt int) string {
	return fmt.Sprintf("procnode://%s-%s-%d", r.w.uid, r.spec.Name, attempt)
}

// memoryLimit is the container's memory limit in bytes, 0 when it has none.
func (r *containerRunner) memoryLimit() int64 {
	if q, ok := r.spec.Resources.Limits[corev1.ResourceMemory]; ok {
		return q.Value()
	}
	return 0
}

// command builds the process for one run of the container: into the Pod's network
// namespace, a fresh mount and UTS namespace, the launcher that mounts the image and
// volumes, then the container's own command.
func (r *containerRunner) command() (*exec.Cmd, *memoryCgroup, error) {
	pod := r.w.snapshot()
	id := identity{home: "/root"}
	if r.img.rootfs != "" {
		var err error
		if id, err = r.runAs(pod); err != nil {
			return nil, nil, err
		}
	}
	env, envMap, err := r.environment(r.w.ctx, pod, id.home)
	if err != nil {
		return nil, nil, err
	}
	argv := r.argv(envMap)
	if len(argv) == 0 {
		return nil, nil, fmt.Errorf("container %q has no command and its image none", r.spec.Name)
	}
	cg, err := newMemoryCgroup(filepath.Join("flok", fmt.Sprintf("s%d", r.w.node.opts.Slot.Index), string(pod.UID), r.spec.Name), r.memoryLimit())
	if err != nil {
		return nil, nil, err
	}
	launcher, err := r.writeLauncher(pod, id, cg)
	if err != nil {
		cg.remove()
		return nil, nil, err
	}
	// The node's own tools by absolute path: the environment is the container's.
	args := append([]string{"--net=" + r.w.net.path(), "--", hostTool("unshare"), "--mount", "--uts", "--propagation", "private", "--",
		hostTool("bash"), launcher}, argv...)
	cmd := exec.Command(hostTool("nsenter"), args...)
	cmd.Env = env
	return cmd, cg, nil
}

// argv is the container's command line: its command or the image's entrypoint, its
// args or (only without a command of its own) the image's CMD, with $(VAR) expanded.
func (r *containerRunner) argv(env map[string]string) []string {
	entry, args := r.spec.Command, r.spec.Args
	if len(entry) == 0 {
		entry = r.img.entrypoint
		if len(args) == 0 {
			args = r.img.cmd
		}
	}
	var argv []string
	for _, a := range append(append([]string{}, entry...), args...) {
		argv = append(argv, expand(a, env))
	}
	switch {
	case len(argv) == 0:
	case r.img.flinkHome != nil && argv[0] == "/docker-entrypoint.sh":
		argv[0] = hostPathInContainer(r.w.node.entrypointPath)
	case r.img.binary != "" && argv[0] == r.img.binary:
		// The binary may live under the host's /tmp, which the container sees elsewhere.
		argv[0] = hostPathInContainer(r.img.binary)
	}
	return argv
}

// prepareImageRoot lays out a fresh /opt/flink for one run, as a new container gets a
// fresh writable layer: conf/ copied from the home, log/ empty, plugins/ linking the
// home's plugins (so that ENABLE_BUILT_IN_PLUGINS can add some), and mount points for
// the home's read-only parts.
func (r *containerRunner) prepareImageRoot() (string, error) {
	root := filepath.Join(r.dir, "opt-flink")
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	home := r.img.flinkHome.Dir
	for _, d := range append([]string{"log", "plugins"}, r.readOnlyHomeDirs()...) {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.CopyFS(filepath.Join(root, "conf"), os.DirFS(filepath.Join(home, "conf"))); err != nil {
		return "", err
	}
	plugins, err := os.ReadDir(filepath.Join(home, "plugins"))
	if err != nil {
		return "", err
	}
	for _, p := range plugins {
		// The link resolves in the container, which sees the host's /tmp elsewhere.
		target := hostPathInContainer(filepath.Join(home, "plugins", p.Name()))
		if err := os.Symlink(target, filepath.Join(root, "plugins", p.Name())); err != nil {
			return "", err
		}
	}
	return root, nil
}

// imageReadOnlyDirs are bound from the provisioned home into every Flink container.
var imageReadOnlyDirs = []string{"bin", "lib", "opt", "examples"}

// readOnlyHomeDirs are the home's parts bound read-only: imageReadOnlyDirs, and usrlib
// where a job image put the job's jar.
func (r *containerRunner) readOnlyHomeDirs() []string {
	dirs := imageReadOnlyDirs
	if _, err := os.Stat(filepath.Join(r.img.flinkHome.Dir, "usrlib")); err == nil {
		dirs = append(slices.Clip(dirs), "usrlib")
	}
	return dirs
}
