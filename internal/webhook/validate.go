// Package webhook is Flok's admission webhook. It refuses, at kubectl apply, the
// FlinkDeployments, FlinkSessionJobs and FlinkStateSnapshots Flok cannot run (the
// same checks the controllers report for clusters without the webhook), changes Flok
// cannot carry out (a session cluster turned into an application or back, a session
// job moved to another session, a snapshot made another) and the deletion of a session cluster its session
// jobs still use. It serves TLS with a certificate it issues from a CA it keeps in a
// Secret and rotates itself (certs.go): it needs nothing but Kubernetes.
package webhook

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/validation"
)

// Validators check FlinkDeployments, FlinkSessionJobs and FlinkStateSnapshots at
// admission.
type Validators struct {
	// Reader lists the session jobs of a session cluster (by deployment.SessionIndex).
	Reader client.Reader
	// Defaults and Settings are the operator's default Flink options and settings.
	Defaults  flinkconf.Config
	Settings  lifecycle.Settings
	Artifacts validation.ArtifactChecker
	// SQLRunner says whether the operator has Flok's SQL runner.
	SQLRunner bool
}

// Setup registers the validating webhooks with the manager's webhook server, at
// /validate-flok-dev-v1beta1-flinkdeployment,
// /validate-flok-dev-v1beta1-flinksessionjob and
// /validate-flok-dev-v1beta1-flinkstatesnapshot.
func (v *Validators) Setup(mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &v1beta1.FlinkDeployment{}).WithValidator(deploymentValidator{v}).Complete(); err != nil {
		return err
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &v1beta1.FlinkSessionJob{}).WithValidator(sessionJobValidator{v}).Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &v1beta1.FlinkStateSnapshot{}).WithValidator(snapshotValidator{}).Complete()
}

type deploymentValidator struct{ *Validators }

func (v deploymentValidator) ValidateCreate(_ context.Context, fd *v1beta1.FlinkDeployment) (admission.Warnings, error) {
	return nil, invalid(deploymentKind, fd.Name, validation.CheckDeployment(fd, v.Defaults, v.Settings, v.SQLRunner).Errs)
}

// ValidateUpdate checks a changed spec (see unchecked for what passes).
func (v deploymentValidator) ValidateUpdate(_ context.Context, old, fd *v1beta1.FlinkDeployment) (admission.Warnings, error) {
	if unchecked(fd, equality.Semantic.DeepEqual(old.Spec, fd.Spec)) {
		return nil, nil
	}
	var errs field.ErrorList
	if (old.Spec.Job == nil) != (fd.Spec.Job == nil) {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "job"), kindChange(old)))
	}
	errs = append(errs, validation.CheckDeployment(fd, v.Defaults, v.Settings, v.SQLRunner).Errs...)
	return nil, invalid(deploymentKind, fd.Name, errs)
}

func kindChange(old *v1beta1.FlinkDeployment) string {
	if old.Spec.Job == nil {
		return "a session cluster (no spec.job) cannot become an application cluster; create a new FlinkDeployment for the application, or a FlinkSessionJob to run the job in this session"
	}
	return "an application cluster cannot become a session cluster by removing spec.job; create a new FlinkDeployment without job for the session"
}

// ValidateDelete refuses to delete a session cluster while session jobs name it —
// their jobs would be cut off without a savepoint — unless the force-deletion
// annotation says so.
func (v deploymentValidator) ValidateDelete(ctx context.Context, fd *v1beta1.FlinkDeployment) (admission.Warnings, error) {
	if fd.Spec.Job != nil || fd.Annotations[v1beta1.ForceDeletionAnnotation] == "true" {
		return nil, nil
	}
	jobs := &v1beta1.FlinkSessionJobList{}
	if err := v.Reader.List(ctx, jobs, client.InNamespace(fd.Namespace), client.MatchingFields{deployment.SessionIndex: fd.Name}); err != nil {
		// A namespace this operator does not watch, say. The deletion is still held
		// by the operator's finalizer while session jobs name the cluster.
		return admission.Warnings{fmt.Sprintf("the session jobs of %s could not be checked: %v", fd.Name, err)}, nil
	}
	var names []string
	for _, j := range jobs.Items {
		if j.DeletionTimestamp == nil {
			names = append(names, j.Name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	sort.Strings(names)
	return nil, apierrors.NewForbidden(v1beta1.GroupVersion.WithResource("flinkdeployments").GroupResource(), fd.Name,
		fmt.Errorf("session cluster %s still runs the FlinkSessionJobs %s; delete them first (each stops its job as its upgradeMode says), then the session, "+
			"or annotate it %s=true to end their jobs without a savepoint", fd.Name, strings.Join(names, ", "), v1beta1.ForceDeletionAnnotation))
}

type sessionJobValidator struct{ *Validators }

func (v sessionJobValidator) ValidateCreate(_ context.Context, sj *v1beta1.FlinkSessionJob) (admission.Warnings, error) {
	return nil, invalid(sessionJobKind, sj.Name, v.check(sj))
}

// ValidateUpdate checks a changed spec (see unchecked for what passes).
func (v sessionJobValidator) ValidateUpdate(_ context.Context, old, sj *v1beta1.FlinkSessionJob) (admission.Warnings, error) {
	if unchecked(sj, equality.Semantic.DeepEqual(old.Spec, sj.Spec)) {
		return nil, nil
	}
	var errs field.ErrorList
	if old.Spec.DeploymentName != sj.Spec.DeploymentName {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "deploymentName"), fmt.Sprintf(
			"a session job cannot move to another session cluster (it runs in %s); create a new FlinkSessionJob for %s, from a savepoint of this one if it has state",
			old.Spec.DeploymentName, sj.Spec.DeploymentName)))
	}
	errs = append(errs, v.check(sj)...)
	return nil, invalid(sessionJobKind, sj.Name, errs)
}

func (v sessionJobValidator) ValidateDelete(context.Context, *v1beta1.FlinkSessionJob) (admission.Warnings, error) {
	return nil, nil
}

func (v sessionJobValidator) check(sj *v1beta1.FlinkSessionJob) field.ErrorList {
	errs := validation.CheckSessionJob(sj, v.Settings, v.Artifacts).Errs
	if sj.Spec.DeploymentName == "" {
		errs = append(field.ErrorList{field.Required(field.NewPath("spec", "deploymentName"), "the session cluster (a FlinkDeployment without job, in the same namespace) to run the job in")}, errs...)
	}
	return errs
}

// The kinds the webhook validates.
const (
	deploymentKind = "FlinkDeployment"
	sessionJobKind = "FlinkSessionJob"
)

// unchecked reports an update the webhook lets pass unchecked: one to a resource
// being deleted, or one that leaves its spec alone (finalizers, labels, annotations),
// so that a resource created before the webhook existed can still be finished with.
func unchecked(obj client.Object, sameSpec bool) bool {
	return obj.GetDeletionTimestamp() != nil || sameSpec
}

// invalid is the API's Invalid error for the named resource of kind (nil without
// errs): kubectl shows each field path, what is wrong and what would be right.
func invalid(kind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(v1beta1.GroupVersion.WithKind(kind).GroupKind(), name, errs)
}
