package statesnapshot

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/validation"
)

// observed is what one round saw, and what its action needs.
type observed struct {
	lifecycle.StateSnapshotObservation
	// flink is the REST client of the cluster that runs the referenced job; nil when
	// there is no such cluster.
	flink *flinkrest.Client
	// noCluster says why flink is nil.
	noCluster string
}

// observe finds the referenced job, its cluster and default savepoint directory, and
// asks Flink how the snapshot under way goes.
func (r *Reconciler) observe(ctx context.Context, snap *v1beta1.FlinkStateSnapshot) observed {
	o := observed{StateSnapshotObservation: lifecycle.StateSnapshotObservation{Now: time.Now()}}
	o.Invalid = validation.Message(validation.CheckStateSnapshot(snap))
	st := snap.Status
	if settled(snap) {
		return o // nothing to trigger, follow or dispose of
	}
	if ref := snap.Spec.JobReference; ref != nil && o.Invalid == "" {
		r.observeJob(ctx, snap.Namespace, *ref, &o)
	}
	if st.State != v1beta1.SnapshotInProgress || st.TriggerID == "" || o.NotRunning != "" {
		return o
	}
	if o.flink == nil {
		o.Unanswered = o.noCluster
		return o
	}
	op := flinkrest.Operation{Kind: flinkrest.SavepointOperation, JobID: o.JobID, TriggerID: flinkrest.TriggerID(st.TriggerID)}
	if snap.Spec.Checkpoint != nil {
		op.Kind = flinkrest.CheckpointOperation
	}
	res, err := flinkjob.SnapshotResult(ctx, o.flink, op)
	if err != nil {
		o.Unanswered = err.Error()
		return o
	}
	o.Result = res
	return o
}

// settled reports a snapshot that has ended and is not being deleted.
func settled(snap *v1beta1.FlinkStateSnapshot) bool {
	switch snap.Status.State {
	case v1beta1.SnapshotCompleted, v1beta1.SnapshotFailed, v1beta1.SnapshotAbandoned:
		return snap.DeletionTimestamp == nil
	}
	return false
}

// observeJob reads the job a snapshot names: its id and state from its resource's
// status, its cluster's REST client and its default savepoint directory.
func (r *Reconciler) observeJob(ctx context.Context, ns string, ref v1beta1.JobReference, o *observed) {
	key := client.ObjectKey{Namespace: ns, Name: ref.Name}
	var status *v1beta1.CommonStatus
	var cluster *v1beta1.FlinkDeployment
	var jobConf flinkconf.Config
	switch ref.Kind {
	case v1beta1.KindFlinkDeployment:
		fd := &v1beta1.FlinkDeployment{}
		if !r.get(ctx, key, fd, ref.Kind, o) {
			return
		}
		if fd.Spec.Job == nil {
			o.Invalid = fmt.Sprintf("spec.jobReference: FlinkDeployment %s is a session cluster and runs no job of its own; name the FlinkSessionJob whose job to snapshot", fd.Name)
			return
		}
		status, cluster = &fd.Status.CommonStatus, fd
	default:
		sj := &v1beta1.FlinkSessionJob{}
		if !r.get(ctx, key, sj, ref.Kind, o) {
			return
		}
		status, cluster = &sj.Status.CommonStatus, &v1beta1.FlinkDeployment{}
		if !r.get(ctx, client.ObjectKey{Namespace: ns, Name: sj.Spec.DeploymentName}, cluster, "session cluster FlinkDeployment", o) {
			return
		}
		jobConf, _ = validation.SessionJobConfig(sj)
	}
	o.JobID = status.JobStatus.JobID
	o.NotRunning = notRunning(ref, status)
	if cluster.DeletionTimestamp != nil {
		o.JobGone = fmt.Sprintf("FlinkDeployment %s is being deleted", cluster.Name)
	}
	r.reach(ctx, cluster, jobConf, o)
}

// get reads obj; false, with NotRunning saying why, when it cannot be read.
func (r *Reconciler) get(ctx context.Context, key client.ObjectKey, obj client.Object, kind string, o *observed) bool {
	err := r.Client.Get(ctx, key, obj)
	switch {
	case apierrors.IsNotFound(err):
		o.NotRunning = fmt.Sprintf("there is no %s %s in namespace %s", kind, key.Name, key.Namespace)
		o.JobGone = o.NotRunning
	case err != nil:
		o.NotRunning = fmt.Sprintf("reading %s %s: %v", kind, key.Name, err)
	}
	o.noCluster = o.NotRunning
	return err == nil
}

// notRunning says why the job a resource's status records cannot take a snapshot;
// "" when it runs and nothing else is under way.
func notRunning(ref v1beta1.JobReference, status *v1beta1.CommonStatus) string {
	js := status.JobStatus
	switch {
	case js.JobID == "" || js.State == "":
		return fmt.Sprintf("%s %s has not started its job yet", ref.Kind, ref.Name)
	case js.State != lifecycle.JobRunning:
		return fmt.Sprintf("job %s of %s %s is %s, not RUNNING", js.JobID, ref.Kind, ref.Name, js.State)
	case status.Operation != nil:
		return fmt.Sprintf("%s %s is in the middle of %s (%s)", ref.Kind, ref.Name, status.Operation.Kind, status.Operation.Step)
	}
	return ""
}

// reach renders the cluster that runs the job to find its REST port and its
// savepoint directory (the job's own options over the cluster's).
func (r *Reconciler) reach(ctx context.Context, cluster *v1beta1.FlinkDeployment, jobConf flinkconf.Config, o *observed) {
	objs, flink, err := r.Flink.Cluster(ctx, cluster, r.Defaults)
	if objs != nil {
		o.SavepointDir = flinkconf.Merge(objs.Configuration, jobConf).SavepointDir()
	}
	if o.flink = flink; err != nil {
		o.noCluster = err.Error()
	}
}
