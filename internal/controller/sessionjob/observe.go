package sessionjob

import (
	"context"
	"fmt"

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
	lifecycle.Observation
	settings lifecycle.Settings
	// jobConf is the job's own Flink options (kubernetes.operator.* left out).
	jobConf flinkconf.Config
	// session is the session cluster's rendered configuration and its REST client;
	// nil when the session cluster cannot take the job.
	session *session
}

type session struct {
	conf    flinkconf.Config
	version flinkconf.Version
	flink   *flinkrest.Client
	jobs    []flinkrest.JobOverview
}

// observe gathers what the decision needs: the job's settings and whether its spec is
// valid, the session cluster's state, the job in it, and — when the job is about to be
// submitted — whether its jar can be fetched.
func (r *Reconciler) observe(ctx context.Context, sj *v1beta1.FlinkSessionJob) observed {
	o := observed{Observation: lifecycle.Observation{Now: r.now()}, settings: r.Settings}
	o.RenderError = r.validate(sj, &o)
	o.session = r.observeSession(ctx, sj, &o.Observation)
	if s := o.session; s != nil {
		flinkjob.Observe(ctx, s.flink, r.JobDetails, flinkjob.ResourceOf(sj, &sj.Status.CommonStatus), s.jobs, &o.Observation)
		o.Cluster = lifecycle.ClusterMissing
		if j := o.Job; j != nil && !flinkrest.JobState(j.State).IsGloballyTerminal() {
			o.Cluster = lifecycle.ClusterReady
		}
		o.Checkpointing = flinkconf.Merge(s.conf, o.jobConf).Checkpointing()
	}
	if o.RenderError == "" && r.aboutToSubmit(sj, &o) {
		o.ArtifactError = r.checkArtifact(ctx, sj, flinkconf.Merge(o.session.conf, o.jobConf))
	}
	return o
}

// checkArtifact fetches the job's jar ahead of its submission; "" when it arrived.
func (r *Reconciler) checkArtifact(ctx context.Context, sj *v1beta1.FlinkSessionJob, conf flinkconf.Config) string {
	src, err := r.artifactSource(ctx, sj, sj.Spec.Job, conf)
	if err != nil {
		return err.Error()
	}
	if _, err := r.Artifacts.Fetch(ctx, src); err != nil {
		return "spec.job.jarURI: " + err.Error()
	}
	return ""
}

// validate checks what the job's spec says; "" when it can run.
func (r *Reconciler) validate(sj *v1beta1.FlinkSessionJob, o *observed) string {
	checked := validation.CheckSessionJob(sj, r.Settings, r.Artifacts)
	o.settings, o.jobConf = checked.Settings, checked.JobConfig
	return validation.Message(checked.Errs)
}

// aboutToSubmit reports a round that may submit the job: a first deployment, or a
// deployment under way whose job Flink does not have yet.
func (r *Reconciler) aboutToSubmit(sj *v1beta1.FlinkSessionJob, o *observed) bool {
	if o.session == nil || o.Job != nil || sj.DeletionTimestamp != nil {
		return false
	}
	op := sj.Status.Operation
	return (op != nil && op.Step == v1beta1.StepDeploying) || (op == nil && sj.Status.ReconciliationStatus.LastReconciledSpec == "")
}

// observeSession finds the session cluster and reads its jobs; it returns nil, with
// SessionUnavailable saying why, when the cluster cannot take the job now.
func (r *Reconciler) observeSession(ctx context.Context, sj *v1beta1.FlinkSessionJob, obs *lifecycle.Observation) *session {
	name := sj.Spec.DeploymentName
	fd := &v1beta1.FlinkDeployment{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: sj.Namespace, Name: name}, fd)
	op := fd.Status.Operation
	switch {
	case apierrors.IsNotFound(err):
		obs.SessionGone = true
		obs.SessionUnavailable = fmt.Sprintf("waiting for session cluster %s: there is no FlinkDeployment %s in namespace %s; the job starts when it exists", name, name, sj.Namespace)
		return nil
	case err != nil:
		obs.SessionUnavailable = fmt.Sprintf("waiting for session cluster %s: reading it failed: %v", name, err)
		return nil
	case fd.Spec.Job != nil:
		obs.SessionUnavailable = fmt.Sprintf("FlinkDeployment %s is an application cluster (it has spec.job); spec.deploymentName must name a session cluster, a FlinkDeployment without job", name)
		return nil
	case fd.DeletionTimestamp != nil && op != nil && op.Kind == v1beta1.OperationDelete:
		obs.SessionGone = true
		obs.SessionUnavailable = fmt.Sprintf("session cluster %s is being deleted", name)
		return nil
	case op != nil && op.Step == v1beta1.StepSnapshotting:
		obs.SessionUpgrading = true
	case op != nil:
		obs.SessionUnavailable = fmt.Sprintf("waiting for session cluster %s: %s in progress (%s)", name, op.Kind, op.Step)
		return nil
	case fd.Status.ReconciliationStatus.LastReconciledSpec == "":
		obs.SessionUnavailable = fmt.Sprintf("waiting for session cluster %s to be deployed", name)
		return nil
	}
	objs, flink, err := r.Flink.Cluster(ctx, fd, r.Defaults)
	if objs == nil {
		obs.SessionUnavailable = fmt.Sprintf("session cluster %s: %v", name, err)
		return nil
	}
	version, _ := flinkconf.ParseVersion(string(fd.Spec.FlinkVersion))
	if err == nil {
		var jobs []flinkrest.JobOverview
		if jobs, err = flink.Jobs(ctx); err == nil {
			return &session{conf: objs.Configuration, version: version, flink: flink, jobs: jobs}
		}
	}
	obs.SessionUnavailable = fmt.Sprintf("waiting for session cluster %s: its REST API does not answer (%v)", name, err)
	return nil
}
