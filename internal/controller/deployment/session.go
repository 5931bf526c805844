package deployment

import (
	"cmp"
	"context"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// observeSessionJobs lists the FlinkSessionJobs that name the session cluster, and
// whether each lets the cluster be removed for an upgrade. It returns the job ids
// they run, by job id.
func (r *Reconciler) observeSessionJobs(ctx context.Context, fd *v1beta1.FlinkDeployment, obs *lifecycle.Observation) map[string]string {
	jobs, err := r.sessionJobsOf(ctx, fd)
	if err != nil {
		log.FromContext(ctx).Error(err, "listing FlinkSessionJobs")
		// Unknown jobs must not let the cluster go: count one that holds it.
		obs.SessionJobs = []lifecycle.SessionJobRef{{Name: "(FlinkSessionJobs cannot be listed: " + err.Error() + ")"}}
		return nil
	}
	owners := map[string]string{}
	for i := range jobs {
		obs.SessionJobs = append(obs.SessionJobs, lifecycle.SessionJobRef{Name: jobs[i].Name, Released: lifecycle.SessionJobReleased(&jobs[i])})
		if id := jobs[i].Status.JobStatus.JobID; id != "" {
			owners[id] = jobs[i].Name
		}
	}
	return owners
}

// sessionJobsOf are the FlinkSessionJobs whose spec.deploymentName is fd's name.
func (r *Reconciler) sessionJobsOf(ctx context.Context, fd *v1beta1.FlinkDeployment) ([]v1beta1.FlinkSessionJob, error) {
	list := &v1beta1.FlinkSessionJobList{}
	if err := r.Client.List(ctx, list, client.InNamespace(fd.Namespace), client.MatchingFields{SessionIndex: fd.Name}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// observeSession reads the session cluster's TaskManagers and slots, and its jobs that
// have not ended, each with the FlinkSessionJob that runs it.
func observeSession(ctx context.Context, flink *flinkrest.Client, jobs []flinkrest.JobOverview, owners map[string]string, obs *lifecycle.Observation) {
	overview, err := flink.Overview(ctx)
	if err != nil {
		log.FromContext(ctx).V(1).Info("Flink's REST API does not answer", "error", err.Error())
		return
	}
	session := &v1beta1.SessionStatus{
		TaskManagers: int32(overview.TaskManagers), TotalSlots: int32(overview.SlotsTotal), AvailableSlots: int32(overview.SlotsAvailable),
	}
	for _, j := range jobs {
		if j.State.IsGloballyTerminal() {
			continue
		}
		session.Jobs = append(session.Jobs, v1beta1.SessionJobSummary{
			JobID: j.ID, Name: j.Name, State: string(j.State), StartTime: j.StartTime, SessionJob: owners[j.ID],
		})
	}
	slices.SortFunc(session.Jobs, func(a, b v1beta1.SessionJobSummary) int {
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), cmp.Compare(a.JobID, b.JobID))
	})
	obs.Session = session
}
