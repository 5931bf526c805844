package deployment

import (
	"context"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// terminationMemory is how long the containers that ended are remembered: Flink's
// ResourceManager deletes a failed TaskManager's Pod at once, so what its status said
// lives only here.
const terminationMemory = 15 * time.Minute

// terminationLog remembers, per cluster, the JobManager and TaskManager containers that
// ended unasked, as the Pods' updates told them.
type terminationLog struct {
	mu        sync.Mutex
	byCluster map[types.NamespacedName][]lifecycle.ContainerTermination
}

// recent is what the cluster's containers ended lately, oldest memories dropped.
func (l *terminationLog) recent(key types.NamespacedName, now time.Time) []lifecycle.ContainerTermination {
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := l.byCluster[key][:0]
	for _, t := range l.byCluster[key] {
		if now.Sub(time.UnixMilli(t.FinishedAt)) < terminationMemory {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.byCluster, key)
		return nil
	}
	l.byCluster[key] = kept
	return append([]lifecycle.ContainerTermination(nil), kept...)
}

func (l *terminationLog) forget(key types.NamespacedName) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byCluster, key)
}

// record remembers the terminations pod shows that are not known yet and not older
// than the memory, and reports whether there were any.
func (l *terminationLog) record(key types.NamespacedName, pod *corev1.Pod, now time.Time) bool {
	found := slices.DeleteFunc(podTerminations(pod), func(t lifecycle.ContainerTermination) bool {
		return now.Sub(time.UnixMilli(t.FinishedAt)) >= terminationMemory
	})
	if len(found) == 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byCluster == nil {
		l.byCluster = map[types.NamespacedName][]lifecycle.ContainerTermination{}
	}
	added := false
	for _, t := range found {
		known := false
		for _, k := range l.byCluster[key] {
			known = known || (k.Pod == t.Pod && k.Container == t.Container && k.FinishedAt == t.FinishedAt)
		}
		if !known {
			l.byCluster[key] = append(l.byCluster[key], t)
			added = true
		}
	}
	return added
}

// podTerminations are the Flink containers of a JobManager or TaskManager Pod (not its
// sidecars) that ended unasked — OOMKilled, or exited with an error while the Pod was
// not being deleted (a liveness probe's SIGTERM, 143, counts) — as their current or
// last state says.
func podTerminations(pod *corev1.Pod) []lifecycle.ContainerTermination {
	role := pod.Labels[render.LabelComponent]
	if role != render.ComponentJobManager && role != render.ComponentTaskManager {
		return nil
	}
	var out []lifecycle.ContainerTermination
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != render.MainContainerName {
			continue
		}
		for _, term := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
			if term == nil {
				continue
			}
			oom := term.Reason == "OOMKilled"
			if !oom && (term.ExitCode == 0 || pod.DeletionTimestamp != nil) {
				continue
			}
			out = append(out, lifecycle.ContainerTermination{
				Pod: pod.Name, Container: cs.Name, Role: role, OOMKilled: oom, ExitCode: term.ExitCode,
				FinishedAt: term.FinishedAt.UnixMilli(),
			})
		}
	}
	return out
}

// handler records what each Flink Pod's creation and updates show of its containers'
// ends, and wakes the cluster's FlinkDeployment when something new ended.
func (l *terminationLog) handler() handler.Funcs {
	see := func(obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		for _, req := range clusterOfPod(context.Background(), pod) {
			if l.record(req.NamespacedName, pod, time.Now()) {
				q.Add(req)
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			see(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			see(e.ObjectNew, q)
		},
	}
}
