package scale

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// deploymentState is what the harness saw of one FlinkDeployment, with when it saw it.
type deploymentState struct {
	created      time.Time // the create request returned
	jobManager   time.Time // its JobManager Deployment first appeared
	stable       time.Time // last found STABLE at a generation newer than before
	failedStatus time.Time // jobStatus.state first became FAILED
	warning      time.Time // first Warning event after markFailure
	failedAt     time.Time // when the harness failed its job
	changed      time.Time // when the harness changed its spec
	changedGen   int64     // the generation that change made
	stableGen    int64     // the generation the operator had observed when it was last seen STABLE
	unsettled    time.Time // last seen other than STABLE with its job RUNNING
	lastWarning  time.Time // the latest Warning event's own time
}

// watcher records, from watches, when each FlinkDeployment reached each milestone.
type watcher struct {
	mu     sync.Mutex
	state  map[string]*deploymentState
	notify chan struct{}
}

func newWatcher() *watcher {
	return &watcher{state: map[string]*deploymentState{}, notify: make(chan struct{}, 1)}
}

func (w *watcher) get(name string) *deploymentState {
	s := w.state[name]
	if s == nil {
		s = &deploymentState{}
		w.state[name] = s
	}
	return s
}

func (w *watcher) changed() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// run watches the namespace's FlinkDeployments (of gvr), Deployments and Events.
func (w *watcher) run(ctx context.Context, kube kubernetes.Interface, dyn dynamic.Interface, gvr schema.GroupVersionResource, namespace string) error {
	typed := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(namespace))
	deployments := typed.Apps().V1().Deployments().Informer()
	events := typed.Core().V1().Events().Informer()
	flinks := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, namespace, nil).ForResource(gvr).Informer()
	handlers := map[cache.SharedIndexInformer]func(any){deployments: w.deployment, events: w.event, flinks: w.flinkDeployment}
	for inf, h := range handlers {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: h, UpdateFunc: func(_, o any) { h(o) }}); err != nil {
			return err
		}
	}
	typed.Start(ctx.Done())
	go flinks.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), deployments.HasSynced, events.HasSynced, flinks.HasSynced) {
		return fmt.Errorf("the harness's watches did not sync")
	}
	return nil
}

func (w *watcher) deployment(obj any) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.state[d.Name]; ok && s.jobManager.IsZero() {
		s.jobManager = now
		w.changed()
	}
}

func (w *watcher) event(obj any) {
	e, ok := obj.(*corev1.Event)
	if !ok || e.Type != corev1.EventTypeWarning {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.state[e.InvolvedObject.Name]
	if !ok {
		return
	}
	// A watch that starts again lists every event anew: the event's own time tells
	// when it happened.
	if at := eventTime(e); at.After(s.lastWarning) {
		s.lastWarning = at
	}
	if !s.failedAt.IsZero() && s.warning.IsZero() {
		s.warning = now
		w.changed()
	}
}

func (w *watcher) flinkDeployment(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	now := time.Now()
	lifecycle, _, _ := unstructured.NestedString(u.Object, "status", "lifecycleState")
	job, _, _ := unstructured.NestedString(u.Object, "status", "jobStatus", "state")
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.state[u.GetName()]
	if !ok {
		return
	}
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if lifecycle == "STABLE" && job == "RUNNING" && observed == u.GetGeneration() {
		if s.stable.IsZero() || s.stableGen < observed {
			s.stable, s.stableGen = now, observed
		}
	} else {
		s.unsettled = now
	}
	if job == "FAILED" && !s.failedAt.IsZero() && s.failedStatus.IsZero() {
		s.failedStatus = now
	}
	w.changed()
}

// eventTime is when an event last happened, as it says itself.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	default:
		return e.EventTime.Time
	}
}

// track starts recording name, created at the time given.
func (w *watcher) track(name string, created time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.get(name).created = created
}

// markChange records that the harness changed name's spec at the time given, to the
// generation given.
func (w *watcher) markChange(name string, at time.Time, generation int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.get(name)
	s.changed, s.changedGen = at, generation
}

// settled reports whether name was last seen STABLE with its job running.
func (w *watcher) settled(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.state[name]
	return ok && !s.stable.IsZero() && !s.unsettled.After(s.stable)
}

// disturbedSince reports whether name was seen, at or after t, with a status other
// than STABLE with its job running, or with a Warning event.
func (w *watcher) disturbedSince(name string, t time.Time) (unsettled, warned bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.get(name)
	return !s.unsettled.Before(t), !s.lastWarning.Before(t)
}

// markFailure records that the harness failed name's job now.
func (w *watcher) markFailure(name string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.get(name)
	s.failedAt, s.failedStatus, s.warning = at, time.Time{}, time.Time{}
}

// waitAll waits until cond holds for every name, or the deadline passes; it returns
// the names for which it does not hold.
func (w *watcher) waitAll(ctx context.Context, names []string, timeout time.Duration, cond func(*deploymentState) bool) []string {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		missing := w.missing(names, cond)
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return missing
		case <-deadline.C:
			return missing
		case <-w.notify:
		case <-tick.C:
		}
	}
}

func (w *watcher) missing(names []string, cond func(*deploymentState) bool) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, n := range names {
		if s, ok := w.state[n]; !ok || !cond(s) {
			out = append(out, n)
		}
	}
	return out
}

// durations returns, for each name, the duration from one milestone to another.
func (w *watcher) durations(names []string, from, to func(*deploymentState) time.Time) []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]time.Duration, 0, len(names))
	for _, n := range names {
		s := w.state[n]
		if s == nil || from(s).IsZero() || to(s).IsZero() {
			continue
		}
		out = append(out, to(s).Sub(from(s)))
	}
	return out
}

// latest is the latest time of a milestone among names.
func (w *watcher) latest(names []string, at func(*deploymentState) time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out time.Time
	for _, n := range names {
		if s := w.state[n]; s != nil && at(s).After(out) {
			out = at(s)
		}
	}
	return out
}
