package logkeeper

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/flok-dev/flok/internal/keptlog"
	"github.com/flok-dev/flok/internal/render"
)

// request is one container run whose log is to be kept.
type request struct {
	Namespace, Pod, PodUID, Container string
	// Cluster is the Flink cluster (its FlinkDeployment's name); Role jobmanager or
	// taskmanager.
	Cluster, Role string
	// Run is the container's run; Previous says it is the run before the current one
	// (the kubelet's "previous" log).
	Run      int32
	Previous bool
	// Reason and ExitCode are how the run ended (keptlog.ReasonDeleted: it still ran
	// as its Pod was being deleted); EndedAt when, in Unix milliseconds.
	Reason   string
	ExitCode int32
	Ended    bool
	EndedAt  int64
}

// doneKey names what request keeps: a run's log, final or taken at deletion.
func (r request) doneKey() string {
	final := "final"
	if r.Reason == keptlog.ReasonDeleted {
		final = "deleted"
	}
	return r.Namespace + "/" + r.key() + "/" + final
}

// key is the kept log's key (keptlog.KeyOf).
func (r request) key() string { return keptlog.KeyOf(r.Pod, r.PodUID, r.Container, r.Run) }

// restartCount is the container's restart count while the run asked for is the one
// the kubelet serves as current (or previous) log.
func (r request) restartCount() int32 {
	if r.Previous {
		return r.Run + 1
	}
	return r.Run
}

// requestsFor lists the runs of a Flink Pod's main container whose logs can be taken
// now and would be lost with the Pod: one that ended (current state), the one before
// a restart (last state), one still running while the Pod is being deleted.
func requestsFor(pod *corev1.Pod) []request {
	role, cluster := pod.Labels[render.LabelComponent], pod.Labels[render.LabelApp]
	if cluster == "" || (role != render.ComponentJobManager && role != render.ComponentTaskManager) {
		return nil
	}
	var out []request
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != render.MainContainerName {
			continue
		}
		base := request{Namespace: pod.Namespace, Pod: pod.Name, PodUID: string(pod.UID), Container: cs.Name, Cluster: cluster, Role: role, Run: cs.RestartCount}
		switch {
		case cs.State.Terminated != nil:
			out = append(out, ended(base, cs.State.Terminated))
		case cs.State.Running != nil && pod.DeletionTimestamp != nil:
			r := base
			r.Reason, r.EndedAt = keptlog.ReasonDeleted, pod.DeletionTimestamp.UnixMilli()
			out = append(out, r)
		}
		if t := cs.LastTerminationState.Terminated; t != nil && cs.RestartCount > 0 {
			r := ended(base, t)
			r.Run, r.Previous = cs.RestartCount-1, true
			out = append(out, r)
		}
	}
	return out
}

func ended(r request, t *corev1.ContainerStateTerminated) request {
	r.Reason, r.ExitCode, r.Ended, r.EndedAt = t.Reason, t.ExitCode, true, t.FinishedAt.UnixMilli()
	if r.Reason == "" {
		r.Reason = "Terminated"
	}
	return r
}
