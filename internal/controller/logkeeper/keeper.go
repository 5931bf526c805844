package logkeeper

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/keptlog"
	"github.com/flok-dev/flok/internal/render"
)

// tailLines bounds the lines kept of one log; keptlog keeps its last MiB.
const tailLines = 20000

// doneMemory is how long kept runs are remembered, so that a Pod's later updates do
// not read the ConfigMap again for them.
const doneMemory = time.Hour

// LogSource streams a container's log as the API server serves it (pods/log).
type LogSource func(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)

// PodLogs is the LogSource of a Kubernetes clientset.
func PodLogs(kube kubernetes.Interface) LogSource {
	return func(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
		return kube.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
	}
}

// Keeper keeps the logs of the Flink containers that end.
type Keeper struct {
	// Client reads FlinkDeployments (cached) and writes the kept-logs ConfigMaps;
	// Reader reads those ConfigMaps, which the cache does not hold.
	Client client.Client
	Reader client.Reader
	Logs   LogSource

	mu         sync.Mutex
	done       map[string]time.Time
	lastPruned time.Time
}

// Reconcile takes the log of one container run and keeps it, unless the run is kept
// already, the Pod (and its log) is gone, or the FlinkDeployment is gone or going.
func (k *Keeper) Reconcile(ctx context.Context, req request) (reconcile.Result, error) {
	if k.isDone(req.doneKey()) {
		return reconcile.Result{}, nil
	}
	fd := &v1beta1.FlinkDeployment{}
	if err := k.Client.Get(ctx, types.NamespacedName{Namespace: req.Namespace, Name: req.Cluster}, fd); client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	} else if err != nil || fd.DeletionTimestamp != nil {
		k.markDone(req.doneKey())
		return reconcile.Result{}, nil
	}
	cm, err := k.configMap(ctx, req.Namespace, req.Cluster)
	if err != nil {
		return reconcile.Result{}, err
	}
	if kept, final := keptlog.Has(cm, req.key()); kept && (final || req.Reason == keptlog.ReasonDeleted) {
		k.markDone(req.doneKey())
		return reconcile.Result{}, nil
	}
	data, truncated, err := k.read(ctx, req)
	if apierrors.IsNotFound(err) || apierrors.IsBadRequest(err) {
		// The Pod went first (or its node no longer has that run): nothing to take.
		log.FromContext(ctx).V(1).Info("a container's log was gone before it could be kept", "pod", req.Pod, "run", req.Run, "reason", err.Error())
		k.markDone(req.doneKey())
		return reconcile.Result{}, nil
	}
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("reading the log of Pod %s, container %s: %w", req.Pod, req.Container, err)
	}
	if k.restartedMeanwhile(ctx, req) {
		// What was read may be a later run's: the request for this run as the
		// previous one comes with the Pod's update.
		return reconcile.Result{}, nil
	}
	if err := k.keep(ctx, fd, req, data, truncated); err != nil {
		return reconcile.Result{}, err
	}
	k.markDone(req.doneKey())
	return reconcile.Result{}, nil
}

// read takes the end of the run's log; truncated says lines before it were left out.
func (k *Keeper) read(ctx context.Context, req request) (log []byte, truncated bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// One line more than kept tells whether the kubelet left lines out.
	stream, err := k.Logs(ctx, req.Namespace, req.Pod, &corev1.PodLogOptions{
		Container: req.Container, Previous: req.Previous, TailLines: ptr.To[int64](tailLines + 1),
	})
	if err != nil {
		return nil, false, err
	}
	defer stream.Close()
	log, err = keptlog.ReadTail(stream, keptlog.MaxLogBytes)
	if err != nil || bytes.Count(log, []byte{'\n'}) <= tailLines {
		return log, false, err
	}
	return log[bytes.IndexByte(log, '\n')+1:], true, nil
}

// restartedMeanwhile says the container restarted since req was made, so that the
// kubelet's current (or previous) log is no longer the run req names.
func (k *Keeper) restartedMeanwhile(ctx context.Context, req request) bool {
	pod := &corev1.Pod{}
	if err := k.Client.Get(ctx, types.NamespacedName{Namespace: req.Namespace, Name: req.Pod}, pod); err != nil || string(pod.UID) != req.PodUID {
		return false // gone: the log was read before it went
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == req.Container {
			return cs.RestartCount != req.restartCount()
		}
	}
	return false
}

func (k *Keeper) configMap(ctx context.Context, namespace, cluster string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	err := k.Reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: keptlog.ConfigMapName(cluster)}, cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return cm, err
}

// keep adds the log to the cluster's ConfigMap, created owned by the FlinkDeployment
// (so that it goes with it) when it is the first.
func (k *Keeper) keep(ctx context.Context, fd *v1beta1.FlinkDeployment, req request, data []byte, truncated bool) error {
	entry := keptlog.Entry{Pod: req.Pod, PodUID: req.PodUID, Container: req.Container, Role: req.Role, Run: req.Run, Reason: req.Reason,
		EndedAt: time.UnixMilli(req.EndedAt).UTC(), Truncated: truncated}
	if req.Ended {
		entry.ExitCode = ptr.To(req.ExitCode)
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := k.configMap(ctx, req.Namespace, req.Cluster)
		if err != nil {
			return err
		}
		create := cm == nil
		if create {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
				Name: keptlog.ConfigMapName(req.Cluster), Namespace: req.Namespace,
				Labels: map[string]string{render.LabelApp: req.Cluster, render.LabelManagedBy: render.ManagedByFlok, keptlog.LabelKeptLogs: "true"},
			}}
			if err := controllerutil.SetOwnerReference(fd, cm, k.Client.Scheme()); err != nil {
				return err
			}
		}
		changed, err := keptlog.Add(cm, entry, data)
		switch {
		case err != nil || !changed:
			return err
		case create:
			return k.Client.Create(ctx, cm)
		}
		return k.Client.Update(ctx, cm)
	})
}

func (k *Keeper) isDone(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.done[key]
	return ok
}

// markDone remembers a kept run; now and then it forgets those older than doneMemory.
func (k *Keeper) markDone(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if k.done == nil {
		k.done = map[string]time.Time{}
	}
	if now.Sub(k.lastPruned) > doneMemory/4 {
		for key, at := range k.done {
			if now.Sub(at) > doneMemory {
				delete(k.done, key)
			}
		}
		k.lastPruned = now
	}
	k.done[key] = now
}
