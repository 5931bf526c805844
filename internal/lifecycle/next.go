package lifecycle

import (
	"fmt"
	"strconv"
	"time"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Next decides what happens to an application deployment now. The caller records
// Decision.Status before it takes Decision.Action: the status is the write-ahead log
// that lets a restarted operator continue any operation from where it was.
func Next(in Input) Decision {
	return next(in, false)
}

// next decides for an application or session cluster, or (sessionJob) for a session
// job seen as a deployment whose cluster is the job itself.
func next(in Input, sessionJob bool) Decision {
	d := &decider{fd: in.Deployment, obs: in.Observed, set: in.Settings, sessionJob: sessionJob, compared: in.Compared}
	d.out.Status = *in.Deployment.Status.DeepCopy()
	d.status = &d.out.Status
	d.recordJob()
	d.recordSession()
	d.forwardTerminations()
	switch {
	case sessionJob && d.obs.SessionUnavailable != "":
		d.waitForSession()
	case d.fd.DeletionTimestamp != nil:
		d.deleting()
	case d.status.Operation != nil:
		d.continueOperation()
	default:
		d.steady()
	}
	d.checkFlinkTLS()
	d.finish()
	return d.out
}

// decider carries one decision's input and output.
type decider struct {
	fd     *v1beta1.FlinkDeployment
	obs    Observation
	set    Settings
	out    Decision
	status *v1beta1.FlinkDeploymentStatus
	// degraded is set when this round found something wrong.
	degraded bool
	// sessionJob: the resource is a FlinkSessionJob. Its "cluster" is its job in the
	// session cluster: deploying submits the job, removing the cluster cancels it (or
	// finds it stopped by its savepoint), and the cluster is missing when Flink has no
	// such job or it ended.
	sessionJob bool
	// waiting says why the round could not act, for the Progressing condition.
	waiting string
	// compared is the spec compared with the last deployed one (nil until needed).
	compared *SpecComparison
}

// isSession reports a session cluster: a FlinkDeployment without a job.
func (d *decider) isSession() bool { return !d.sessionJob && d.spec().Job == nil }

func (d *decider) spec() *v1beta1.FlinkDeploymentSpec { return &d.fd.Spec }
func (d *decider) now() time.Time                     { return d.obs.Now }
func (d *decider) nowMillis() string                  { return strconv.FormatInt(d.now().UnixMilli(), 10) }

// parseMillis reads epoch milliseconds kept as text; 0 when unset or unreadable.
func parseMillis(text string) int64 {
	n, _ := strconv.ParseInt(text, 10, 64)
	return n
}

func (d *decider) event(reason, format string, args ...any) {
	d.out.Events = append(d.out.Events, Event{Reason: reason, Message: fmt.Sprintf(format, args...)})
}

func (d *decider) warn(reason, format string, args ...any) {
	d.out.Events = append(d.out.Events, Event{Warning: true, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// upgradeMode is the spec's upgrade mode, stateless when unset.
func (d *decider) upgradeMode() v1beta1.UpgradeMode {
	if d.spec().Job == nil || d.spec().Job.UpgradeMode == "" {
		return v1beta1.UpgradeModeStateless
	}
	return d.spec().Job.UpgradeMode
}

// ourJob is the observed job when it is the one the status records.
func (d *decider) ourJob() *Job {
	if j := d.obs.Job; j != nil && j.ID == d.status.JobStatus.JobID {
		return j
	}
	return nil
}

// jobRunning reports whether the job runs with all its tasks.
func (d *decider) jobRunning() bool {
	j := d.ourJob()
	return j != nil && j.State == JobRunning && j.TasksRunning
}

// recordJob copies the observed job into the status, and remembers its latest
// completed checkpoint: the state to recover from if the cluster is lost.
func (d *decider) recordJob() {
	j := d.ourJob()
	if j == nil {
		return
	}
	d.forwardExceptions(j)
	js := &d.status.JobStatus
	if js.State != j.State {
		// Only a change is news: an unchanged job leaves the status unchanged, and the
		// operator writes nothing.
		js.UpdateTime = d.nowMillis()
	}
	js.JobName, js.State = j.Name, j.State
	if j.StartTime > 0 {
		d.noticeRecovery(j, parseMillis(js.StartTime))
		js.StartTime = strconv.FormatInt(j.StartTime, 10)
	}
	if j.LatestCheckpoint != "" {
		if js.CheckpointInfo == nil {
			js.CheckpointInfo = &v1beta1.CheckpointInfo{}
		}
		last := js.CheckpointInfo.LastCheckpoint
		if last == nil || last.Location != j.LatestCheckpoint {
			js.CheckpointInfo.LastCheckpoint = &v1beta1.Snapshot{
				Location: j.LatestCheckpoint, TimeStamp: j.LatestCheckpointTime, TriggerType: "PERIODIC", FormatType: "UNKNOWN",
			}
		}
	}
}

// noticeRecovery tells of a job that began again under the same id with no operation
// of Flok's: a JobManager that took over — a standby elected, or one that replaced an
// ended one — recovered it. (Flink's own restarts of a job keep its start time.)
func (d *decider) noticeRecovery(j *Job, recordedStart int64) {
	if recordedStart == 0 || j.StartTime <= recordedStart || d.status.Operation != nil {
		return
	}
	from := "as its configuration says (without high availability, from the state it was deployed with)"
	if d.obs.HighAvailability {
		from = "from Flink's high-availability metadata (its latest checkpoint)"
	}
	d.event(reasonJobRecovered, "job %s began again at %s: a JobManager that took over recovered it %s",
		j.ID, time.UnixMilli(j.StartTime).UTC().Format(time.RFC3339), from)
}

// latestState is the newest savepoint or checkpoint the status records, "" if none.
func (d *decider) latestState() string {
	var best *v1beta1.Snapshot
	js := d.status.JobStatus
	if js.SavepointInfo != nil && js.SavepointInfo.LastSavepoint != nil {
		best = js.SavepointInfo.LastSavepoint
	}
	if js.CheckpointInfo != nil && js.CheckpointInfo.LastCheckpoint != nil {
		if cp := js.CheckpointInfo.LastCheckpoint; best == nil || cp.TimeStamp > best.TimeStamp {
			best = cp
		}
	}
	if best == nil {
		return js.UpgradeSavepointPath
	}
	return best.Location
}

// steady handles a deployment with no operation under way: a first deployment, a
// changed spec, a lost cluster or failed job, snapshots.
func (d *decider) steady() {
	if d.compared == nil {
		d.compared = CompareSpec(d.fd)
	}
	last := d.compared.last
	if err := d.compared.err; err != nil {
		d.degrade(reasonInvalidStatus, err.Error())
		return
	}
	if d.obs.RenderError != "" {
		d.rejectSpec(last != nil)
		if last == nil {
			d.status.LifecycleState = v1beta1.LifecycleCreated
			return
		}
	} else if last == nil {
		d.firstDeployment()
		return
	} else if c := d.compared.change; (c == changeLogging || c == noChange && d.loggingDrifted()) && !d.blockedGeneration() {
		if d.updateLogging() {
			return
		}
	} else if c != noChange && !d.blockedGeneration() {
		d.startChange(c)
		return
	}
	d.status.ObservedGeneration = max(d.status.ObservedGeneration, d.acceptedGeneration())
	if suspended(last) {
		d.status.LifecycleState = v1beta1.LifecycleSuspended
		return
	}
	d.memoryTrouble()
	if d.isSession() {
		d.sessionHealth()
		return
	}
	if d.sessionJob && d.obs.SessionUpgrading && d.stopForSessionUpgrade() {
		return
	}
	if d.health() || d.unhealthy() {
		return
	}
	d.snapshots(last)
}

// acceptedGeneration is the generation the status stands for: the current one unless
// its spec was rejected or its upgrade is blocked.
func (d *decider) acceptedGeneration() int64 {
	if d.obs.RenderError != "" || d.blockedGeneration() {
		return d.status.ObservedGeneration
	}
	return d.fd.Generation
}

// firstDeployment deploys the spec for the first time, from initialSavepointPath if
// given; a spec that starts suspended waits.
func (d *decider) firstDeployment() {
	if suspended(d.spec()) {
		d.accept()
		d.status.LifecycleState = v1beta1.LifecycleSuspended
		return
	}
	restore := ""
	if job := d.spec().Job; job != nil {
		restore = job.InitialSavepointPath
	}
	d.status.LifecycleState = v1beta1.LifecycleCreated
	d.beginDeploy(v1beta1.OperationDeploy, restore, false)
}

// accept records the current spec as the deployed one.
func (d *decider) accept() {
	rs := &d.status.ReconciliationStatus
	rs.LastReconciledSpec = encodeSpec(d.spec())
	rs.ReconciliationTimestamp = d.now().UnixMilli()
	rs.State = "DEPLOYED"
	d.status.ObservedGeneration = d.fd.Generation
}

// beginDeploy records a deployment of the current spec with a new job id (the old
// one when keepHA, so that the new JobManager recovers the job from HA metadata) and
// deploys it.
func (d *decider) beginDeploy(kind v1beta1.OperationKind, restorePath string, keepHA bool) {
	d.accept()
	if d.isSession() {
		d.status.JobStatus = v1beta1.JobStatus{}
	} else if !keepHA || d.status.JobStatus.JobID == "" {
		d.status.JobStatus = v1beta1.JobStatus{
			JobID:          newID(d.fd.UID, "job", d.now()),
			SavepointInfo:  d.status.JobStatus.SavepointInfo,
			CheckpointInfo: d.status.JobStatus.CheckpointInfo,
		}
	}
	d.status.JobStatus.UpgradeSavepointPath = restorePath
	d.status.Operation = &v1beta1.Operation{
		Kind: kind, Step: v1beta1.StepDeploying, UpgradeMode: d.upgradeMode(),
		JobID: d.status.JobStatus.JobID, RestorePath: restorePath, KeepHAData: keepHA,
		StartTime: metaTime(d.now()), Message: "deploying",
	}
	d.deployAction()
}
