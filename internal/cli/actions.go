package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// change applies edit to the named resource's job and spec, as one patch.
func (c *Client) change(ctx context.Context, name string, edit func(job *v1beta1.JobSpec, restartNonce **int64, conf **runtime.RawExtension) error) (client.Object, error) {
	obj, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
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

// savepointOnDeletion is the option that makes deletion stop the job with a savepoint.
const savepointOnDeletion = "kubernetes.operator.job.savepoint-on-deletion"

// Delete deletes the resource; with savepoint, its job is first stopped with a
// savepoint (kubernetes.operator.job.savepoint-on-deletion).
func (c *Client) Delete(ctx context.Context, name string, savepoint bool) (client.Object, error) {
	obj, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	if savepoint {
		obj, err = c.change(ctx, name, func(_ *v1beta1.JobSpec, _ **int64, conf **runtime.RawExtension) error {
			return setOption(conf, savepointOnDeletion, "true")
		})
		if err != nil {
			return nil, err
		}
	}
	if err := c.API.Delete(ctx, obj); err != nil {
		return nil, explain(err, c.Config.Host)
	}
	return obj, nil
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

// ErrStoppedWaiting ends a wait that the user stopped (Ctrl-C).
var ErrStoppedWaiting = errors.New("stopped waiting")

// ErrDegraded ends a wait when the operator reports that the change cannot go on.
var ErrDegraded = errors.New("the change did not go through")

// Wait follows the resource until done says it is finished, reporting each new step;
// it stops early when the resource is gone (deleted reports whether that is the
// goal) or the operator reports the current generation blocked. Ctrl-C (ctx) stops
// the waiting, never the change.
func (c *Client) Wait(ctx context.Context, name string, deleted bool, done func(client.Object) bool, report func(Progress)) error {
	start := time.Now()
	last, hinted := "", false
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		obj, err := c.Get(ctx, name)
		var nf *NotFoundError
		switch {
		case errors.As(err, &nf) && deleted:
			report(Progress{Elapsed: time.Since(start), Lifecycle: "DELETED", Step: "gone"})
			return nil
		case err != nil && ctx.Err() == nil:
			return err
		case err == nil:
			p := progressOf(obj)
			p.Elapsed = time.Since(start)
			if key := p.Lifecycle + p.Step; key != last {
				last = key
				report(p)
			} else {
				p.Repeat = true
				report(p)
			}
			if !hinted && time.Since(start) > operatorSilence && unobserved(obj) {
				hinted = true
				report(Progress{Elapsed: time.Since(start), Lifecycle: "WAITING", Step: fmt.Sprintf(
					"the operator has not looked at this change for %s: is flok-operator running? (kubectl -n flok-system get pods; flok install)", operatorSilence)})
			}
			if done(obj) {
				return nil
			}
			if msg := blocked(obj); msg != "" {
				return fmt.Errorf("%w: %s", ErrDegraded, msg)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; the operator goes on with the change (see `flok status %s`)", ErrStoppedWaiting, name)
		case <-tick.C:
		}
	}
}

// operatorSilence is how long a change may go unobserved before Wait suggests that the
// operator is not running.
const operatorSilence = 30 * time.Second

// unobserved reports a resource whose current generation the operator has not taken
// up (it records the generation it reconciled, or an operation, at once).
func unobserved(obj client.Object) bool {
	common, _ := StatusOf(obj)
	return common.ObservedGeneration < obj.GetGeneration() && common.Operation == nil
}

func progressOf(obj client.Object) Progress {
	common, conditions := StatusOf(obj)
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

// blocked is the message of a Degraded condition on the current generation after which
// the operator waits for the user (lifecycle.WaitsForUser).
func blocked(obj client.Object) string {
	_, conditions := StatusOf(obj)
	d := meta.FindStatusCondition(conditions, lifecycle.ConditionDegraded)
	if d == nil || d.Status != metav1.ConditionTrue || d.ObservedGeneration != obj.GetGeneration() || !lifecycle.WaitsForUser(d.Reason) {
		return ""
	}
	return d.Reason + ": " + d.Message
}

// StatusOf is the status and conditions of a FlinkDeployment or FlinkSessionJob.
func StatusOf(obj client.Object) (v1beta1.CommonStatus, []metav1.Condition) {
	switch o := obj.(type) {
	case *v1beta1.FlinkDeployment:
		return o.Status.CommonStatus, o.Status.Conditions
	case *v1beta1.FlinkSessionJob:
		return o.Status.CommonStatus, o.Status.Conditions
	}
	return v1beta1.CommonStatus{}, nil
}

// Running reports a resource whose current spec runs: STABLE, its job RUNNING, nothing
// in progress.
func Running(obj client.Object) bool {
	common, _ := StatusOf(obj)
	return common.Operation == nil && common.LifecycleState == v1beta1.LifecycleStable &&
		common.JobStatus.State == "RUNNING" && common.ObservedGeneration >= obj.GetGeneration()
}
