package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// jobEdit changes a job's spec, its restartNonce or its flinkConfiguration.
type jobEdit func(job *v1beta1.JobSpec, restartNonce **int64, conf **runtime.RawExtension) error

// change applies edit to the referenced resource's job and spec, as one patch.
func (c *Client) change(ctx context.Context, ref string, edit jobEdit) (client.Object, error) {
	obj, err := c.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	return c.changeObject(ctx, obj, edit)
}

// changeObject applies edit to obj, already read, as one patch.
func (c *Client) changeObject(ctx context.Context, obj client.Object, edit jobEdit) (client.Object, error) {
	name := obj.GetName()
	var err error
	before := obj.DeepCopyObject().(client.Object)
	switch o := obj.(type) {
	case *v1beta1.FlinkDeployment:
		if o.Spec.Job == nil {
			return nil, fmt.Errorf("%s is a session cluster: it has no job of its own (its jobs are FlinkSessionJobs)", name)
		}
		err = edit(o.Spec.Job, &o.Spec.RestartNonce, &o.Spec.FlinkConfiguration)
	case *v1beta1.FlinkSessionJob:
		if o.Spec.Job == nil {
			return nil, fmt.Errorf("%s has no job", name)
		}
		err = edit(o.Spec.Job, &o.Spec.RestartNonce, &o.Spec.FlinkConfiguration)
	}
	if err != nil {
		return nil, err
	}
	if err := c.API.Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return nil, explain(err, c.Config.Host)
	}
	return obj, nil
}

func bump(nonce **int64) {
	next := int64(1)
	if *nonce != nil {
		next = **nonce + 1
	}
	*nonce = &next
}

// Savepoint asks for a savepoint (a new savepointTriggerNonce).
func (c *Client) Savepoint(ctx context.Context, name string) (client.Object, error) {
	return c.change(ctx, name, func(job *v1beta1.JobSpec, _ **int64, _ **runtime.RawExtension) error {
		bump(&job.SavepointTriggerNonce)
		return nil
	})
}

// Restart restarts the job with the same spec (a new restartNonce).
func (c *Client) Restart(ctx context.Context, name string) (client.Object, error) {
	return c.change(ctx, name, func(_ *v1beta1.JobSpec, nonce **int64, _ **runtime.RawExtension) error {
		bump(nonce)
		return nil
	})
}

// SetState suspends (or resumes) the job.
func (c *Client) SetState(ctx context.Context, name string, state v1beta1.JobState) (client.Object, error) {
	return c.change(ctx, name, func(job *v1beta1.JobSpec, _ **int64, _ **runtime.RawExtension) error {
		if job.State == state || (job.State == "" && state == v1beta1.JobStateRunning) {
			return fmt.Errorf("%s is already %s", name, state)
		}
		job.State = state
		return nil
	})
}

// SetParallelism changes the job's parallelism: an upgrade, carrying its state as its
// upgradeMode says.
func (c *Client) SetParallelism(ctx context.Context, name string, parallelism int32) (client.Object, error) {
	if parallelism < 1 {
		return nil, fmt.Errorf("parallelism %d: it must be 1 or more", parallelism)
	}
	return c.change(ctx, name, func(job *v1beta1.JobSpec, _ **int64, _ **runtime.RawExtension) error {
		if job.Parallelism == parallelism {
			return fmt.Errorf("%s already runs with parallelism %d", name, parallelism)
		}
		job.Parallelism = parallelism
		return nil
	})
}

// savepointOnDeletion is the option that makes deletion stop the job with a savepoint.
const savepointOnDeletion = "kubernetes.operator.job.savepoint-on-deletion"

// Delete deletes the resource; with savepoint, its job is first stopped with a
// savepoint (kubernetes.operator.job.savepoint-on-deletion). It returns the resource as
// it was last written, to follow its deletion.
func (c *Client) Delete(ctx context.Context, ref string, savepoint bool) (client.Object, error) {
	obj, err := c.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if savepoint {
		if obj, err = c.changeObject(ctx, obj, func(_ *v1beta1.JobSpec, _ **int64, conf **runtime.RawExtension) error {
			return setOption(conf, savepointOnDeletion, "true")
		}); err != nil {
			return nil, err
		}
	}
	if err := c.API.Delete(ctx, obj); err != nil {
		return nil, explain(err, c.Config.Host)
	}
	return obj, nil
}

// StopSession deletes a session cluster. While FlinkSessionJobs still name it, it is
// refused unless force, which marks it for the operator (v1beta1.ForceDeletionAnnotation)
// to remove anyway; those jobs then wait for a session of that name.
func (c *Client) StopSession(ctx context.Context, name string, force bool) (client.Object, error) {
	obj, err := c.Get(ctx, "flinkdeployment/"+name)
	if err != nil {
		return nil, err
	}
	fd := obj.(*v1beta1.FlinkDeployment)
	if fd.Spec.Job != nil {
		return nil, fmt.Errorf("%s is an application, not a session cluster (`flok delete %s` deletes it)", name, name)
	}
	sessionJobs, err := c.SessionJobsOf(ctx, name)
	if err != nil {
		return nil, err
	}
	var jobs []string
	for _, sj := range sessionJobs {
		jobs = append(jobs, sj.Name)
	}
	if len(jobs) > 0 && !force {
		return nil, fmt.Errorf("session cluster %s still runs session jobs %s: delete them first (`flok delete %s`), or stop it anyway with --force (the jobs then wait for a session of that name)",
			name, strings.Join(jobs, ", "), jobs[0])
	}
	if force {
		before := fd.DeepCopy()
		metav1.SetMetaDataAnnotation(&fd.ObjectMeta, v1beta1.ForceDeletionAnnotation, "true")
		if err := c.API.Patch(ctx, fd, client.MergeFrom(before)); err != nil {
			return nil, explain(err, c.Config.Host)
		}
	}
	if err := c.API.Delete(ctx, fd); err != nil {
		return nil, explain(err, c.Config.Host)
	}
	return fd, nil
}

// SessionJobsOf are the FlinkSessionJobs of the namespace that run on the session
// cluster.
func (c *Client) SessionJobsOf(ctx context.Context, session string) ([]v1beta1.FlinkSessionJob, error) {
	list := &v1beta1.FlinkSessionJobList{}
	if err := c.API.List(ctx, list, client.InNamespace(c.Namespace)); err != nil {
		return nil, explain(err, c.Config.Host)
	}
	return slices.DeleteFunc(list.Items, func(sj v1beta1.FlinkSessionJob) bool { return sj.Spec.DeploymentName != session }), nil
}

// setOption sets one Flink option in a flinkConfiguration, kept flat.
func setOption(conf **runtime.RawExtension, key, value string) error {
	var current flinkconf.Config
	if *conf != nil {
		var err error
		if current, err = flinkconf.Parse((*conf).Raw); err != nil {
			return err
		}
	}
	current = flinkconf.Merge(current, flinkconf.Config{key: value})
	raw, err := json.Marshal(current)
	if err != nil {
		return err
	}
	*conf = &runtime.RawExtension{Raw: raw}
	return nil
}

// Progress is one step of a change as the operator reports it.
type Progress struct {
	Elapsed   time.Duration
	Lifecycle string
	Step      string
	// Repeat: the same step as the last report, a second later (a terminal redraws
	// its line; a log skips it).
	Repeat bool
}

// ErrStoppedWaiting ends a wait that the user stopped (Ctrl-C or --timeout).
var ErrStoppedWaiting = errors.New("stopped waiting")

// ErrDegraded ends a wait when the operator reports that the change cannot go on.
var ErrDegraded = errors.New("the change did not go through")

// maxReadFailures is how many reads in a row (one a second) may fail before Wait gives
// up: an API server restarting or throttling for a while does not end a long wait.
const maxReadFailures = 30

// Wait follows obj (a FlinkDeployment or FlinkSessionJob, as returned by the change)
// until done says it is finished, reporting each new step. It stops early when the
// resource is gone (deleted says whether that is the goal), when the operator reports
// the current generation blocked, or when the job is suspended and done needs it to
// run. Ctrl-C or a deadline (ctx) stops the waiting, never the change.
func (c *Client) Wait(ctx context.Context, obj client.Object, deleted bool, done func(client.Object) bool, report func(Progress)) error {
	start := time.Now()
	last, hinted, failures := "", false, 0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		// A fresh object each time: decoding into a used one would keep fields the
		// server no longer sends (a finished operation, say).
		now := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
		err := c.API.Get(ctx, client.ObjectKeyFromObject(obj), now)
		switch {
		case apierrors.IsNotFound(err) && deleted:
			report(Progress{Elapsed: time.Since(start), Lifecycle: "DELETED", Step: "gone"})
			return nil
		case apierrors.IsNotFound(err):
			return fmt.Errorf("%s was deleted while waiting", obj.GetName())
		case err != nil && ctx.Err() == nil:
			if failures++; failures >= maxReadFailures || !transient(err) {
				return explain(err, c.Config.Host)
			}
			report(Progress{Elapsed: time.Since(start), Lifecycle: "WAITING", Step: "reading it failed, trying again: " + err.Error()})
			last = ""
		case err == nil:
			failures = 0
			p := progressOf(now)
			p.Elapsed = time.Since(start)
			p.Repeat = p.Lifecycle+p.Step == last
			last = p.Lifecycle + p.Step
			report(p)
			if !hinted && time.Since(start) > operatorSilence && unobserved(now) {
				hinted, last = true, ""
				report(Progress{Elapsed: time.Since(start), Lifecycle: "WAITING", Step: fmt.Sprintf(
					"the operator has not looked at this change for %s: is flok-operator running? (kubectl -n flok-system get pods; flok install)", operatorSilence)})
			}
			if done(now) {
				return nil
			}
			if msg := blocked(now, deleted); msg != "" {
				return fmt.Errorf("%w: %s", ErrDegraded, msg)
			}
		}
		select {
		case <-ctx.Done():
			why := "interrupted"
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why = "timed out"
			}
			return fmt.Errorf("%w (%s); the operator goes on with the change (see `flok status %s`)", ErrStoppedWaiting, why, obj.GetName())
		case <-tick.C:
		}
	}
}

// transient reports an API error that goes away by itself: throttling, a timeout, an
// API server (re)starting.
func transient(err error) bool {
	var netErr net.Error
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) || errors.Is(err, syscall.ECONNREFUSED) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}

// Observed reports that the operator has taken up generation of obj (or a later one).
func Observed(obj client.Object, generation int64) bool {
	common, _ := v1beta1.StatusOf(obj)
	return common.ObservedGeneration >= generation
}

// operatorSilence is how long a change may go unobserved before Wait suggests that the
// operator is not running.
const operatorSilence = 30 * time.Second

// unobserved reports a resource whose current generation the operator has not taken
// up (it records the generation it reconciled, or an operation, at once).
func unobserved(obj client.Object) bool {
	common, _ := v1beta1.StatusOf(obj)
	return !Observed(obj, obj.GetGeneration()) && common.Operation == nil
}

func progressOf(obj client.Object) Progress {
	common, conditions := v1beta1.StatusOf(obj)
	p := Progress{Lifecycle: string(common.LifecycleState)}
	switch {
	case common.Operation != nil:
		p.Step = fmt.Sprintf("%s: %s", common.Operation.Kind, dash(common.Operation.Message))
	default:
		if r := meta.FindStatusCondition(conditions, lifecycle.ConditionReady); r != nil {
			p.Step = r.Message
		}
	}
	return p
}

// blocked says why waiting cannot end well: a Degraded condition on the current
// generation after which the operator waits for the user (lifecycle.WaitsForUser), or,
// unless the resource is being deleted, a job suspended by its spec.
func blocked(obj client.Object, deleting bool) string {
	common, conditions := v1beta1.StatusOf(obj)
	if d := meta.FindStatusCondition(conditions, lifecycle.ConditionDegraded); d != nil && d.Status == metav1.ConditionTrue &&
		d.ObservedGeneration == obj.GetGeneration() && lifecycle.WaitsForUser(d.Reason) {
		return d.Reason + ": " + d.Message
	}
	if !deleting && Suspended(obj) && common.LifecycleState == v1beta1.LifecycleSuspended && Observed(obj, obj.GetGeneration()) {
		return fmt.Sprintf("%s is suspended: the change applies when it runs again (`flok resume %s`)", obj.GetName(), obj.GetName())
	}
	return ""
}

// JobOf is the job spec of a FlinkDeployment (nil for a session cluster) or FlinkSessionJob.
func JobOf(obj client.Object) *v1beta1.JobSpec {
	switch o := obj.(type) {
	case *v1beta1.FlinkDeployment:
		return o.Spec.Job
	case *v1beta1.FlinkSessionJob:
		return o.Spec.Job
	}
	return nil
}

// Running reports a resource whose current spec runs: STABLE, its job RUNNING, nothing
// in progress.
func Running(obj client.Object) bool {
	common, _ := v1beta1.StatusOf(obj)
	return common.Operation == nil && common.LifecycleState == v1beta1.LifecycleStable &&
		common.JobStatus.State == "RUNNING" && Observed(obj, obj.GetGeneration())
}
