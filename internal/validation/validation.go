// Package validation says what in a FlinkDeployment's or FlinkSessionJob's spec Flok
// cannot run, as field paths with what is wrong and what would be right. The admission
// webhook refuses such resources; the controllers, for clusters that run without the
// webhook, report the same errors as an InvalidSpec condition and event.
package validation

import (
	"errors"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// Deployment is a FlinkDeployment's spec as validated.
type Deployment struct {
	// Settings are its lifecycle settings: the operator's, overridden by its
	// kubernetes.operator.* options.
	Settings lifecycle.Settings
	// Objects are its cluster's objects (nil when Errs is not empty).
	Objects *render.Objects
	Errs    field.ErrorList
}

// CheckDeployment validates fd's spec: its flinkConfiguration, its
// kubernetes.operator.* options and everything rendering its cluster checks, over
// the operator's default Flink options and settings; sqlRunner says whether the
// operator has Flok's SQL runner, which SQL jobs before Flink 2.1 need.
func CheckDeployment(fd *v1beta1.FlinkDeployment, defaults flinkconf.Config, operator lifecycle.Settings, sqlRunner bool) Deployment {
	out := Deployment{Settings: operator}
	user, ferr := flinkconf.FromSpec(rawConfig(fd.Spec.FlinkConfiguration), field.NewPath("spec", "flinkConfiguration"))
	if ferr != nil {
		out.Errs = field.ErrorList{ferr}
		return out
	}
	// A deployment whose settings are wrong is still rendered: its cluster's traits
	// (high availability, REST port) steer how the running cluster is observed.
	out.Settings, out.Errs = lifecycle.SettingsFrom(user, operator)
	objs, err := render.Render(render.Input{Deployment: fd, Defaults: defaults})
	out.Objects = objs
	var rerr *render.Error
	switch {
	case len(out.Errs) > 0:
	case errors.As(err, &rerr):
		out.Errs = rerr.Errs
	case err != nil:
		out.Errs = field.ErrorList{field.InternalError(field.NewPath("spec"), err)}
	}
	if job := fd.Spec.Job; job != nil {
		out.Errs = append(out.Errs, checkArtifact(job, field.NewPath("spec", "job"), true)...)
	}
	if objs != nil && objs.NeedsSQLRunner() && !sqlRunner {
		out.Errs = append(out.Errs, field.Invalid(field.NewPath("spec", "flinkVersion"), fd.Spec.FlinkVersion,
			"Flink before 2.1 runs a SQL job with Flok's SQL runner, and this operator has none (--sql-runner-jar): use flinkVersion v2_1 or later, whose own SQL driver Flok uses, or an operator image with the runner"))
	}
	return out
}

// SessionJob is a FlinkSessionJob's spec as validated.
type SessionJob struct {
	// Settings are its lifecycle settings: the operator's, overridden by its
	// kubernetes.operator.* options.
	Settings lifecycle.Settings
	// JobConfig is its flinkConfiguration without the operator's options: what the
	// job is submitted with.
	JobConfig flinkconf.Config
	Errs      field.ErrorList
}

// ArtifactChecker says whether Flok can fetch a jar URI (its scheme, its form).
type ArtifactChecker interface {
	Check(uri string) error
}

// CheckSessionJob validates sj's spec: its flinkConfiguration and
// kubernetes.operator.* options, and its job's jar.
func CheckSessionJob(sj *v1beta1.FlinkSessionJob, operator lifecycle.Settings, artifacts ArtifactChecker) SessionJob {
	out := SessionJob{Settings: operator}
	conf, ferr := flinkconf.FromSpec(rawConfig(sj.Spec.FlinkConfiguration), field.NewPath("spec", "flinkConfiguration"))
	if ferr != nil {
		out.Errs = field.ErrorList{ferr}
		return out
	}
	settings, errs := lifecycle.SettingsFrom(conf, operator)
	if len(errs) > 0 {
		out.Errs = errs
		return out
	}
	out.Settings, out.JobConfig = settings, withoutOperatorOptions(conf)
	jobPath := field.NewPath("spec", "job")
	switch job := sj.Spec.Job; {
	case job == nil:
		out.Errs = field.ErrorList{field.Required(jobPath, "a FlinkSessionJob runs a job: set job.jarURI (https://…/job.jar) and, if its manifest names none, job.entryClass")}
	case job.SQL != nil:
		out.Errs = field.ErrorList{field.Forbidden(jobPath.Child("sql"), "SQL runs as an application (a FlinkDeployment with spec.job.sql) for now, not in a session: move the script to a FlinkDeployment")}
	case job.JarURI == "":
		out.Errs = field.ErrorList{field.Required(jobPath.Child("jarURI"), "the job's jar, such as https://repo.example.com/jobs/job-1.0.jar")}
	default:
		if err := artifacts.Check(job.JarURI); err != nil {
			out.Errs = field.ErrorList{field.Invalid(jobPath.Child("jarURI"), job.JarURI, err.Error())}
		}
		out.Errs = append(out.Errs, checkArtifact(job, jobPath, false)...)
	}
	return out
}

// checkArtifact checks what a job says of its jar: a digest of 64 hex digits, only
// for a session job (Flink fetches an application's jar and checks none), and
// credentials only where they are used.
func checkArtifact(job *v1beta1.JobSpec, jobPath *field.Path, application bool) field.ErrorList {
	a := job.Artifact
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	switch {
	case a.SHA256 != "" && application:
		errs = append(errs, field.Forbidden(jobPath.Child("artifact", "sha256"),
			"Flink fetches an application's jar itself and checks no digest: build the jar into the image (jarURI local://…) to pin it, or run it as a session job, whose jar the operator checks"))
	case a.SHA256 != "" && !sha256Hex.MatchString(a.SHA256):
		errs = append(errs, field.Invalid(jobPath.Child("artifact", "sha256"), a.SHA256,
			"must be the jar's SHA-256 as 64 hex digits, as sha256sum prints it"))
	}
	if a.CredentialsSecret != "" && !strings.HasPrefix(job.JarURI, "s3://") {
		errs = append(errs, field.Invalid(jobPath.Child("artifact", "credentialsSecret"), a.CredentialsSecret,
			"credentials are used only for s3:// jars; remove it, or name the jar s3://bucket/key.jar"))
	}
	return errs
}

var sha256Hex = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// Settings are the lifecycle settings of a resource whose flinkConfiguration is
// config: the operator's, overridden by its kubernetes.operator.* options.
func Settings(config *runtime.RawExtension, operator lifecycle.Settings) (lifecycle.Settings, field.ErrorList) {
	conf, ferr := flinkconf.FromSpec(rawConfig(config), field.NewPath("spec", "flinkConfiguration"))
	if ferr != nil {
		return operator, field.ErrorList{ferr}
	}
	return lifecycle.SettingsFrom(conf, operator)
}

// SessionJobConfig is the Flink options sj's job is submitted with: its
// flinkConfiguration without the operator's kubernetes.operator.* options.
func SessionJobConfig(sj *v1beta1.FlinkSessionJob) (flinkconf.Config, *field.Error) {
	conf, err := flinkconf.FromSpec(rawConfig(sj.Spec.FlinkConfiguration), field.NewPath("spec", "flinkConfiguration"))
	return withoutOperatorOptions(conf), err
}

func withoutOperatorOptions(conf flinkconf.Config) flinkconf.Config {
	out := flinkconf.Config{}
	for k, v := range conf {
		if !strings.HasPrefix(k, "kubernetes.operator.") {
			out[k] = v
		}
	}
	return out
}

// Message is errs as one line for a condition or an event ("" when there are none).
func Message(errs field.ErrorList) string {
	if len(errs) == 0 {
		return ""
	}
	return errs.ToAggregate().Error()
}

func rawConfig(c *runtime.RawExtension) []byte {
	if c == nil {
		return nil
	}
	return c.Raw
}
