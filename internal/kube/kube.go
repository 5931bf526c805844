// Package kube holds the writes Flok makes to the Kubernetes API in one place, for the
// reconcilers and the command line alike: server-side apply of typed objects, status
// patches guarded by the resource version, finalizers and events.
package kube

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Finalizer keeps a Flok resource until its job is stopped and its cluster (or, for a
// session job, its job) and high-availability data are gone.
const Finalizer = "flok.dev/finalizer"

// Apply server-side applies a typed object as the only manager of its fields, forcing
// ownership; applying it again changes nothing.
func Apply(ctx context.Context, c client.Client, obj client.Object, fieldOwner string) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(data, &u.Object); err != nil {
		return err
	}
	// Typed objects always carry these empty; they are not the applier's to set.
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
}

// PatchStatus writes obj's status over before's, guarded by before's resource
// version: if someone else wrote first the patch fails with a conflict, and the caller
// decides again from the newer status.
func PatchStatus(ctx context.Context, c client.Client, obj, before client.Object) error {
	if err := c.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("recording the status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// RecordStatus makes decided obj's status (status points into obj) and writes it as
// PatchStatus does; nothing when it is unchanged.
func RecordStatus[S any](ctx context.Context, c client.Client, obj client.Object, status *S, decided S) error {
	if equality.Semantic.DeepEqual(*status, decided) {
		return nil
	}
	before := obj.DeepCopyObject().(client.Object)
	*status = decided
	return PatchStatus(ctx, c, obj, before)
}

// HoldFinalizer adds Finalizer to a live resource. It reports done for a resource
// being deleted that no longer carries it: nothing is left to do for it.
func HoldFinalizer(ctx context.Context, c client.Client, obj client.Object) (done bool, err error) {
	has := controllerutil.ContainsFinalizer(obj, Finalizer)
	if obj.GetDeletionTimestamp() != nil {
		return !has, nil
	}
	if has {
		return false, nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.AddFinalizer(obj, Finalizer)
	return false, c.Patch(ctx, obj, patch)
}

// ReleaseFinalizer removes Finalizer, letting the API server delete the resource.
func ReleaseFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.RemoveFinalizer(obj, Finalizer)
	return c.Patch(ctx, obj, patch)
}

// Event records a Normal (or Warning) event about obj from a reconciliation.
func Event(recorder events.EventRecorder, obj client.Object, warning bool, reason, message string) {
	kind := corev1.EventTypeNormal
	if warning {
		kind = corev1.EventTypeWarning
	}
	recorder.Eventf(obj, nil, kind, reason, "Reconcile", "%s", message)
}
