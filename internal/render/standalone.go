package render

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// standaloneObjects are the JobManager Deployment and the TaskManager Deployment
// <name>-taskmanager of a standalone cluster, whose Flink processes need no rights on
// the Kubernetes API (unless high availability keeps its leaders in ConfigMaps).
func (c *cluster) standaloneObjects(o *Objects) field.ErrorList {
	fp, errs := c.jobManagerPod(o.Config)
	fp.container.Args = c.standaloneJobManagerArgs()
	jm, ferrs := c.jobManagerDeployment(fp)
	o.JobManager = jm
	errs = append(errs, ferrs...)
	tm, ferrs := c.standaloneTaskManagers(o.Config)
	o.TaskManager = tm
	return append(errs, ferrs...)
}

// standaloneJobManagerArgs are the image entrypoint's arguments: jobmanager for a
// session, standalone-job with the job's class, jar, id and snapshot for an
// application. With high availability the JobManager advertises its Pod IP.
func (c *cluster) standaloneJobManagerArgs() []string {
	podIP := "$(" + podIPEnv + ")"
	if !c.application() {
		args := []string{"jobmanager"}
		if c.highAvailability() {
			args = append(args, podIP)
		}
		return args
	}
	jar, class, jobArgs := c.jobEntry()
	args := []string{"standalone-job"}
	if c.highAvailability() {
		args = append(args, "--host", podIP)
	}
	if class != "" {
		args = append(args, "--job-classname", class)
	}
	if c.in.JobID != "" {
		args = append(args, "--job-id", c.in.JobID)
	}
	if jar != "" {
		args = append(args, "--jars", jar)
	}
	if r := c.in.Restore; r != nil && r.Path != "" {
		// The entrypoint turns its own flags into the restore settings and would
		// otherwise reset them; the configuration carries the same.
		args = append(args, "--fromSavepoint", r.Path)
		if r.AllowNonRestoredState {
			args = append(args, "--allowNonRestoredState")
		}
	}
	return append(args, jobArgs...)
}

// standaloneTaskManagers is Deployment <name>-taskmanager.
func (c *cluster) standaloneTaskManagers(cm *corev1.ConfigMap) (*appsv1.Deployment, field.ErrorList) {
	cpu, errs := c.taskManagerCPU()
	fp, ferrs := c.roleBasics(ComponentTaskManager, cpu, cm)
	errs = append(errs, ferrs...)
	port, ferr := c.port(keyTMRPCPort, defaultTMRPCPort)
	if ferr != nil {
		errs = append(errs, ferr)
	}
	fp.container.Ports = append([]corev1.ContainerPort{{Name: "taskmanager-rpc", ContainerPort: port, Protocol: corev1.ProtocolTCP}}, c.metricsPorts()...)
	if fp.container.LivenessProbe, ferr = c.taskManagerLiveness(); ferr != nil {
		errs = append(errs, ferr)
	}
	fp.container.Args = append([]string{"taskmanager"}, strings.Fields(c.conf[keyTMEntryArgs])...)
	dep, ferrs := c.roleDeployment(c.name()+"-taskmanager", c.tmTemplate, field.NewPath("spec", "taskManager", "podTemplate"), fp, c.taskManagerReplicas())
	return dep, append(errs, ferrs...)
}

// taskManagerCPU follows Flink: taskmanager.cpu.cores, else
// kubernetes.taskmanager.cpu.amount when above zero, else one core per slot.
func (c *cluster) taskManagerCPU() (float64, field.ErrorList) {
	slots, _ := strconv.Atoi(c.conf[keySlots])
	cpu, err := c.cpuOption(keyTMCPU, float64(max(slots, 1)))
	if err != nil {
		return 0, field.ErrorList{err}
	}
	cpu, err = c.cpuOption(keyTMCPUCores, cpu)
	if err != nil {
		return 0, field.ErrorList{err}
	}
	return cpu, nil
}

// taskManagerReplicas is spec.taskManager.replicas, else enough TaskManagers for the
// job's parallelism, else one.
func (c *cluster) taskManagerReplicas() int32 {
	if tm := c.spec().TaskManager; tm != nil && tm.Replicas != nil {
		return *tm.Replicas
	}
	if !c.application() {
		return 1
	}
	slots, _ := strconv.Atoi(c.conf[keySlots])
	parallelism, _ := strconv.Atoi(c.conf[keyParallelism])
	slots, parallelism = max(slots, 1), max(parallelism, 1)
	return int32((parallelism + slots - 1) / slots)
}
