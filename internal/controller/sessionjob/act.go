package sessionjob

import (
	"context"
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/kube"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// act takes the decided action. Every action is safe to repeat: a job is submitted
// under the job id recorded before, which Flink never runs twice.
func (r *Reconciler) act(ctx context.Context, sj *v1beta1.FlinkSessionJob, o observed, a lifecycle.Action) error {
	switch a.Type {
	case lifecycle.ActionNone:
		return nil
	case lifecycle.ActionRemoveFinalizer:
		return kube.ReleaseFinalizer(ctx, r.Client, sj)
	}
	if o.session == nil {
		return errors.New("the session cluster's REST API cannot be reached")
	}
	flink := o.session.flink
	switch a.Type {
	case lifecycle.ActionDeploy:
		return r.submit(ctx, sj, o, a)
	case lifecycle.ActionRemoveCluster:
		return cancel(ctx, flink, sj.Status.Operation)
	}
	return flinkjob.Snapshot(ctx, flink, a)
}

// submit fetches the job's jar, uploads it to the session cluster, runs it under the
// recorded job id from the recorded snapshot, and removes the uploaded jar (the
// running job keeps its own copy in Flink's blob store).
func (r *Reconciler) submit(ctx context.Context, sj *v1beta1.FlinkSessionJob, o observed, a lifecycle.Action) error {
	job := a.Spec.Job
	src, err := r.artifactSource(ctx, sj, job, flinkconf.Merge(o.session.conf, o.jobConf))
	if err != nil {
		return err
	}
	local, err := r.Artifacts.Fetch(ctx, src)
	if err != nil {
		return err
	}
	file, err := os.Open(local)
	if err != nil {
		return err
	}
	defer file.Close()
	flink := o.session.flink
	jarID, err := flink.UploadJar(ctx, local, file)
	if err != nil {
		return fmt.Errorf("uploading %s to session cluster %s: %w", job.JarURI, sj.Spec.DeploymentName, err)
	}
	defer func() {
		if err := flink.DeleteJar(context.WithoutCancel(ctx), jarID); err != nil {
			log.FromContext(ctx).Error(err, "removing the uploaded jar", "jar", jarID)
		}
	}()
	conf := flinkconf.Merge(render.StatefulJobDefaults(job, o.session.version, o.session.conf, o.jobConf), o.jobConf)
	req := flinkrest.RunRequest{
		EntryClass: job.EntryClass, ProgramArgs: job.Args, Parallelism: int(job.Parallelism), JobID: a.JobID,
		SavepointPath: a.RestorePath, AllowNonRestoredState: a.AllowNonRestoredState, FlinkConfiguration: conf,
	}
	if a.RestorePath != "" {
		req.ClaimMode = flinkrest.ClaimModeNoClaim
	}
	if _, err := flink.RunJar(ctx, jarID, req); err != nil {
		if submitted(ctx, flink, a.JobID) {
			// An earlier attempt whose answer was lost submitted it.
			return nil
		}
		return fmt.Errorf("running %s on session cluster %s: %w", job.JarURI, sj.Spec.DeploymentName, err)
	}
	return nil
}

// submitted reports whether the session cluster knows the job id.
func submitted(ctx context.Context, flink *flinkrest.Client, jobID string) bool {
	jobs, err := flink.Jobs(ctx)
	if err != nil {
		return false
	}
	for _, j := range jobs {
		if j.ID == jobID {
			return true
		}
	}
	return false
}

// cancel ends the job an operation stops; a job that has already ended is left.
func cancel(ctx context.Context, flink *flinkrest.Client, op *v1beta1.Operation) error {
	if op == nil || op.JobID == "" {
		return nil
	}
	err := flink.CancelJob(ctx, op.JobID)
	if flinkrest.IsNotFound(err) || flinkrest.IsConflict(err) {
		return nil
	}
	return err
}
