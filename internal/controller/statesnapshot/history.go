package statesnapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/validation"
)

// Labels of the FlinkStateSnapshots that record a job's savepoint history.
const (
	// LabelTriggerType is the savepoint's trigger (UPGRADE, MANUAL, PERIODIC), the
	// Apache operator's label.
	LabelTriggerType = "snapshot.type"
	// LabelHistoryOf is the uid of the FlinkDeployment or FlinkSessionJob whose
	// history the snapshot records: a resource deleted and created again under the
	// same name never touches the records of the one before.
	LabelHistoryOf = "flok.dev/history-of"
)

// History keeps, for each FlinkDeployment and FlinkSessionJob, one FlinkStateSnapshot
// per savepoint of its status's savepoint history (kubernetes.operator.snapshot.resource.enabled):
// the savepoints Flok takes itself — on upgrades, suspensions, nonces and periodically
// — become resources like those users create. A savepoint the history drops (by
// kubernetes.operator.savepoint.history.max.count and .max.age) has its snapshot
// deleted, and with kubernetes.operator.savepoint.dispose-on-delete its files
// disposed of — never the one the job would restore from. The status stays the
// record the lifecycle decides from; the snapshots follow it, so a crash loses none
// (they are created again, under the same names). They have no owner: deleting the
// job leaves them, as the savepoints; turning the option off leaves those made.
type History struct {
	Client client.Client
	// Settings are the operator's default lifecycle settings; each resource's
	// kubernetes.operator.* options override them.
	Settings lifecycle.Settings
}

// SetupWithManager registers one controller per kind, each woken when a resource's
// savepoint history, the savepoints its job restores from, or its spec (its options)
// change.
func (h *History) SetupWithManager(mgr ctrl.Manager) error {
	historyChanged := predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return historyKey(e.ObjectOld) != historyKey(e.ObjectNew) || e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration()
		},
		CreateFunc: func(e event.CreateEvent) bool { return historyKey(e.Object) != "" },
		DeleteFunc: func(event.DeleteEvent) bool { return false },
	}
	for _, kind := range []client.Object{&v1beta1.FlinkDeployment{}, &v1beta1.FlinkSessionJob{}} {
		name := strings.ToLower(v1beta1.KindOf(kind)) + "-history"
		err := ctrl.NewControllerManagedBy(mgr).Named(name).
			For(kind, builder.WithPredicates(historyChanged)).
			Complete(historyReconciler{h, kind})
		if err != nil {
			return err
		}
	}
	return nil
}

type historyReconciler struct {
	*History
	kind client.Object
}

// Reconcile makes the snapshots of one resource's history match it.
func (r historyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.kind.DeepCopyObject().(client.Object)
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	settings, ok := r.settingsOf(obj)
	if !ok || !settings.SnapshotResources {
		return ctrl.Result{}, nil // records made before stay: they may dispose of files
	}
	wanted := map[string]v1beta1.FlinkStateSnapshot{}
	for _, sp := range history(obj) {
		snap := recordOf(obj, sp, settings.SavepointDisposeOnDelete)
		wanted[snap.Name] = snap
	}
	have := &v1beta1.FlinkStateSnapshotList{}
	if err := r.Client.List(ctx, have, client.InNamespace(obj.GetNamespace()), client.MatchingLabels{LabelHistoryOf: historyLabel(obj)}); err != nil {
		return ctrl.Result{}, err
	}
	inUse := restorePaths(obj)
	for i := range have.Items {
		snap := &have.Items[i]
		_, keep := wanted[snap.Name]
		delete(wanted, snap.Name)
		// A deleted job's last savepoint, taken on its way out, outlives it; the one a
		// job would restore from is never let go with its files.
		if keep || obj.GetDeletionTimestamp() != nil || inUse[snap.Spec.Savepoint.Path] {
			continue
		}
		if err := client.IgnoreNotFound(r.Client.Delete(ctx, snap)); err != nil {
			return ctrl.Result{}, fmt.Errorf("deleting %s, which the savepoint history no longer holds: %w", snap.Name, err)
		}
	}
	for _, snap := range wanted {
		if err := r.Client.Create(ctx, &snap); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, fmt.Errorf("recording savepoint %s as %s: %w", snap.Spec.Savepoint.Path, snap.Name, err)
		}
	}
	return ctrl.Result{}, nil
}

// settingsOf are the resource's lifecycle settings; false when its options do not
// read (the controllers report those).
func (r historyReconciler) settingsOf(obj client.Object) (lifecycle.Settings, bool) {
	var config *runtime.RawExtension
	switch o := obj.(type) {
	case *v1beta1.FlinkDeployment:
		config = o.Spec.FlinkConfiguration
	case *v1beta1.FlinkSessionJob:
		config = o.Spec.FlinkConfiguration
	}
	s, errs := validation.Settings(config, r.Settings)
	return s, len(errs) == 0
}

// restorePaths are the savepoints a resource's job restores from: its latest, and the
// one its upgrade or suspension recorded.
func restorePaths(obj client.Object) map[string]bool {
	st, _ := v1beta1.StatusOf(obj)
	js := st.JobStatus
	out := map[string]bool{js.UpgradeSavepointPath: true}
	if info := js.SavepointInfo; info != nil && info.LastSavepoint != nil {
		out[info.LastSavepoint.Location] = true
	}
	delete(out, "")
	return out
}

// recordOf is the FlinkStateSnapshot that records savepoint sp of obj's history,
// named after it and the time it was taken, like the Apache operator's.
func recordOf(obj client.Object, sp v1beta1.Snapshot, disposeOnDelete bool) v1beta1.FlinkStateSnapshot {
	trigger := strings.ToLower(sp.TriggerType)
	if trigger == "" {
		trigger = "unknown"
	}
	return v1beta1.FlinkStateSnapshot{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: obj.GetNamespace(),
			Name:      recordName(obj.GetName(), trigger, sp.TimeStamp),
			Labels:    map[string]string{LabelTriggerType: strings.ToUpper(trigger), LabelHistoryOf: historyLabel(obj)},
		},
		Spec: v1beta1.FlinkStateSnapshotSpec{
			JobReference: &v1beta1.JobReference{Kind: v1beta1.KindOf(obj), Name: obj.GetName()},
			Savepoint: &v1beta1.SavepointSpec{
				Path: sp.Location, FormatType: sp.FormatType, AlreadyExists: true, DisposeOnDelete: ptr.To(disposeOnDelete),
			},
		},
	}
}

// recordName is "<name>-savepoint-<trigger>-<time>", the resource's name shortened
// (with a hash of it) when the whole would pass Kubernetes' 253 characters.
func recordName(name, trigger string, millis int64) string {
	suffix := fmt.Sprintf("-savepoint-%s-%d", trigger, millis)
	if len(name)+len(suffix) > maxNameLength {
		sum := sha256.Sum256([]byte(name))
		name = strings.TrimRight(name[:maxNameLength-len(suffix)-13], "-.") + "-" + hex.EncodeToString(sum[:6])
	}
	return name + suffix
}

// maxNameLength is the longest name of a Kubernetes object.
const maxNameLength = 253

func historyLabel(obj client.Object) string { return string(obj.GetUID()) }

// history is the savepoint history a resource's status records.
func history(obj client.Object) []v1beta1.Snapshot {
	if st, _ := v1beta1.StatusOf(obj); st.JobStatus.SavepointInfo != nil {
		return st.JobStatus.SavepointInfo.SavepointHistory
	}
	return nil
}

// historyKey identifies a resource's savepoint history and the savepoints its job
// restores from, to notice their changes: a record kept because its savepoint was
// the job's restore point goes when the job moves on to another.
func historyKey(obj client.Object) string {
	var b strings.Builder
	for _, sp := range history(obj) {
		fmt.Fprintf(&b, "%d %s\n", sp.TimeStamp, sp.Location)
	}
	if b.Len() == 0 {
		return ""
	}
	for _, path := range slices.Sorted(maps.Keys(restorePaths(obj))) {
		fmt.Fprintf(&b, "restores %s\n", path)
	}
	return b.String()
}
