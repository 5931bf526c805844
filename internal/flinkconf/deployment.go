package flinkconf

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/api/v1beta1"
)

// FromSpec reads a resource's flinkConfiguration (flat or nested) into a Config.
func FromSpec(raw []byte, path *field.Path) (Config, *field.Error) {
	if len(raw) == 0 {
		return Config{}, nil
	}
	c, err := Parse(raw)
	if err != nil {
		return nil, field.Invalid(path, string(raw), err.Error())
	}
	return c, nil
}

// ValidateDeployment checks what a FlinkDeployment asks of Flink before anything is
// deployed: its configuration (see Config.Validate), the memory sizes of its
// JobManager and TaskManagers, JobManager replicas without high availability, job
// parallelism, and last-state upgrades with neither high availability nor checkpoints.
// Each error names the field, what is wrong and what would be right.
func ValidateDeployment(spec *v1beta1.FlinkDeploymentSpec) field.ErrorList {
	specPath := field.NewPath("spec")
	confPath := specPath.Child("flinkConfiguration")
	var raw []byte
	if spec.FlinkConfiguration != nil {
		raw = spec.FlinkConfiguration.Raw
	}
	conf, ferr := FromSpec(raw, confPath)
	if ferr != nil {
		return field.ErrorList{ferr}
	}
	errs := conf.Validate(confPath)
	if spec.FlinkVersion != "" {
		if _, err := ParseVersion(string(spec.FlinkVersion)); err != nil {
			errs = append(errs, field.Invalid(specPath.Child("flinkVersion"), spec.FlinkVersion, err.Error()))
		}
	}
	if jm := spec.JobManager; jm != nil {
		errs = append(errs, validateResource(jm.Resource, specPath.Child("jobManager", "resource"))...)
		if jm.Replicas > 1 && !conf.HighAvailability() {
			errs = append(errs, field.Invalid(specPath.Child("jobManager", "replicas"), jm.Replicas,
				"more than one JobManager needs high availability: set high-availability.type: kubernetes and high-availability.storageDir in spec.flinkConfiguration, or use 1 replica"))
		}
	}
	if tm := spec.TaskManager; tm != nil {
		errs = append(errs, validateResource(tm.Resource, specPath.Child("taskManager", "resource"))...)
	}
	if job := spec.Job; job != nil {
		jobPath := specPath.Child("job")
		if job.Parallelism < 0 {
			errs = append(errs, field.Invalid(jobPath.Child("parallelism"), job.Parallelism, "must be 1 or more (or unset for the cluster default)"))
		}
		if job.UpgradeMode == v1beta1.UpgradeModeSavepoint && conf.SavepointDir() == "" {
			errs = append(errs, field.Invalid(jobPath.Child("upgradeMode"), job.UpgradeMode,
				"savepoint upgrades need a savepoint directory: set execution.checkpointing.savepoint-dir (state.savepoints.dir before Flink 1.20) in spec.flinkConfiguration, such as s3://bucket/savepoints"))
		}
		if job.UpgradeMode == v1beta1.UpgradeModeLastState && !conf.HighAvailability() && !conf.Checkpointing() {
			errs = append(errs, field.Invalid(jobPath.Child("upgradeMode"), job.UpgradeMode,
				"last-state needs high availability or checkpoints to take the state from: configure high-availability.type and high-availability.storageDir, or execution.checkpointing.interval and execution.checkpointing.dir, or use upgradeMode: savepoint"))
		}
	}
	return errs
}

// Checkpointing reports whether periodic checkpoints go to a durable directory.
func (c Config) Checkpointing() bool {
	interval := strings.TrimSpace(c["execution.checkpointing.interval"])
	dir := strings.TrimSpace(c["execution.checkpointing.dir"] + c["state.checkpoints.dir"])
	return interval != "" && interval != "0" && dir != ""
}

// SavepointDir is the default directory of savepoints ("" when there is none).
func (c Config) SavepointDir() string {
	if dir := strings.TrimSpace(c["execution.checkpointing.savepoint-dir"]); dir != "" {
		return dir
	}
	return strings.TrimSpace(c["state.savepoints.dir"])
}

// validateResource checks a JobManager's or TaskManager's resource shorthand: memory
// as a Flink or Kubernetes size, CPU above zero.
func validateResource(r *v1beta1.Resource, path *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if r.Memory != "" {
		if _, err := ParseMemorySize(r.Memory); err != nil && !isKubernetesQuantity(r.Memory) {
			errs = append(errs, field.Invalid(path.Child("memory"), r.Memory, err.Error()+" (or a Kubernetes quantity such as 2Gi)"))
		}
	}
	if r.CPU != nil && *r.CPU <= 0 {
		errs = append(errs, field.Invalid(path.Child("cpu"), *r.CPU, "must be above 0, such as 0.5 or 2"))
	}
	return errs
}
