package lifecycle

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
)

// FuzzNext walks an application through rounds the fuzzer scripts — the user's edits
// (upgrades, suspend and resume, upgrade modes, deletion, nonces) and what the
// controller observes (the cluster, the job and its checkpoints, savepoint answers, HA
// metadata, time passing) — recording each decision's status for the next round as the
// controller does. Every round Next must not panic, must decide the same twice and
// leave its input alone (decide checks), and must keep Flok's promises:
//   - nothing lost: a job that had recorded state is never deployed without it unless
//     the operation is stateless or keeps the HA metadata it recovers from;
//   - a savepoint Flink reports for the operation under way is in the status written
//     before the next action;
//   - no two jobs: a new deployment begins only once the old cluster is gone (or on a
//     first deployment or a lost cluster).
//
// FUZZ_TRACE=1 logs each round of a walk (go test -v -run=FuzzNext/<input>).
func FuzzNext(f *testing.F) {
	f.Add([]byte{0, 8, 0x13, 0, 0x31, 0, 0, 1, 0x40, 0, 0, 0, 0x10, 0, 0, 0, 0x10})
	f.Add([]byte{1, 9, 0x13, 0x80, 0x31, 0, 0, 1, 0x40, 0, 0, 0, 0x10, 10, 0x13, 0x80, 0})
	f.Add([]byte{0, 0x1b, 0x13, 0x80, 0, 8, 0x13, 0, 0x12, 0, 0x13, 0, 0xf2, 0, 0, 0, 0xf0})
	f.Add([]byte{1, 12, 0x13, 0, 0x31, 0, 0x13, 0, 0x32, 0, 0, 0, 0x10})
	f.Add([]byte{2, 8, 0x13, 0, 0x31, 0, 0x90, 0, 0x40, 0, 0, 0, 0x10, 9, 0x13, 0x80, 0x31})
	f.Add([]byte{2, 0x1b, 0x13, 0x80, 0, 8, 0x13, 0x80, 0, 0, 0x90, 0x80, 0x30, 0, 0x13, 0, 0x10})
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) == 0 {
			return
		}
		w := newWalk(script[0])
		for step, i := 0, 1; i+4 <= len(script) && step < 64; step, i = step+1, i+4 {
			w.edit(script[i])
			obs := w.observe(step, script[i+1], script[i+2], script[i+3])
			before := w.fd
			d := w.decide(t, obs)
			if os.Getenv("FUZZ_TRACE") != "" {
				var op string
				if o := d.Status.Operation; o != nil {
					op = fmt.Sprintf("%s/%s", o.Kind, o.Step)
				}
				t.Logf("round %d: state=%s lifecycle=%s op=%s action=%s job=%s cluster=%s up=%v obsjob=%v events=%v", step, before.Spec.Job.State, d.Status.LifecycleState, op, d.Action.Type, d.Action.JobID, obs.Cluster, w.clusterUp, obs.Job != nil, d.Events)
			}
			if msg := promiseBroken(before, obs, d); msg != "" {
				t.Fatalf("round %d: %s\nspec: %+v deleted: %v\nstatus before: %s\nobserved: %+v\njob: %+v\nsavepoint: %+v\naction: %+v\nstatus after: %s\nevents: %+v",
					step, msg, before.Spec.Job, before.DeletionTimestamp != nil, statusJSON(before.Status), obs, obs.Job, obs.Savepoint, d.Action, statusJSON(d.Status), d.Events)
			}
			if msg := w.twoJobs(d.Action); msg != "" {
				t.Fatalf("round %d: %s\nstatus before: %s\naction: %+v", step, msg, statusJSON(before.Status), d.Action)
			}
			w.act(d.Action)
			w.fd = then(before, d)
			if d.Action.Type == ActionRemoveFinalizer {
				return // the resource is gone
			}
		}
	})
}

// walk is the resource, the clock and the world of one scripted walk: whether a
// cluster runs and which job it was deployed with, whether HA metadata exists. The
// world changes only by the decisions' actions — and by the cluster being lost, when
// the script says so. A session job's walk sees the resource as NextSessionJob does:
// its "cluster" is its job in the session cluster.
type walk struct {
	fd               *v1beta1.FlinkDeployment
	sessionJob       bool
	now              time.Time
	highAvailability bool
	clusterUp        bool
	// removed: the cluster was asked to go and may still be terminating.
	removed bool
	jobID   string
	haData  bool
}

// newWalk starts a walk from a running job with a recorded checkpoint: an
// application (with HA when the first script byte's lowest bit is set) or a session job
// (its second bit).
func newWalk(b byte) *walk {
	w := &walk{fd: runningDeployment(), now: t0, sessionJob: b&2 != 0, highAvailability: b&3 == 1, clusterUp: true, jobID: runningJobID}
	w.fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastCheckpoint: &v1beta1.Snapshot{
		Location: checkpointA, TimeStamp: t0.Add(-time.Minute).UnixMilli(), TriggerType: "PERIODIC"}}
	if w.sessionJob {
		spec := &w.fd.Spec
		*spec = v1beta1.FlinkDeploymentSpec{Job: spec.Job, FlinkConfiguration: spec.FlinkConfiguration}
		rs := &w.fd.Status.ReconciliationStatus
		rs.LastReconciledSpec, rs.LastStableSpec = encodeSpec(spec), encodeSpec(spec)
	}
	return w
}

// decide is the round's decision, as Next or NextSessionJob takes it: checked to
// leave its input alone and to decide the same twice.
func (w *walk) decide(t *testing.T, obs Observation) Decision {
	if !w.sessionJob {
		return decide(t, w.fd, obs)
	}
	before := w.fd.DeepCopy()
	d := next(Input{Deployment: w.fd, Observed: obs, Settings: DefaultSettings()}, true)
	require.Equal(t, before, w.fd, "NextSessionJob must not modify its input")
	require.Equal(t, d, next(Input{Deployment: w.fd, Observed: obs, Settings: DefaultSettings()}, true), "the same input must give the same decision")
	return d
}

// edit applies the user's change a script byte names, if any: a new generation.
func (w *walk) edit(b byte) {
	next := w.fd.DeepCopy()
	job := next.Spec.Job
	switch b % 16 {
	case 8:
		job.Parallelism = job.Parallelism%4 + 1
	case 9:
		job.State = v1beta1.JobStateSuspended
	case 10:
		job.State = v1beta1.JobStateRunning
	case 11:
		job.UpgradeMode = []v1beta1.UpgradeMode{v1beta1.UpgradeModeSavepoint, v1beta1.UpgradeModeLastState, v1beta1.UpgradeModeStateless}[int(b/16)%3]
	case 12:
		if next.DeletionTimestamp == nil {
			next.DeletionTimestamp = ptr.To(metav1.NewTime(w.now))
		}
	case 13:
		job.SavepointTriggerNonce = ptr.To(int64(b))
	case 14:
		next.Spec.RestartNonce = ptr.To(int64(b))
	default:
		return
	}
	if b%16 != 12 {
		next.Generation++
	}
	w.fd = next
}

// jobStates are the states the walk's job is observed in.
var jobStates = []string{JobRunning, JobFailed, JobFinished, JobCanceled, "RESTARTING", "CREATED"}

// observe makes a round's observation of the world from three script bytes: the
// cluster (lost, terminating, its JobManager's readiness, its REST API silent); the job's state, tasks and
// checkpoint; a savepoint's answer, HA metadata kept, the deployed hash and how much
// time passed.
func (w *walk) observe(step int, cluster, job, snapshot byte) Observation {
	w.now = w.now.Add(time.Duration(snapshot>>4) * 15 * time.Second)
	obs := Observation{Now: w.now, DesiredHash: "h1", HighAvailability: w.highAvailability, Checkpointing: true}
	if cluster%16 == 15 {
		w.clusterUp = false // lost: the JobManager Deployment deleted behind Flok's back
	}
	if w.removed && cluster&32 == 0 {
		w.clusterUp, w.removed = false, false
	}
	obs.HAData = w.haData
	if !w.clusterUp {
		obs.Cluster = ClusterMissing
		if w.sessionJob && w.jobID != "" && job&16 != 0 {
			// The session cluster still lists the cancelled job, with its last checkpoint.
			obs.Job = &Job{ID: w.jobID, Name: "orders", State: JobCanceled, StartTime: t0.UnixMilli(), EndTime: w.now.Add(-time.Minute).UnixMilli()}
			if job&128 != 0 {
				obs.Job.LatestCheckpoint = fmt.Sprintf("file:///state/checkpoints/%s/chk-%d", w.jobID, step+10)
				obs.Job.LatestCheckpointTime = w.now.Add(-time.Minute).UnixMilli()
			}
		}
		return obs
	}
	obs.DeployedHash = "h1"
	if snapshot&8 != 0 {
		obs.DeployedHash = "old"
	}
	obs.Cluster = []ClusterState{ClusterStarting, ClusterReady, ClusterReady, ClusterFailing}[cluster%4]
	switch {
	case w.sessionJob:
		obs.Cluster = ClusterReady // the job is listed by its session cluster
		if cluster%16 == 14 {
			obs.SessionUnavailable = "the session cluster is being changed"
		}
	case w.removed:
		obs.Cluster = ClusterTerminating
	}
	if obs.Cluster != ClusterReady || cluster&64 != 0 && !w.sessionJob {
		if obs.Cluster == ClusterReady && cluster&128 != 0 {
			obs.FlinkUnanswered = "flink GET /jobs/overview: 500 Internal Server Error"
		}
		return obs
	}
	obs.Job = &Job{ID: w.jobID, Name: "orders", State: jobStates[int(job)%len(jobStates)], TasksRunning: job&64 != 0,
		StartTime: w.now.UnixMilli(), CheckpointsUnread: job&32 != 0}
	if w.sessionJob && w.removed {
		obs.Job.State = "CANCELLING"
	}
	if job&128 != 0 {
		obs.Job.LatestCheckpoint = fmt.Sprintf("file:///state/checkpoints/%s/chk-%d", w.jobID, step+10)
		obs.Job.LatestCheckpointTime = w.now.UnixMilli()
	}
	if w.highAvailability && obs.Job.State == JobRunning {
		w.haData = true
	}
	switch snapshot % 4 {
	case 1:
		obs.Savepoint = &SnapshotResult{Done: true, Path: fmt.Sprintf("file:///state/savepoints/savepoint-%d", step)}
	case 2:
		obs.Savepoint = &SnapshotResult{Done: true, Failure: "task not running"}
	case 3:
		obs.Savepoint = &SnapshotResult{}
	}
	return obs
}

// act changes the world as the controller's action would.
func (w *walk) act(a Action) {
	switch a.Type {
	case ActionDeploy:
		w.clusterUp, w.removed, w.jobID = true, false, a.JobID
	case ActionRemoveCluster:
		if w.clusterUp {
			w.removed = true
		}
		if !a.KeepHAData {
			w.haData = false
		}
	}
}

// promiseBroken names the promise a decision breaks, "" when it keeps them all.
func promiseBroken(before *v1beta1.FlinkDeployment, obs Observation, d Decision) string {
	prior := before.Status.Operation
	if res := obs.Savepoint; prior != nil && prior.Step == v1beta1.StepSnapshotting && res != nil && res.Done && res.Path != "" && !strings.Contains(statusJSON(d.Status), res.Path) {
		return "the savepoint Flink reported is not in the status recorded before the next action"
	}
	if d.Action.Type != ActionDeploy {
		return ""
	}
	op := d.Status.Operation
	if op == nil {
		return "a deployment without an operation in the status"
	}
	recorded := (&decider{status: &before.Status}).latestState()
	if d.Action.RestorePath == "" && !op.KeepHAData && op.UpgradeMode != v1beta1.UpgradeModeStateless && recorded != "" {
		return fmt.Sprintf("deployed without state although %s is recorded", recorded)
	}
	return ""
}

// twoJobs says what is wrong when a deployment would start a second job beside one
// still running: a new job is deployed only once the old cluster is gone.
func (w *walk) twoJobs(a Action) string {
	if a.Type != ActionDeploy || !w.clusterUp || a.JobID == w.jobID {
		return ""
	}
	return fmt.Sprintf("job %s deployed while the cluster of job %s is still up", a.JobID, w.jobID)
}

func statusJSON(s v1beta1.FlinkDeploymentStatus) string {
	data, _ := json.Marshal(s)
	return string(data)
}
