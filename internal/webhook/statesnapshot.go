package webhook

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/validation"
)

// snapshotKind is the kind of FlinkStateSnapshots.
const snapshotKind = "FlinkStateSnapshot"

type snapshotValidator struct{}

func (snapshotValidator) ValidateCreate(_ context.Context, snap *v1beta1.FlinkStateSnapshot) (admission.Warnings, error) {
	return nil, invalid(snapshotKind, snap.Name, validation.CheckStateSnapshot(snap))
}

// ValidateUpdate refuses changes to what a snapshot is — its job, kind, path and
// format — once it exists: a snapshot is taken once. What happens on failure and on
// deletion (backoffLimit, savepoint.disposeOnDelete) may change.
func (snapshotValidator) ValidateUpdate(_ context.Context, old, snap *v1beta1.FlinkStateSnapshot) (admission.Warnings, error) {
	if unchecked(snap, equality.Semantic.DeepEqual(old.Spec, snap.Spec)) {
		return nil, nil
	}
	if !equality.Semantic.DeepEqual(identity(old.Spec), identity(snap.Spec)) {
		return nil, invalid(snapshotKind, snap.Name, field.ErrorList{field.Forbidden(field.NewPath("spec"),
			"a FlinkStateSnapshot's job, kind, path and format cannot change once it exists (only backoffLimit and savepoint.disposeOnDelete can); create a new FlinkStateSnapshot")})
	}
	return nil, invalid(snapshotKind, snap.Name, validation.CheckStateSnapshot(snap))
}

func (snapshotValidator) ValidateDelete(context.Context, *v1beta1.FlinkStateSnapshot) (admission.Warnings, error) {
	return nil, nil
}

// identity is a snapshot's spec without the fields that may change.
func identity(spec v1beta1.FlinkStateSnapshotSpec) v1beta1.FlinkStateSnapshotSpec {
	out := *spec.DeepCopy()
	out.BackoffLimit = nil
	if out.Savepoint != nil {
		out.Savepoint.DisposeOnDelete = nil
	}
	return out
}
