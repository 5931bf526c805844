package deployment

import (
	"context"
	"errors"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/flinktls"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// haConfigMapSuffix ends the names of the ConfigMaps Flink's Kubernetes HA services
// keep: <name>-cluster-config-map and <name>-<job id>-config-map.
const haConfigMapSuffix = "-config-map"

// observe gathers what the decision needs: the deployment's spec facts (its settings,
// whether its spec renders, how it compares with the last deployed one), its
// JobManager Deployment and Pods, the containers of its Pods that ended lately, its
// HA ConfigMaps and its Flink job. It also returns
// the client of the cluster's REST API, for the action (nil if it cannot be built; the
// reason is logged).
func (r *Reconciler) observe(ctx context.Context, fd *v1beta1.FlinkDeployment) (specFacts, lifecycle.Observation, *flinkrest.Client) {
	obs := lifecycle.Observation{Now: r.now()}
	facts := r.specFacts(fd)
	obs.RenderError, obs.HighAvailability, obs.Checkpointing = facts.renderError, facts.highAvailability, facts.checkpointing
	obs.DesiredHash, obs.DesiredLoggingHash = facts.desiredHash, facts.loggingHash
	r.observeCluster(ctx, fd, &obs)
	obs.Terminations = r.terminations.recent(client.ObjectKeyFromObject(fd), obs.Now)
	r.observeHA(ctx, fd, &obs)
	var owners map[string]string
	if fd.Spec.Job == nil {
		owners = r.observeSessionJobs(ctx, fd, &obs)
	}
	flink, err := r.Flink(ctx, facts.flink)
	if err != nil {
		log.FromContext(ctx).Info("cannot reach Flink's REST API", "error", err.Error())
		var config *flinktls.ConfigError
		if obs.Cluster == lifecycle.ClusterReady {
			obs.FlinkUnanswered = err.Error()
			if errors.As(err, &config) {
				obs.FlinkTLS = err.Error()
			}
		}
	}
	if obs.Cluster == lifecycle.ClusterReady && flink != nil {
		r.observeFlink(ctx, fd, flink, owners, &obs)
	}
	return facts, obs, flink
}

// deploySpec is the spec the operation under way deploys: the last stable one when
// rolling back, the current one otherwise.
func deploySpec(fd *v1beta1.FlinkDeployment) *v1beta1.FlinkDeploymentSpec {
	if op := fd.Status.Operation; op != nil && op.Kind == v1beta1.OperationRollback {
		if spec, err := lifecycle.DecodeSpec(fd.Status.ReconciliationStatus.LastStableSpec); err == nil && spec != nil {
			return spec
		}
	}
	return &fd.Spec
}

// renderAction renders spec as a deploy action with these parameters does, so that
// the hash observed and the hash applied agree.
func (r *Reconciler) renderAction(fd *v1beta1.FlinkDeployment, spec *v1beta1.FlinkDeploymentSpec, jobID, restorePath string) (*render.Objects, error) {
	allow := spec.Job != nil && spec.Job.AllowNonRestoredState != nil && *spec.Job.AllowNonRestoredState
	return r.render(fd, spec, jobID, restorePath, allow)
}

func (r *Reconciler) render(fd *v1beta1.FlinkDeployment, spec *v1beta1.FlinkDeploymentSpec, jobID, restorePath string, allow bool) (*render.Objects, error) {
	target := fd.DeepCopy()
	target.Spec = *spec.DeepCopy()
	in := render.Input{Deployment: target, Defaults: r.Defaults, JobID: jobID}
	if restorePath != "" {
		in.Restore = &render.Restore{Path: restorePath, AllowNonRestoredState: allow}
	}
	return render.Render(in)
}

// observeCluster reads the JobManager Deployment (its metadata: the cache keeps no
// more) and the cluster's Pods from the cache. The Pods are only read, so the cache
// lends them rather than copies them.
func (r *Reconciler) observeCluster(ctx context.Context, fd *v1beta1.FlinkDeployment, obs *lifecycle.Observation) {
	dep := &metav1.PartialObjectMetadata{}
	dep.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	depErr := r.Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: fd.Name}, dep)
	pods := &corev1.PodList{}
	if err := r.Client.List(ctx, pods, client.InNamespace(fd.Namespace), client.MatchingFields{ClusterIndex: fd.Name}, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "listing the cluster's Pods")
	}
	switch {
	case apierrors.IsNotFound(depErr) && len(pods.Items) == 0:
		obs.Cluster = lifecycle.ClusterMissing
		return
	case depErr != nil || dep.DeletionTimestamp != nil:
		obs.Cluster = lifecycle.ClusterTerminating
		return
	}
	obs.DeployedHash, obs.DeployedLoggingHash = dep.Annotations[render.HashAnnotation], dep.Annotations[render.LoggingHashAnnotation]
	obs.Cluster = lifecycle.ClusterStarting
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Labels[render.LabelComponent] != render.ComponentJobManager || p.DeletionTimestamp != nil {
			continue
		}
		if podReady(p) {
			obs.Cluster = lifecycle.ClusterReady
			return
		}
		if msg := podFailing(p, r.mainFailures.of(ctx, r.Logs, p)); msg != "" {
			obs.Cluster, obs.ClusterMessage = lifecycle.ClusterFailing, msg
		}
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podFailing explains a JobManager Pod that does not come up by itself; mainFailure is
// the error of the job's main method that ended its last run, if its log says.
func podFailing(p *corev1.Pod, mainFailure string) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return "Pod " + p.Name + " cannot be scheduled: " + c.Message
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "CrashLoopBackOff":
				// Its message changes with every back-off; the reason is the news.
				crashing := "Pod " + p.Name + " container " + cs.Name + " keeps crashing (CrashLoopBackOff)"
				if mainFailure != "" {
					return crashing + ": the job's main method failed: " + mainFailure
				}
				return crashing + "; see its logs"
			case "ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError", "InvalidImageName":
				return "Pod " + p.Name + " container " + cs.Name + ": " + w.Reason + ": " + w.Message
			}
		}
	}
	return ""
}

// observeHA reports whether the cluster's HA metadata exists.
func (r *Reconciler) observeHA(ctx context.Context, fd *v1beta1.FlinkDeployment, obs *lifecycle.Observation) {
	if !obs.HighAvailability {
		return
	}
	cms, err := r.haConfigMaps(ctx, fd)
	if err != nil {
		log.FromContext(ctx).Error(err, "listing HA ConfigMaps")
		return
	}
	obs.HAData = len(cms) > 0
}

// haConfigMaps are the ConfigMaps Flink's HA services created for the cluster: they
// carry the cluster's labels but, unlike Flok's own, no owner.
func (r *Reconciler) haConfigMaps(ctx context.Context, fd *v1beta1.FlinkDeployment) ([]corev1.ConfigMap, error) {
	list := &corev1.ConfigMapList{}
	if err := r.Client.List(ctx, list, client.InNamespace(fd.Namespace), client.MatchingFields{ClusterIndex: fd.Name}); err != nil {
		return nil, err
	}
	var out []corev1.ConfigMap
	for _, cm := range list.Items {
		if cm.Labels[render.LabelManagedBy] == "" && strings.HasPrefix(cm.Name, fd.Name+"-") && strings.HasSuffix(cm.Name, haConfigMapSuffix) {
			out = append(out, cm)
		}
	}
	return out, nil
}

// observeFlink reads the job and the snapshots under way from Flink's REST API, and
// for a session cluster what runs in it. A JobManager that does not answer leaves the
// job unobserved.
func (r *Reconciler) observeFlink(ctx context.Context, fd *v1beta1.FlinkDeployment, flink *flinkrest.Client, owners map[string]string, obs *lifecycle.Observation) {
	jobs, err := flink.Jobs(ctx)
	if err != nil {
		log.FromContext(ctx).V(1).Info("Flink's REST API does not answer", "error", err.Error())
		obs.FlinkUnanswered = err.Error()
		if flinkrest.IsTLSFailure(err) {
			obs.FlinkTLS = err.Error()
		}
		return
	}
	flinkjob.Observe(ctx, flink, r.JobDetails, flinkjob.ResourceOf(fd, &fd.Status.CommonStatus), jobs, obs)
	if fd.Spec.Job == nil {
		observeSession(ctx, flink, jobs, owners, obs)
	}
}
