package lifecycle

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Condition types of a FlinkDeployment.
const (
	ConditionReady       = "Ready"
	ConditionProgressing = "Progressing"
	ConditionDegraded    = "Degraded"
)

// Reasons of conditions and events.
const (
	reasonJobRunning         = "JobRunning"
	reasonJobDeployed        = "JobDeployed"
	reasonJobFailed          = "JobFailed"
	reasonJobNotRunning      = "JobNotRunning"
	reasonSuspended          = "Suspended"
	reasonInProgress         = "InProgress"
	reasonIdle               = "Idle"
	reasonHealthy            = "Healthy"
	reasonInvalidSpec        = "InvalidSpec"
	reasonInvalidStatus      = "InvalidStatus"
	reasonSavepointFailed    = "SavepointFailed"
	reasonSavepointCompleted = "SavepointCompleted"
	reasonCheckpointFailed   = "CheckpointFailed"
	reasonCheckpointDone     = "CheckpointCompleted"
	reasonNoState            = "NoStateToCarry"
	reasonRecordedState      = "FromRecordedState"
	reasonRedeploy           = "SavepointRedeploy"
	reasonClusterFailing     = "ClusterFailing"
	reasonClusterLost        = "ClusterLost"
	reasonStateLost          = "StateUnrecoverable"
	reasonNotReady           = "NotReadyInTime"
	reasonRolledBack         = "RolledBack"
	reasonStable             = "Stable"
	reasonJobException       = "JobException"
	reasonRestartLoop        = "RestartLoop"
	reasonCheckpointsStalled = "CheckpointsStalled"
	reasonArtifact           = "ArtifactUnavailable"
	reasonDeletionBlocked    = "DeletionBlocked"
	reasonWaitingForSession  = "WaitingForSession"
	reasonSessionUpgrade     = "SessionUpgrade"
	reasonWaiting            = "Waiting"
	reasonLoggingUpdated     = "LoggingUpdated"
	reasonFlinkTLS           = "FlinkTLSFailed"
	reasonJobRecovered       = "JobRecovered"
)

// DegradedReasons are every reason a Degraded condition carries: the kinds of incident
// of a Flink job that alerts are sent for.
var DegradedReasons = []string{
	reasonJobFailed, reasonStateLost, reasonRestartLoop, reasonClusterFailing, reasonCheckpointsStalled,
	reasonSavepointFailed, reasonNoState, reasonRolledBack, reasonNotReady, reasonOOMKilled,
	reasonDeletionBlocked, reasonArtifact, reasonInvalidSpec, reasonInvalidStatus, reasonFlinkTLS,
}

// blockingReasons keep a generation from being retried until the spec changes again.
var blockingReasons = map[string]bool{reasonSavepointFailed: true, reasonNoState: true, reasonInvalidSpec: true, reasonRolledBack: true}

// userReasons are the other Degraded reasons after which Flok does not go on by itself:
// a job it does not restart, state it cannot find, a jar it cannot fetch, a deletion
// it refuses.
var userReasons = map[string]bool{reasonJobFailed: true, reasonStateLost: true, reasonArtifact: true, reasonDeletionBlocked: true}

// WaitsForUser reports a Degraded reason after which the current spec goes no further
// until the user acts (changes the spec, a nonce, an annotation, or the cause): what a
// client waiting for a change should stop waiting on.
func WaitsForUser(reason string) bool { return blockingReasons[reason] || userReasons[reason] }

func (d *decider) setCondition(kind string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&d.status.Conditions, metav1.Condition{
		Type: kind, Status: status, Reason: reason, Message: message,
		ObservedGeneration: d.fd.Generation, LastTransitionTime: metaTime(d.now()),
	})
}

// degrade marks the deployment Degraded, with an event when the reason or message is
// new.
//
// A blocked change outranks other troubles: its condition stays (it keeps the same
// spec from being tried again) and the newer trouble is only an event.
func (d *decider) degrade(reason, message string) {
	c := meta.FindStatusCondition(d.status.Conditions, ConditionDegraded)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != reason || c.Message != message {
		d.warn(reason, "%s", message)
	}
	d.markDegraded(reason, message)
}

// markDegraded marks the deployment Degraded without an event of its own: for
// troubles whose events are sent where they are found.
func (d *decider) markDegraded(reason, message string) {
	d.degraded = true
	if d.blockedGeneration() && !blockingReasons[reason] {
		return
	}
	d.setCondition(ConditionDegraded, metav1.ConditionTrue, reason, message)
	d.status.Error = message
}

// blockedGeneration reports whether the current generation's change already failed.
func (d *decider) blockedGeneration() bool {
	c := meta.FindStatusCondition(d.status.Conditions, ConditionDegraded)
	return c != nil && c.Status == metav1.ConditionTrue && blockingReasons[c.Reason] && c.ObservedGeneration == d.fd.Generation
}

// rejectSpec reports a spec that does not render; the last valid spec, if any, keeps
// running.
func (d *decider) rejectSpec(running bool) {
	msg := "the spec cannot be deployed: " + d.obs.RenderError
	if running {
		msg += "; the last valid spec keeps running"
	}
	d.degrade(reasonInvalidSpec, msg)
}

// checkFlinkTLS reports a REST API Flok cannot speak TLS with as configured: a wrong
// CA, a refused client certificate or an unreadable TLS Secret does not pass by
// waiting, and the job goes unobserved (and unchanged) until it is fixed.
//
// Another trouble found this round, or a change that failed, outranks it: the
// condition keeps one reason, and an event is sent only when it takes this one.
func (d *decider) checkFlinkTLS() {
	if d.obs.FlinkTLS != "" && d.fd.DeletionTimestamp == nil && !d.degraded && !d.blockedGeneration() {
		d.degrade(reasonFlinkTLS, "Flok cannot speak TLS with Flink's REST API: "+d.obs.FlinkTLS)
	}
}

// finish sets Ready, Progressing and (when nothing is wrong) clears Degraded, and
// chooses when to look again.
func (d *decider) finish() {
	op := d.status.Operation
	switch {
	case d.waiting != "" && d.obs.SessionUnavailable != "":
		d.setCondition(ConditionProgressing, metav1.ConditionTrue, reasonWaitingForSession, d.waiting)
		d.setCondition(ConditionReady, metav1.ConditionFalse, reasonWaitingForSession, d.waiting)
	case d.waiting != "":
		d.setCondition(ConditionProgressing, metav1.ConditionTrue, reasonWaiting, d.waiting)
		d.setCondition(ConditionReady, metav1.ConditionFalse, reasonWaiting, d.waiting)
	case op != nil:
		d.setCondition(ConditionProgressing, metav1.ConditionTrue, string(op.Kind)+string(op.Step), op.Message)
		d.setCondition(ConditionReady, metav1.ConditionFalse, reasonInProgress, string(op.Kind)+" in progress")
	default:
		d.setCondition(ConditionProgressing, metav1.ConditionFalse, reasonIdle, "")
		d.setReady()
	}
	if d.out.RequeueAfter == 0 {
		d.out.RequeueAfter = d.set.ObserveInterval
		// A deployed job is looked at soon again to be found STABLE.
		switch {
		case d.pendingSnapshot():
			d.out.RequeueAfter = d.snapshotAfter()
		case op != nil || d.waiting != "" || d.status.LifecycleState == v1beta1.LifecycleDeployed:
			d.out.RequeueAfter = d.progressAfter()
		}
	}
}

func (d *decider) setReady() {
	switch {
	case d.status.LifecycleState == v1beta1.LifecycleSuspended:
		d.setCondition(ConditionReady, metav1.ConditionFalse, reasonSuspended, "the job is suspended")
	case d.isSession() && d.sessionAnswers(), d.jobRunning() && d.obs.Cluster == ClusterReady:
		msg := "job " + d.status.JobStatus.JobID + " is running"
		if d.isSession() {
			msg = "the session cluster is ready"
		}
		d.setCondition(ConditionReady, metav1.ConditionTrue, reasonJobRunning, msg)
		if c := meta.FindStatusCondition(d.status.Conditions, ConditionDegraded); c != nil && !d.degraded && !(blockingReasons[c.Reason] && c.ObservedGeneration == d.fd.Generation) {
			d.setCondition(ConditionDegraded, metav1.ConditionFalse, reasonHealthy, "")
			d.status.Error = ""
		}
	default:
		state := d.status.JobStatus.State
		if state == "" {
			state = "not reported"
		}
		d.setCondition(ConditionReady, metav1.ConditionFalse, reasonJobNotRunning, "the job is "+state)
	}
}

func (d *decider) pendingSnapshot() bool {
	js := d.status.JobStatus
	return (js.SavepointInfo != nil && js.SavepointInfo.TriggerID != "") || (js.CheckpointInfo != nil && js.CheckpointInfo.TriggerID != "")
}
