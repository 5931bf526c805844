package procnode

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeIP is the node's address (status.hostIP of its Pods). The kubelet API listens
// there.
const nodeIP = "127.0.0.1"

// publishStatus writes the Pod's status whenever it changed, coalescing bursts, until
// the worker has stopped.
func (w *podWorker) publishStatus() {
	for {
		select {
		case <-w.dirty:
		case <-w.stopped:
			return
		}
		time.Sleep(50 * time.Millisecond) // let a burst of changes settle into one write
		select {
		case <-w.dirty:
		default:
		}
		w.writeStatus()
	}
}

func (w *podWorker) writeStatus() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods := w.node.client.CoreV1().Pods(w.namespace)
	for range 5 {
		current, err := pods.Get(ctx, w.name, metav1.GetOptions{})
		if err != nil || current.UID != w.uid {
			return
		}
		current.Status = w.status(current.Status)
		_, err = pods.UpdateStatus(ctx, current, metav1.UpdateOptions{})
		if err == nil || !apierrors.IsConflict(err) {
			if err != nil && ctx.Err() == nil {
				w.node.logf("procnode: status of %s/%s: %v", w.namespace, w.name, err)
			}
			return
		}
	}
}

// status computes the Pod's status from what the node runs, keeping the conditions
// that others own (PodScheduled).
func (w *podWorker) status(prev corev1.PodStatus) corev1.PodStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := corev1.PodStatus{
		HostIP: nodeIP, HostIPs: []corev1.HostIP{{IP: nodeIP}},
		StartTime: &w.startTime, QOSClass: prev.QOSClass,
	}
	if w.net != nil {
		st.PodIP = w.net.ip.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	pod := w.pod
	var initStatuses, statuses []corev1.ContainerStatus
	byName := map[string]*containerRunner{}
	for _, r := range w.runners {
		byName[r.spec.Name] = r
	}
	for _, c := range pod.Spec.InitContainers {
		initStatuses = append(initStatuses, w.containerStatus(c, byName[c.Name]))
	}
	for _, c := range pod.Spec.Containers {
		statuses = append(statuses, w.containerStatus(c, byName[c.Name]))
	}
	st.InitContainerStatuses, st.ContainerStatuses = initStatuses, statuses
	st.Phase = podPhase(pod.Spec.RestartPolicy, w.initDone, initStatuses, statuses)
	st.Conditions = podConditions(prev.Conditions, w.net != nil, w.initDone, statuses)
	return st
}

func (w *podWorker) containerStatus(c corev1.Container, r *containerRunner) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "procnode://" + c.Image}
	if r == nil {
		reason := "ContainerCreating"
		message := ""
		if w.setupError != nil {
			reason, message = w.setupError.reason, w.setupError.message
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: message}
		return cs
	}
	if r.img.id != "" {
		cs.ImageID = r.img.id
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cs.State, cs.LastTerminationState = r.state, r.lastState
	if w.setupError != nil && r.attempts == 0 {
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: w.setupError.reason, Message: w.setupError.message}}
	}
	cs.RestartCount = int32(r.restarts)
	cs.Ready = r.ready && cs.State.Running != nil
	started := r.started && cs.State.Running != nil
	cs.Started = &started
	if r.attempts > 0 {
		cs.ContainerID = r.containerID(r.attempts - 1)
	}
	return cs
}

// podPhase follows the kubelet: Pending until the containers have started, Running
// while any runs or will restart, then Succeeded or Failed.
func podPhase(policy corev1.RestartPolicy, initDone bool, inits, containers []corev1.ContainerStatus) corev1.PodPhase {
	if !initDone {
		for _, s := range inits {
			if t := s.State.Terminated; t != nil && t.ExitCode != 0 && policy == corev1.RestartPolicyNever {
				return corev1.PodFailed
			}
		}
		return corev1.PodPending
	}
	running, failed, succeeded, waiting := 0, 0, 0, 0
	for _, s := range containers {
		switch {
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil && s.State.Terminated.ExitCode == 0:
			succeeded++
		case s.State.Terminated != nil:
			failed++
		case s.LastTerminationState.Terminated != nil:
			running++ // waiting to restart
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case policy == corev1.RestartPolicyAlways:
		return corev1.PodRunning // about to restart
	case failed > 0:
		return corev1.PodFailed
	}
	return corev1.PodSucceeded
}

func podConditions(prev []corev1.PodCondition, sandboxReady, initDone bool, containers []corev1.ContainerStatus) []corev1.PodCondition {
	ready := len(containers) > 0
	for _, s := range containers {
		ready = ready && s.Ready
	}
	want := map[corev1.PodConditionType]bool{
		corev1.PodReadyToStartContainers: sandboxReady,
		corev1.PodInitialized:            initDone,
		corev1.ContainersReady:           ready,
		corev1.PodReady:                  ready,
	}
	now := metav1.Now()
	var out []corev1.PodCondition
	for _, c := range prev {
		if _, ours := want[c.Type]; !ours {
			out = append(out, c)
		}
	}
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		status := corev1.ConditionFalse
		if want[t] {
			status = corev1.ConditionTrue
		}
		cond := corev1.PodCondition{Type: t, Status: status, LastTransitionTime: now}
		for _, c := range prev {
			if c.Type == t && c.Status == status {
				cond.LastTransitionTime = c.LastTransitionTime
			}
		}
		out = append(out, cond)
	}
	return out
}
