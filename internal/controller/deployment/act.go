package deployment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/flinkjob"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/kube"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// act takes the decided action. Every action is safe to repeat: a restarted operator
// takes it again from the recorded status.
func (r *Reconciler) act(ctx context.Context, fd *v1beta1.FlinkDeployment, flink *flinkrest.Client, a lifecycle.Action) error {
	switch a.Type {
	case lifecycle.ActionNone:
		return nil
	case lifecycle.ActionDeploy:
		return r.deploy(ctx, fd, a)
	case lifecycle.ActionRemoveCluster:
		return r.removeCluster(ctx, fd, a.KeepHAData)
	case lifecycle.ActionRemoveFinalizer:
		return kube.ReleaseFinalizer(ctx, r.Client, fd)
	case lifecycle.ActionUpdateLogging:
		return r.updateLogging(ctx, fd, a.Spec)
	}
	if flink == nil {
		return errors.New("no client of Flink's REST API (the operator's log says why)")
	}
	if !flinkjob.IsSnapshot(a.Type) {
		return fmt.Errorf("unknown action %q", a.Type)
	}
	return flinkjob.Snapshot(ctx, flink, a)
}

// deploy applies the rendered objects server-side, stage by stage and each stage's
// objects at once (a new cluster's JobManager Deployment comes after three round
// trips, not seven); applying them again changes nothing. An object that fails does
// not cancel the others of its stage: each round gets further, none is starved by a
// sibling that fails first.
func (r *Reconciler) deploy(ctx context.Context, fd *v1beta1.FlinkDeployment, a lifecycle.Action) error {
	objs, err := r.renderAction(fd, a.Spec, a.JobID, a.RestorePath)
	if err != nil {
		return err
	}
	if err := r.ensureTLSSecret(ctx, fd, objs.TLS); err != nil {
		return err
	}
	if err := objs.AddSQLRunner(r.SQLRunner); err != nil {
		return err
	}
	for _, stage := range objs.Stages() {
		var g errgroup.Group
		for _, obj := range stage {
			g.Go(func() error {
				if err := kube.Apply(ctx, r.Client, obj, FieldOwner); err != nil {
					return fmt.Errorf("applying %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// updateLogging writes spec's logging files into the cluster's ConfigMap and marks
// the JobManager Deployment with their hash — its metadata only, so nothing rolls. The
// mark is cleared first, so that a write cut short is seen as one. Merge patches of
// those keys alone: the Flink configuration file next to them, which holds the running
// job's id and restore path, stays as deployed.
func (r *Reconciler) updateLogging(ctx context.Context, fd *v1beta1.FlinkDeployment, spec *v1beta1.FlinkDeploymentSpec) error {
	objs, err := r.renderAction(fd, spec, fd.Status.JobStatus.JobID, "")
	if err != nil {
		return err
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: objs.JobManager.Name}}
	if err := r.mergePatch(ctx, dep, map[string]any{"metadata": map[string]any{"annotations": map[string]any{render.LoggingHashAnnotation: nil}}}); err != nil {
		return fmt.Errorf("clearing the logging mark of Deployment %s: %w", dep.Name, err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: objs.Config.Name}}
	if err := r.mergePatch(ctx, cm, map[string]any{"data": objs.LoggingFiles}); err != nil {
		return fmt.Errorf("writing the logging files into ConfigMap %s: %w", cm.Name, err)
	}
	return r.mergePatch(ctx, dep, map[string]any{"metadata": map[string]any{"annotations": map[string]any{render.LoggingHashAnnotation: objs.LoggingHash}}})
}

func (r *Reconciler) mergePatch(ctx context.Context, obj client.Object, patch map[string]any) error {
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	return r.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, data), client.FieldOwner(FieldOwner))
}

// removeCluster deletes the JobManager and TaskManager Deployments (their Pods follow)
// and, unless keepHA, the HA ConfigMaps, which have no owner. With keepHA the job graph
// is taken out of the HA metadata, so that the next JobManager runs the new job graph
// from the kept checkpoints rather than the old graph.
func (r *Reconciler) removeCluster(ctx context.Context, fd *v1beta1.FlinkDeployment, keepHA bool) error {
	for _, name := range []string{fd.Name, fd.Name + "-taskmanager"} {
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: name}}
		if err := r.Client.Delete(ctx, dep, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	cms, err := r.haConfigMaps(ctx, fd)
	if err != nil {
		return err
	}
	for i := range cms {
		cm := &cms[i]
		if !keepHA {
			if err := r.Client.Delete(ctx, cm); client.IgnoreNotFound(err) != nil {
				return err
			}
			continue
		}
		if err := r.dropJobGraphs(ctx, cm); err != nil {
			return err
		}
	}
	return nil
}

// jobGraphPrefixes start the HA entries that hold submitted jobs (jobGraph- in Flink
// 1.x, executionPlan- in 2.x).
var jobGraphPrefixes = []string{"jobGraph-", "executionPlan-"}

func (r *Reconciler) dropJobGraphs(ctx context.Context, cm *corev1.ConfigMap) error {
	before := cm.DeepCopy()
	for k := range cm.Data {
		for _, p := range jobGraphPrefixes {
			if strings.HasPrefix(k, p) {
				delete(cm.Data, k)
			}
		}
	}
	if len(cm.Data) == len(before.Data) {
		return nil
	}
	return r.Client.Patch(ctx, cm, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}
