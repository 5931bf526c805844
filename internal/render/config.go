package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
)

// Flink option keys Flok reads or writes.
const (
	keyClusterID           = "kubernetes.cluster-id"
	keyNamespace           = "kubernetes.namespace"
	keyImage               = "kubernetes.container.image.ref"
	keyPullPolicy          = "kubernetes.container.image.pull-policy"
	keyPullSecrets         = "kubernetes.container.image.pull-secrets"
	keyServiceAccount      = "kubernetes.service-account"
	keyJMServiceAccount    = "kubernetes.jobmanager.service-account"
	keyTMServiceAccount    = "kubernetes.taskmanager.service-account"
	keyJMReplicas          = "kubernetes.jobmanager.replicas"
	keyJMCPU               = "kubernetes.jobmanager.cpu.amount"
	keyTMCPU               = "kubernetes.taskmanager.cpu.amount"
	keyJMMemory            = "jobmanager.memory.process.size"
	keyTMMemory            = "taskmanager.memory.process.size"
	keySlots               = "taskmanager.numberOfTaskSlots"
	keyParallelism         = "parallelism.default"
	keyTarget              = "execution.target"
	keyRPCAddress          = "jobmanager.rpc.address"
	keyRPCPort             = "jobmanager.rpc.port"
	keyBlobPort            = "blob.server.port"
	keyTMRPCPort           = "taskmanager.rpc.port"
	keyRESTPort            = "rest.port"
	keyHAClusterID         = "high-availability.cluster-id"
	keyHostNetwork         = "kubernetes.hostnetwork.enabled"
	keyRESTExposedType     = "kubernetes.rest-service.exposed.type"
	keySchedulerMode       = "scheduler-mode"
	keySecrets             = "kubernetes.secrets"
	keySecretEnv           = "kubernetes.env.secretKeyRef"
	keyEntryPath           = "kubernetes.entry.path"
	keyConfDir             = "kubernetes.flink.conf.dir"
	keyLogDir              = "kubernetes.flink.log.dir"
	keyTMTemplateFile      = "kubernetes.pod-template-file.taskmanager"
	keyApplicationJars     = "pipeline.jars"
	keyApplicationMain     = "$internal.application.main"
	keyApplicationArgs     = "$internal.application.program-args"
	keyJobID               = "$internal.pipeline.job-id"
	keyEntrypointClass     = "kubernetes.internal.jobmanager.entrypoint.class"
	keyExecutionMode       = "internal.cluster.execution-mode"
	keyShutdownOnFinish    = "execution.shutdown-on-application-finish"
	keySubmitFailedJob     = "execution.submit-failed-job-on-application-error"
	keyTMCPUCores          = "taskmanager.cpu.cores"
	keyJMNodeSelector      = "kubernetes.jobmanager.node-selector"
	keyTMNodeSelector      = "kubernetes.taskmanager.node-selector"
	keyJMTolerations       = "kubernetes.jobmanager.tolerations"
	keyTMTolerations       = "kubernetes.taskmanager.tolerations"
	keyRESTAnnotations     = "kubernetes.rest-service.annotations"
	keyInternalAnnotation  = "kubernetes.internal-service.annotations"
	keyJMEntryArgs         = "kubernetes.jobmanager.entrypoint.args"
	keyTMEntryArgs         = "kubernetes.taskmanager.entrypoint.args"
	keyCheckpointRetention = "execution.checkpointing.externalized-checkpoint-retention"
	keyRetainedCheckpoints = "execution.checkpointing.num-retained"
	// keyRetainedCheckpointsBefore120 is the same option's name before Flink 1.20.
	keyRetainedCheckpointsBefore120 = "state.checkpoints.num-retained"
)

// MainContainerName is the name of the container that runs Flink in its Pods.
const MainContainerName = "flink-main-container"

// Defaults Flink applies when an option is not set.
const (
	defaultRPCPort    = 6123
	defaultBlobPort   = 6124
	defaultTMRPCPort  = 6122
	defaultRESTPort   = 8081
	defaultEntryPath  = "/docker-entrypoint.sh"
	defaultConfDir    = "/opt/flink/conf"
	podTemplateDir    = "/opt/flink/pod-template"
	tmTemplateFile    = "taskmanager-pod-template.yaml"
	mainContainerName = MainContainerName
)

// effectiveConfig layers the configuration the cluster runs with, lowest first: the
// version's distribution defaults, Flok's defaults (state kept, metrics served), the
// operator's defaults, the user's
// flinkConfiguration, what the spec's own fields say (image, resources, parallelism),
// then what Flok must decide itself (names, targets, ports).
func (c *cluster) effectiveConfig(user flinkconf.Config) (flinkconf.Config, field.ErrorList) {
	fromSpec, errs := c.specOptions(user)
	conf := flinkconf.Merge(VersionDefaults(c.version), c.statefulDefaults(c.in.Defaults, user), c.metricsDefaults(c.in.Defaults, user),
		c.in.Defaults, user, fromSpec)
	if c.application() && c.spec().TaskManager != nil && c.spec().TaskManager.Replicas != nil && c.native() {
		// In native mode taskManager.replicas sizes the job, as in the Apache operator.
		slots, _ := strconv.Atoi(conf[keySlots])
		conf[keyParallelism] = strconv.Itoa(int(*c.spec().TaskManager.Replicas) * max(slots, 1))
	}
	conf = flinkconf.Merge(conf, c.flokOptions(conf))
	var tlsErrs field.ErrorList
	if c.ssl, tlsErrs = c.tlsSettings(conf); len(tlsErrs) == 0 {
		var ssl flinkconf.Config
		ssl, tlsErrs = c.sslOptions(conf, c.ssl)
		conf = flinkconf.Merge(conf, ssl)
	}
	return conf, append(errs, tlsErrs...)
}

// statefulDefaults keep a stateful job's checkpoints where Flok can restore them. Flok
// records the latest checkpoint and may restore from it (a last-state upgrade without
// HA, a lost cluster, a failed job's restart), so Flink must not delete checkpoints on
// cancel or failure; and since Flink's REST API caches checkpoint statistics and Flok
// observes periodically, the one it recorded may be a checkpoint or two behind, so three
// are retained rather than one. The user or the operator's defaults can choose otherwise.
func (c *cluster) statefulDefaults(defaults, user flinkconf.Config) flinkconf.Config {
	return StatefulJobDefaults(c.spec().Job, c.version, defaults, user)
}

// StatefulJobDefaults are the options a stateful job (upgradeMode other than
// stateless) gets unless one of the layers (operator defaults, the user's options)
// chooses otherwise: see statefulDefaults. Session jobs get them with their submission.
func StatefulJobDefaults(job *v1beta1.JobSpec, version flinkconf.Version, layers ...flinkconf.Config) flinkconf.Config {
	if job == nil || job.UpgradeMode == v1beta1.UpgradeModeStateless || job.UpgradeMode == "" {
		return nil
	}
	out := flinkconf.Config{keyCheckpointRetention: "RETAIN_ON_CANCELLATION"}
	for _, conf := range layers {
		if conf[keyRetainedCheckpoints] != "" || conf[keyRetainedCheckpointsBefore120] != "" {
			return out
		}
	}
	if version.AtLeast(1, 20) {
		out[keyRetainedCheckpoints] = "3"
	} else {
		out[keyRetainedCheckpointsBefore120] = "3"
	}
	return out
}

// specOptions turns the spec's own fields into the Flink options they stand for.
func (c *cluster) specOptions(user flinkconf.Config) (flinkconf.Config, field.ErrorList) {
	spec := c.spec()
	out := flinkconf.Config{}
	set := func(key, value string) {
		if value != "" {
			out[key] = value
		}
	}
	set(keyImage, spec.Image)
	set(keyPullPolicy, string(spec.ImagePullPolicy))
	set(keyServiceAccount, spec.ServiceAccount)
	var errs field.ErrorList
	specPath := field.NewPath("spec")
	if jm := spec.JobManager; jm != nil {
		if jm.Replicas > 0 {
			out[keyJMReplicas] = strconv.Itoa(int(jm.Replicas))
		}
		errs = append(errs, resourceOptions(out, jm.Resource, jm.Resources, "jobmanager", specPath.Child("jobManager"))...)
	}
	if tm := spec.TaskManager; tm != nil {
		errs = append(errs, resourceOptions(out, tm.Resource, tm.Resources, "taskmanager", specPath.Child("taskManager"))...)
	}
	if job := spec.Job; job != nil {
		if job.Parallelism > 0 {
			out[keyParallelism] = strconv.Itoa(int(job.Parallelism))
		}
		if c.native() {
			jar, class, args := c.jobEntry()
			set(keyApplicationJars, jar)
			set(keyApplicationMain, class)
			if len(args) > 0 {
				out[keyApplicationArgs] = joinList(args)
			}
		}
	}
	if r := c.in.Restore; r != nil && r.Path != "" {
		c.restoreOptions(out, r)
	}
	return out, errs
}

// restoreOptions names the snapshot to start from, under the keys of the version.
func (c *cluster) restoreOptions(out flinkconf.Config, r *Restore) {
	claim := r.ClaimMode
	if claim == "" {
		claim = "NO_CLAIM"
	}
	if c.version.AtLeast(1, 20) {
		out["execution.state-recovery.path"] = r.Path
		out["execution.state-recovery.ignore-unclaimed-state"] = strconv.FormatBool(r.AllowNonRestoredState)
		out["execution.state-recovery.claim-mode"] = claim
		return
	}
	out["execution.savepoint.path"] = r.Path
	out["execution.savepoint.ignore-unclaimed-state"] = strconv.FormatBool(r.AllowNonRestoredState)
	out["execution.savepoint-restore-mode"] = claim
}

// flokOptions are the options Flok owns: they must agree with the objects it creates.
func (c *cluster) flokOptions(conf flinkconf.Config) flinkconf.Config {
	out := flinkconf.Config{
		keyClusterID: c.name(),
		keyNamespace: c.namespace(),
	}
	zeroOr := func(key string, port int) {
		if v := strings.TrimSpace(conf[key]); v == "" || v == "0" {
			out[key] = strconv.Itoa(port)
		}
	}
	zeroOr(keyBlobPort, defaultBlobPort)
	zeroOr(keyTMRPCPort, defaultTMRPCPort)
	if conf.HighAvailability() {
		out[keyHAClusterID] = c.name()
	} else if c.native() {
		out[keyRPCAddress] = c.name() + "." + c.namespace()
	} else {
		out[keyRPCAddress] = c.name()
	}
	if c.native() {
		out[keyExecutionMode] = "NORMAL"
		if c.application() {
			out[keyTarget] = "kubernetes-application"
			out[keyEntrypointClass] = "org.apache.flink.kubernetes.entrypoint.KubernetesApplicationClusterEntrypoint"
		} else {
			out[keyTarget] = "kubernetes-session"
			out[keyEntrypointClass] = "org.apache.flink.kubernetes.entrypoint.KubernetesSessionClusterEntrypoint"
		}
	}
	if c.application() {
		// Flok observes the finished job and decides what happens to the cluster.
		out[keyShutdownOnFinish] = "false"
		if conf.HighAvailability() {
			// A job whose main() fails then shows up as a failed job rather than a
			// vanished cluster; Flink 1.20 refuses this without high availability.
			out[keySubmitFailedJob] = "true"
		}
		if c.in.JobID != "" {
			out[keyJobID] = c.in.JobID
		}
	}
	return out
}

// resourceOptions turns a JobManager's or TaskManager's resource (the Apache operator's
// shorthand) or resources (Kubernetes requests and limits) into Flink's memory, CPU and
// limit-factor options.
func resourceOptions(out flinkconf.Config, r *v1beta1.Resource, rr *corev1.ResourceRequirements, role string, path *field.Path) field.ErrorList {
	memKey, cpuKey := keyJMMemory, keyJMCPU
	if role == "taskmanager" {
		memKey, cpuKey = keyTMMemory, keyTMCPU
	}
	if r != nil && rr != nil && (len(rr.Requests) > 0 || len(rr.Limits) > 0) {
		return field.ErrorList{field.Invalid(path.Child("resources"), "", fmt.Sprintf("set %s or %s, not both", path.Child("resource"), path.Child("resources")))}
	}
	if r != nil {
		if r.Memory != "" {
			mem, err := memoryOption(r.Memory)
			if err != nil {
				return field.ErrorList{field.Invalid(path.Child("resource", "memory"), r.Memory, err.Error())}
			}
			out[memKey] = mem
		}
		if r.CPU != nil {
			out[cpuKey] = formatFloat(*r.CPU)
		}
		return nil
	}
	if rr == nil {
		return nil
	}
	var errs field.ErrorList
	if q, ok := request(rr, corev1.ResourceMemory); ok {
		out[memKey] = strconv.FormatInt(q.Value()>>20, 10) + "m"
		if lim, ok := rr.Limits[corev1.ResourceMemory]; ok {
			out["kubernetes."+role+".memory.limit-factor"] = formatFloat(float64(lim.Value()) / float64(q.Value()))
		}
	}
	if q, ok := request(rr, corev1.ResourceCPU); ok {
		out[cpuKey] = formatFloat(float64(q.MilliValue()) / 1000)
		if lim, ok := rr.Limits[corev1.ResourceCPU]; ok && q.MilliValue() > 0 {
			out["kubernetes."+role+".cpu.limit-factor"] = formatFloat(float64(lim.MilliValue()) / float64(q.MilliValue()))
		}
	}
	for _, name := range []corev1.ResourceName{corev1.ResourceMemory, corev1.ResourceCPU} {
		req, hasReq := request(rr, name)
		lim, hasLim := rr.Limits[name]
		if hasReq && hasLim && lim.Cmp(req) < 0 {
			errs = append(errs, field.Invalid(path.Child("resources", "limits").Key(string(name)), lim.String(),
				fmt.Sprintf("must be at least the request (%s)", req.String())))
		}
	}
	return errs
}

// request is a resource's request, or its limit where only a limit is given (as
// Kubernetes defaults it).
func request(rr *corev1.ResourceRequirements, name corev1.ResourceName) (resource.Quantity, bool) {
	if q, ok := rr.Requests[name]; ok {
		return q, true
	}
	q, ok := rr.Limits[name]
	return q, ok
}

// memoryOption turns a memory size into a Flink option value: a Flink size stays as
// it is (2g is 2 GiB, as Flink reads it); a Kubernetes quantity (2Gi, 2G) becomes
// whole mebibytes.
func memoryOption(text string) (string, error) {
	if _, err := flinkconf.ParseMemorySize(text); err == nil {
		return strings.TrimSpace(text), nil
	}
	q, err := resource.ParseQuantity(strings.TrimSpace(text))
	if err != nil {
		return "", fmt.Errorf("want a Flink memory size (1600m, 2g) or a Kubernetes quantity (2Gi)")
	}
	if q.Value() < 1<<20 {
		return "", fmt.Errorf("%s is less than 1 MiB", text)
	}
	return strconv.FormatInt(q.Value()>>20, 10) + "m", nil
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
