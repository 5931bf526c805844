package render

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

const podTemplateVolume = "pod-template-volume"

// nativeObjects are the objects Flink's native client creates: the JobManager
// Deployment and, when the TaskManagers have a template, the ConfigMap the
// ResourceManager reads it from. Flink creates the TaskManager Pods itself.
func (c *cluster) nativeObjects(o *Objects) field.ErrorList {
	fp, errs := c.jobManagerPod(o.Config)
	mode := "kubernetes-session"
	if c.application() {
		mode = "kubernetes-application"
	}
	fp.container.Args = []string{"bash", "-c", "kubernetes-jobmanager.sh " + mode + " " + c.conf[keyJMEntryArgs]}
	if c.version.AtLeast(1, 19) {
		// Since 1.19 Flink's client gives the JobManager a scratch directory for the
		// artifacts it fetches (user.artifacts.base-dir).
		fp.volumes = append(fp.volumes, corev1.Volume{Name: "user-artifacts-volume", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		fp.container.VolumeMounts = append(fp.container.VolumeMounts, corev1.VolumeMount{Name: "user-artifacts-volume", MountPath: "/opt/flink/artifacts"})
	}
	cm, err := c.taskManagerTemplateConfigMap()
	if err != nil {
		return append(errs, err)
	}
	if cm != nil {
		o.TaskManagerPodTemplate = cm
		fp.volumes = append(fp.volumes, corev1.Volume{Name: podTemplateVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name},
			Items:                []corev1.KeyToPath{{Key: tmTemplateFile, Path: tmTemplateFile}},
		}}})
		fp.container.VolumeMounts = append(fp.container.VolumeMounts, corev1.VolumeMount{Name: podTemplateVolume, MountPath: podTemplateDir})
	}
	jm, ferrs := c.jobManagerDeployment(fp)
	o.JobManager = jm
	return append(errs, ferrs...)
}

// taskManagerTemplateConfigMap is pod-template-<name>, the TaskManagers' layered
// template, when there is one. Flink's ResourceManager applies its own rules to it for
// every TaskManager Pod; Flok only makes sure it has a main container, declares the
// metrics port and a liveness probe (unless the template has one), and fills in the image when neither the configuration nor the template
// names one, so that TaskManagers run the JobManager's image.
func (c *cluster) taskManagerTemplateConfigMap() (*corev1.ConfigMap, *field.Error) {
	path := field.NewPath("spec", "taskManager", "podTemplate")
	pod, ferr := decodePod(c.tmTemplate, path)
	if ferr != nil {
		return nil, ferr
	}
	metrics := c.metricsPorts()
	liveness, ferr := c.taskManagerLiveness()
	if ferr != nil {
		return nil, ferr
	}
	if len(c.tmTemplate) == 0 && c.conf[keyImage] != "" && len(metrics) == 0 && liveness == nil {
		return nil, nil
	}
	// Flink reads the template's containers without checking that there are any, so
	// the main container is always there. Flink adds its own ports to the template's.
	main, sidecars := splitMainContainer(pod.Spec.Containers)
	main.Name = mainContainerName
	main.Ports = mergeNamed(main.Ports, metrics, func(p corev1.ContainerPort) string { return p.Name })
	if main.LivenessProbe == nil {
		main.LivenessProbe = liveness
	}
	if main.Image == "" && c.conf[keyImage] == "" {
		main.Image = c.defaultImage()
	}
	pod.Spec.Containers = append([]corev1.Container{main}, sidecars...)
	pod.APIVersion, pod.Kind = "v1", "Pod"
	data, err := yaml.Marshal(pod)
	if err != nil {
		return nil, field.InternalError(path, err)
	}
	// A decoded Pod always carries an empty status and creation timestamp; they mean
	// nothing in a template.
	text := strings.ReplaceAll(string(data), "status: {}\n", "")
	text = strings.ReplaceAll(text, "  creationTimestamp: null\n", "")
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: c.objectMeta("pod-template-"+c.name(), c.commonLabels()),
		Data:       map[string]string{tmTemplateFile: text},
	}, nil
}

// replicas reads a replica-count option.
func (c *cluster) replicas(key string) (int32, *field.Error) {
	v := strings.TrimSpace(c.conf[key])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 {
		return 0, field.Invalid(field.NewPath("spec", "flinkConfiguration").Key(key), v, "must be a whole number of 1 or more")
	}
	return int32(n), nil
}
