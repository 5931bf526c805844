package validation

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/api/v1beta1"
)

// CheckStateSnapshot validates a FlinkStateSnapshot's spec: one of savepoint and
// checkpoint; the job to snapshot, unless a savepoint that exists is registered; and
// that savepoint's path.
func CheckStateSnapshot(snap *v1beta1.FlinkStateSnapshot) field.ErrorList {
	spec, path := snap.Spec, field.NewPath("spec")
	var errs field.ErrorList
	switch {
	case spec.Savepoint == nil && spec.Checkpoint == nil:
		errs = append(errs, field.Required(path.Child("savepoint"), "a FlinkStateSnapshot takes a savepoint (savepoint: {}) or a checkpoint (checkpoint: {})"))
	case spec.Savepoint != nil && spec.Checkpoint != nil:
		errs = append(errs, field.Forbidden(path.Child("checkpoint"), "set exactly one of savepoint and checkpoint; create one FlinkStateSnapshot for each"))
	}
	registered := spec.Savepoint != nil && spec.Savepoint.AlreadyExists
	if registered && spec.Savepoint.Path == "" {
		errs = append(errs, field.Required(path.Child("savepoint", "path"), "alreadyExists registers the savepoint at this path, such as s3://bucket/savepoints/savepoint-1a2b3c-0123456789ab"))
	}
	ref := path.Child("jobReference")
	switch {
	case spec.JobReference == nil && !registered:
		errs = append(errs, field.Required(ref, "the job to snapshot: {kind: FlinkDeployment, name: <application>} or {kind: FlinkSessionJob, name: <session job>}"))
	case spec.JobReference == nil:
	case spec.JobReference.Kind != v1beta1.KindFlinkDeployment && spec.JobReference.Kind != v1beta1.KindFlinkSessionJob:
		errs = append(errs, field.NotSupported(ref.Child("kind"), spec.JobReference.Kind, []string{v1beta1.KindFlinkDeployment, v1beta1.KindFlinkSessionJob}))
	case spec.JobReference.Name == "":
		errs = append(errs, field.Required(ref.Child("name"), "the name of the "+spec.JobReference.Kind+" in the snapshot's namespace"))
	}
	return errs
}
