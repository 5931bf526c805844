// Package deployment reconciles FlinkDeployments: it observes the cluster's objects
// and Flink's REST API, asks internal/lifecycle what to do, records the status that
// decision returns (the write-ahead log), then takes its one action.
package deployment

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/controller/logkeeper"
	"github.com/flok-dev/flok/internal/controller/round"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/kube"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// FieldOwner is the server-side apply field manager of the objects Flok renders.
const FieldOwner = "flok-operator"

// FlinkEndpoint is where a cluster's REST API answers: the port of its REST Service,
// and how it speaks TLS (nil: plain HTTP).
type FlinkEndpoint struct {
	Namespace, Service string
	Port               int32
	TLS                *render.TLS
}

// EndpointOf is the REST endpoint of fd's cluster rendered as objs.
func EndpointOf(fd *v1beta1.FlinkDeployment, objs *render.Objects) FlinkEndpoint {
	e := FlinkEndpoint{Namespace: fd.Namespace, Service: render.RESTServiceName(fd.Name), Port: objs.RESTPort()}
	if objs.RESTOverTLS() {
		e.TLS = objs.TLS
	}
	return e
}

// RunningEndpoint is where the REST API of fd's running cluster answers: that of the
// spec it was last deployed with (status.reconciliationStatus.lastReconciledSpec) — a
// changed spec, TLS turned on or another port, is not what runs until it is deployed —
// else that of current, the objects of its spec.
func RunningEndpoint(fd *v1beta1.FlinkDeployment, defaults flinkconf.Config, current *render.Objects) FlinkEndpoint {
	if e, ok := deployedEndpoint(fd, defaults); ok {
		return e
	}
	return EndpointOf(fd, current)
}

// deployedEndpoint is the REST endpoint of the spec fd was last deployed with, when
// that spec differs from fd's own and renders; ok is false otherwise.
func deployedEndpoint(fd *v1beta1.FlinkDeployment, defaults flinkconf.Config) (e FlinkEndpoint, ok bool) {
	spec, err := lifecycle.DecodeSpec(fd.Status.ReconciliationStatus.LastReconciledSpec)
	if err != nil || spec == nil || equality.Semantic.DeepEqual(*spec, fd.Spec) {
		return FlinkEndpoint{}, false
	}
	deployed := *fd
	deployed.Spec = *spec
	objs, err := render.Render(render.Input{Deployment: &deployed, Defaults: defaults})
	if err != nil {
		return FlinkEndpoint{}, false
	}
	return EndpointOf(fd, objs), true
}

// FlinkClientFor returns the REST client of the Flink cluster at an endpoint. An
// error says why it cannot be reached as configured (its TLS Secret unreadable, say).
type FlinkClientFor func(ctx context.Context, at FlinkEndpoint) (*flinkrest.Client, error)

// Cluster renders another resource's FlinkDeployment (a session cluster, a snapshot's
// job) over the operator's defaults and returns its objects and its REST client. A
// spec that does not render is an error with no objects.
func (f FlinkClientFor) Cluster(ctx context.Context, fd *v1beta1.FlinkDeployment, defaults flinkconf.Config) (*render.Objects, *flinkrest.Client, error) {
	objs, err := render.Render(render.Input{Deployment: fd, Defaults: defaults})
	if err != nil {
		return nil, nil, fmt.Errorf("FlinkDeployment %s has a spec Flok cannot deploy: %w", fd.Name, err)
	}
	flink, err := f(ctx, RunningEndpoint(fd, defaults, objs))
	if err != nil {
		return objs, nil, fmt.Errorf("reaching FlinkDeployment %s: %w", fd.Name, err)
	}
	return objs, flink, nil
}

// Reconciler runs FlinkDeployments.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Flink reaches a cluster's REST API (in cluster by DNS, or through the API server).
	Flink FlinkClientFor
	// Defaults are the operator's default Flink options.
	Defaults flinkconf.Config
	// SQLRunner is Flok's SQL runner jar, which SQL jobs before Flink 2.1 run on; nil
	// when the operator has none.
	SQLRunner []byte
	// Logs reads a crashed JobManager's log for the error of the job's main method;
	// nil leaves it unread.
	Logs logkeeper.LogSource
	// mainFailures are the main methods' errors read from those logs.
	mainFailures mainFailures
	// Settings are the operator's default lifecycle settings; each deployment's
	// kubernetes.operator.* options override them.
	Settings lifecycle.Settings
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// JobDetails remembers steady jobs' details between rounds (nil: read every round).
	JobDetails *flinkjob.Memory
	// Hooks run around each action (the crash tests' kill points).
	Hooks   round.Hooks
	Metrics *Metrics

	facts        factsCache
	terminations terminationLog
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile takes one step of one FlinkDeployment.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	start := r.now()
	defer func() { r.Metrics.observeReconcile(start, r.now(), err) }()
	fd := &v1beta1.FlinkDeployment{}
	if err := r.Client.Get(ctx, req.NamespacedName, fd); err != nil {
		r.Metrics.forget(req.NamespacedName)
		r.JobDetails.Forget(req.NamespacedName)
		r.facts.forget(req.NamespacedName)
		r.terminations.forget(req.NamespacedName)
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.Metrics.seen(req.NamespacedName, fd.Status.LifecycleState)
	if done, err := kube.HoldFinalizer(ctx, r.Client, fd); done || err != nil {
		return ctrl.Result{}, err
	}
	facts, obs, flink := r.observe(ctx, fd)
	settings := facts.settings
	d := lifecycle.Next(lifecycle.Input{Deployment: fd, Observed: obs, Settings: settings, Compared: facts.compared})
	return r.Hooks.Finish(ctx, r.Recorder, fd, round.Decided{
		Record: func() error { return r.record(ctx, fd, d.Status) },
		Events: d.Events, Action: d.Action,
		Act:          func() error { return r.act(ctx, fd, flink, d.Action) },
		RequeueAfter: d.RequeueAfter, RetryAfter: settings.ProgressInterval, ObserveInterval: settings.ObserveInterval,
	})
}

// record writes the decided status, guarded by the resource version.
func (r *Reconciler) record(ctx context.Context, fd *v1beta1.FlinkDeployment, status v1beta1.FlinkDeploymentStatus) error {
	if equality.Semantic.DeepEqual(fd.Status, status) {
		return nil
	}
	before := fd.DeepCopy()
	fd.Status = status
	if err := kube.PatchStatus(ctx, r.Client, fd, before); err != nil {
		return err
	}
	r.Metrics.recorded(r.now(), before, fd)
	return nil
}
