// Package sessionjob reconciles FlinkSessionJobs: it observes the session cluster the
// job names and the job in it, asks internal/lifecycle what to do, records the status
// that decision returns (the write-ahead log), then takes its one action — submitting
// the job's jar, cancelling the job, a snapshot, or letting the resource go.
package sessionjob

import (
	"context"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/controller/round"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/kube"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/opmetrics"
)

// Reconciler runs FlinkSessionJobs.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Flink reaches a session cluster's REST API.
	Flink deployment.FlinkClientFor
	// Defaults are the operator's default Flink options (the session clusters are
	// rendered with them to find their REST port).
	Defaults flinkconf.Config
	// Settings are the operator's default lifecycle settings; each job's
	// kubernetes.operator.* options override them.
	Settings lifecycle.Settings
	// Artifacts fetches the jobs' jars.
	Artifacts *artifact.Fetcher
	// Secrets reads the Secrets of the jars' credentials (the cache keeps no Secrets).
	Secrets client.Reader
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// JobDetails remembers steady jobs' details between rounds (nil: read every round).
	JobDetails *flinkjob.Memory
	// Hooks run around each action (the crash tests' kill points).
	Hooks round.Hooks
	// States counts the session jobs by lifecycle state (nil: not counted).
	States *opmetrics.StateGauge
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile takes one step of one FlinkSessionJob.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sj := &v1beta1.FlinkSessionJob{}
	if err := r.Client.Get(ctx, req.NamespacedName, sj); err != nil {
		r.JobDetails.Forget(req.NamespacedName)
		r.States.Forget(req.NamespacedName)
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.States.Set(req.NamespacedName, string(sj.Status.LifecycleState))
	if done, err := kube.HoldFinalizer(ctx, r.Client, sj); done || err != nil {
		return ctrl.Result{}, err
	}
	o := r.observe(ctx, sj)
	d := lifecycle.NextSessionJob(sj, o.Observation, o.settings)
	return r.Hooks.Finish(ctx, r.Recorder, sj, round.Decided{
		Record: func() error {
			if err := kube.RecordStatus(ctx, r.Client, sj, &sj.Status, d.Status); err != nil {
				return err
			}
			r.States.Set(req.NamespacedName, string(sj.Status.LifecycleState))
			return nil
		},
		Events: d.Events, Action: d.Action,
		Act:          func() error { return r.act(ctx, sj, o, d.Action) },
		RequeueAfter: d.RequeueAfter, RetryAfter: o.settings.ProgressInterval, ObserveInterval: o.settings.ObserveInterval,
	})
}
