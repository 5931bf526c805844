package render

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
)

// podIPEnv is the variable Flink's JobManager learns its Pod IP from.
const podIPEnv = "_POD_IP_ADDRESS"

// roleBasics are the parts of a JobManager's or standalone TaskManager's Pod that do
// not depend on the mode: env, volumes, mounts, memory and CPU.
func (c *cluster) roleBasics(role string, cpu float64, cm *corev1.ConfigMap) (flinkPod, field.ErrorList) {
	fp := flinkPod{role: role, restartPolicy: corev1.RestartPolicyAlways}
	var errs field.ErrorList
	envPrefix := "containerized.master.env."
	if role == ComponentTaskManager {
		envPrefix = "containerized.taskmanager.env."
	}
	env := c.prefixedEnv(envPrefix)
	if role == ComponentJobManager || !c.native() {
		env = append(env, corev1.EnvVar{Name: podIPEnv, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"},
		}})
	}
	if dir := c.conf[keyLogDir]; dir != "" {
		env = append(env, corev1.EnvVar{Name: "FLINK_LOG_DIR", Value: dir})
	}
	secretEnv, ferrs := c.secretEnv()
	errs = append(errs, ferrs...)
	fp.container.Env = append(env, secretEnv...)
	if role == ComponentJobManager {
		fp.container.Env = append(fp.container.Env, c.jarCredentialsEnv()...)
	}

	confDir := c.conf[keyConfDir]
	if confDir == "" {
		confDir = defaultConfDir
	}
	fp.volumes = []corev1.Volume{c.configVolumeSource(cm)}
	fp.container.VolumeMounts = []corev1.VolumeMount{{Name: configVolume, MountPath: confDir}}
	volumes, mounts, ferr := c.secretVolumes()
	if ferr != nil {
		errs = append(errs, ferr)
	}
	fp.volumes = append(fp.volumes, volumes...)
	fp.container.VolumeMounts = append(fp.container.VolumeMounts, mounts...)

	resources, ferrs := c.containerResources(role, cpu)
	errs = append(errs, ferrs...)
	fp.container.Resources = resources
	entry := c.conf[keyEntryPath]
	if entry == "" {
		entry = defaultEntryPath
	}
	fp.container.Command = []string{entry}
	labels, ferr := c.mapOption("kubernetes." + role + ".labels")
	if ferr != nil {
		errs = append(errs, ferr)
	}
	fp.labels = mergeStrings(labels, c.selector(role))
	fp.annotations, ferr = c.mapOption("kubernetes." + role + ".annotations")
	if ferr != nil {
		errs = append(errs, ferr)
	}
	return fp, errs
}

// jobManagerPod is the JobManager's Pod of either mode, args and extra volumes aside.
func (c *cluster) jobManagerPod(cm *corev1.ConfigMap) (flinkPod, field.ErrorList) {
	cpu, ferr := c.cpuOption(keyJMCPU, 1.0)
	fp, errs := c.roleBasics(ComponentJobManager, cpu, cm)
	c.sqlVolume(cm, &fp)
	if ferr != nil {
		errs = append(errs, ferr)
	}
	ports, perrs := c.jobManagerPorts()
	errs = append(errs, perrs...)
	fp.container.Ports = []corev1.ContainerPort{
		{Name: "rest", ContainerPort: ports.restTarget, Protocol: corev1.ProtocolTCP},
		{Name: "jobmanager-rpc", ContainerPort: ports.rpc, Protocol: corev1.ProtocolTCP},
		{Name: "blobserver", ContainerPort: ports.blob, Protocol: corev1.ProtocolTCP},
	}
	fp.container.Ports = append(fp.container.Ports, c.metricsPorts()...)
	var probeErrs field.ErrorList
	fp.container.StartupProbe, fp.container.LivenessProbe, probeErrs = c.jobManagerProbes(ports.restTarget)
	return fp, append(errs, probeErrs...)
}

// jobManagerDeployment wraps the JobManager Pod in Deployment <name>. Its strategy is
// Recreate: a JobManager is stopped before another starts, so that two never run the
// same job (Flink's client leaves the default rolling update).
func (c *cluster) jobManagerDeployment(fp flinkPod) (*appsv1.Deployment, field.ErrorList) {
	replicas := int32(1)
	var errs field.ErrorList
	if v, err := c.replicas(keyJMReplicas); err != nil {
		errs = append(errs, err)
	} else if v > 0 {
		replicas = v
	}
	dep, ferrs := c.roleDeployment(c.name(), c.jmTemplate, field.NewPath("spec", "jobManager", "podTemplate"), fp, replicas)
	if dep != nil {
		dep.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	return dep, append(errs, ferrs...)
}

// roleDeployment is the Deployment of one role's Pods: its layered template with
// Flink's rules applied, selected by the role's labels.
func (c *cluster) roleDeployment(name string, template map[string]any, path *field.Path, fp flinkPod, replicas int32) (*appsv1.Deployment, field.ErrorList) {
	tmpl, ferr := decodePod(template, path)
	if ferr != nil {
		return nil, field.ErrorList{ferr}
	}
	podTemplate, errs := c.decoratePod(tmpl, fp)
	meta := c.objectMeta(name, fp.labels)
	meta.Annotations = mergeStrings(nil, fp.annotations)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: c.selector(fp.role)},
			Template: podTemplate,
		},
	}, errs
}

// jarCredentialsEnv gives an application's JobManager, which fetches an s3:// jar at
// start, the access key of spec.job.artifact.credentialsSecret, where Flink's S3 file
// systems look for one.
func (c *cluster) jarCredentialsEnv() []corev1.EnvVar {
	job := c.spec().Job
	if job == nil || job.Artifact == nil || job.Artifact.CredentialsSecret == "" {
		return nil
	}
	ref := func(key string, optional bool) corev1.EnvVar {
		return corev1.EnvVar{Name: key, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: job.Artifact.CredentialsSecret}, Key: key, Optional: ptr.To(optional),
		}}}
	}
	return []corev1.EnvVar{
		ref(v1beta1.CredentialsAccessKeyID, false), ref(v1beta1.CredentialsSecretAccessKey, false), ref(v1beta1.CredentialsSessionToken, true),
	}
}
