package procnode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// podWorker runs one Pod: its network, volumes, init containers and containers, and
// reports its status. It is the process node's counterpart of a kubelet pod worker.
type podWorker struct {
	node *Node
	dir  string
	// The Pod's identity, fixed for the worker's life.
	uid             types.UID
	namespace, name string

	ctx       context.Context    // canceled when the Pod must stop: no more (re)starts
	cancel    context.CancelFunc //
	launched  chan struct{}      // closed when run has started all it will start
	stopped   chan struct{}      // closed once every process is gone and resources are freed
	dirty     chan struct{}      // a status change to publish
	deleting  sync.Once
	stopGrace time.Duration // how long containers get to stop; set before cancel

	mu         sync.Mutex
	pod        *corev1.Pod
	net        *podNet
	volumes    map[string]volume
	initDone   bool
	setupError *waitingReason // why no container could start yet
	runners    []*containerRunner
	startTime  metav1.Time
	terminated bool // shut down; no further status
}

// waitingReason is a container's Waiting state that applies to the whole Pod.
type waitingReason struct{ reason, message string }

func newPodWorker(n *Node, pod *corev1.Pod) *podWorker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &podWorker{
		node: n, dir: n.podDir(string(pod.UID)), uid: pod.UID, namespace: pod.Namespace, name: pod.Name,
		ctx: ctx, cancel: cancel,
		launched: make(chan struct{}), stopped: make(chan struct{}), dirty: make(chan struct{}, 1), pod: pod.DeepCopy(),
		startTime: metav1.Now(),
	}
	go w.publishStatus()
	go w.run()
	return w
}

// update takes a newer version of the Pod; a deletion timestamp starts a graceful stop.
func (w *podWorker) update(pod *corev1.Pod) {
	w.mu.Lock()
	w.pod = pod.DeepCopy()
	w.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		grace := time.Duration(ptr.Deref(pod.DeletionGracePeriodSeconds, 30)) * time.Second
		w.deleting.Do(func() { go w.deleteGracefully(grace) })
	}
}

func (w *podWorker) snapshot() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

func (w *podWorker) markDirty() {
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

func (w *podWorker) run() {
	defer close(w.launched)
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		w.setWaiting("CreateContainerError", err.Error())
		return
	}
	if !w.setup() {
		return
	}
	for _, r := range w.runners {
		if r.init && !r.runInit() {
			return
		}
	}
	w.mu.Lock()
	w.initDone = true
	w.mu.Unlock()
	w.markDirty()
	for _, r := range w.runners {
		if !r.init {
			r.startLoop()
		}
	}
}

// setup resolves images, creates the network namespace and materializes volumes,
// retrying what may appear later (a ConfigMap) until the Pod is stopped.
func (w *podWorker) setup() bool {
	pod := w.snapshot()
	runners, err := w.newRunners(pod)
	if err != nil {
		var notAvailable *errImageNotAvailable
		if errors.As(err, &notAvailable) {
			w.setWaiting("ErrImagePull", err.Error())
		} else {
			w.setWaiting("CreateContainerError", err.Error())
		}
		return false
	}
	var net *podNet
	if pod.Spec.HostNetwork {
		net, err = w.node.net.setupHostNetwork()
	} else {
		net, err = w.node.net.setup(string(pod.UID))
	}
	if err != nil {
		w.setWaiting("CreateContainerError", err.Error())
		return false
	}
	w.mu.Lock()
	w.runners, w.net = runners, net
	w.mu.Unlock()
	w.node.svc.addPod(w)
	for {
		vols, err := w.prepareVolumes(w.ctx)
		if err == nil {
			w.mu.Lock()
			w.volumes, w.setupError = vols, nil
			w.mu.Unlock()
			w.markDirty()
			go w.refreshConfigMaps()
			return true
		}
		var notReady *errVolumeNotReady
		if !errors.As(err, &notReady) {
			w.setWaiting("CreateContainerConfigError", err.Error())
			return false
		}
		w.setWaiting("ContainerCreating", "FailedMount: "+err.Error())
		select {
		case <-w.ctx.Done():
			return false
		case <-time.After(2 * time.Second):
		}
	}
}

func (w *podWorker) newRunners(pod *corev1.Pod) ([]*containerRunner, error) {
	var runners []*containerRunner
	for i, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		img, err := w.node.resolveImage(w.ctx, c)
		if err != nil {
			return nil, fmt.Errorf("container %q: %w", c.Name, err)
		}
		runners = append(runners, newContainerRunner(w, c, img, i < len(pod.Spec.InitContainers)))
	}
	return runners, nil
}

func (w *podWorker) setWaiting(reason, message string) {
	w.mu.Lock()
	w.setupError = &waitingReason{reason, message}
	w.mu.Unlock()
	w.node.logf("procnode: pod %s/%s: %s: %s", w.namespace, w.name, reason, message)
	w.markDirty()
}

// deleteGracefully stops the Pod within its grace period and removes the Pod object,
// the kubelet's last word on a deleted Pod.
func (w *podWorker) deleteGracefully(grace time.Duration) {
	w.stop(grace)
	pod := w.snapshot()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := w.node.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		w.node.logf("procnode: delete pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	w.node.forget(w)
}

// shutdown stops the Pod at once (the node stops, or the Pod was removed from the API).
func (w *podWorker) shutdown() { w.stop(2 * time.Second) }

// stop ends every container within grace, then frees the network, cgroups and
// directories. Later calls wait for the first.
func (w *podWorker) stop(grace time.Duration) {
	w.mu.Lock()
	if w.terminated {
		w.mu.Unlock()
		<-w.stopped
		return
	}
	w.terminated = true
	w.stopGrace = grace
	w.mu.Unlock()
	w.cancel()
	<-w.launched
	w.mu.Lock()
	runners := w.runners
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() { defer wg.Done(); r.wait() }()
	}
	wg.Wait()
	w.node.svc.removePod(w)
	w.mu.Lock()
	net := w.net
	w.mu.Unlock()
	if net != nil {
		w.node.net.teardown(net)
	}
	_ = os.RemoveAll(filepath.Join(w.dir, "volumes"))
	close(w.stopped)
}

func (w *podWorker) pids() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var pids []int
	for _, r := range w.runners {
		if pid := r.pid(); pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (w *podWorker) runner(name string) *containerRunner {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.runners {
		if r.spec.Name == name {
			return r
		}
	}
	return nil
}

// podIP is the Pod's address, empty before its network exists.
func (w *podWorker) podIP() string {
	if net := w.network(); net != nil {
		return net.ip.String()
	}
	return ""
}

// network is the Pod's network namespace, nil before it exists.
func (w *podWorker) network() *podNet {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.net
}
