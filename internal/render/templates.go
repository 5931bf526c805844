package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/api/v1beta1"
)

// layerTemplates layers each role's pod template — spec.podTemplate, then the role's
// own, then what the role's resource fields add beyond memory and CPU (ephemeral
// storage, GPUs) — checking each layer is a Pod. It then settles the service account:
// when no option and no template names one and the Flink processes need API rights,
// Flok creates one and names it in the configuration, for Flink's TaskManager Pods too.
func (c *cluster) layerTemplates() field.ErrorList {
	spec := c.spec()
	specPath := field.NewPath("spec")
	var errs field.ErrorList
	layer := func(raw *runtime.RawExtension, path *field.Path) map[string]any {
		obj, err := templateLayer(raw, path)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if _, err := decodePod(obj, path); err != nil {
			errs = append(errs, err)
			return nil
		}
		return obj
	}
	base := layer(spec.PodTemplate, specPath.Child("podTemplate"))
	var jmLayer, tmLayer map[string]any
	var jmRes, tmRes *v1beta1.Resource
	var jmReqs, tmReqs *corev1.ResourceRequirements
	if jm := spec.JobManager; jm != nil {
		jmLayer = layer(jm.PodTemplate, specPath.Child("jobManager", "podTemplate"))
		jmRes, jmReqs = jm.Resource, jm.Resources
	}
	if tm := spec.TaskManager; tm != nil {
		tmLayer = layer(tm.PodTemplate, specPath.Child("taskManager", "podTemplate"))
		tmRes, tmReqs = tm.Resource, tm.Resources
	}
	c.jmTemplate = LayerTemplates(base, jmLayer, extraResourcesLayer(jmRes, jmReqs))
	c.tmTemplate = LayerTemplates(base, tmLayer, extraResourcesLayer(tmRes, tmReqs))
	if len(errs) == 0 && c.createsServiceAccount() {
		c.ownServiceAccount = true
		c.conf[keyServiceAccount] = c.serviceAccountName()
	}
	return errs
}

// extraResourcesLayer is a template layer with the resources Flink does not size
// itself: ephemeral storage and extended resources such as nvidia.com/gpu.
func extraResourcesLayer(r *v1beta1.Resource, rr *corev1.ResourceRequirements) map[string]any {
	requests, limits := map[string]any{}, map[string]any{}
	if r != nil && r.EphemeralStorage != "" {
		requests["ephemeral-storage"] = r.EphemeralStorage
		limits["ephemeral-storage"] = r.EphemeralStorage
	}
	if rr != nil {
		for name, q := range rr.Requests {
			if name != corev1.ResourceMemory && name != corev1.ResourceCPU {
				requests[string(name)] = q.String()
			}
		}
		for name, q := range rr.Limits {
			if name != corev1.ResourceMemory && name != corev1.ResourceCPU {
				limits[string(name)] = q.String()
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return nil
	}
	resources := map[string]any{}
	if len(requests) > 0 {
		resources["requests"] = requests
	}
	if len(limits) > 0 {
		resources["limits"] = limits
	}
	return map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"name": mainContainerName, "resources": resources},
	}}}
}

// createsServiceAccount reports whether Flok creates the Flink processes' service
// account: they need API rights (native mode creates TaskManager Pods; high
// availability keeps leader ConfigMaps) and the user named none.
func (c *cluster) createsServiceAccount() bool {
	if !c.native() && !c.highAvailability() {
		return false
	}
	for _, key := range []string{keyServiceAccount, keyJMServiceAccount, keyTMServiceAccount} {
		if c.conf[key] != "" {
			return false
		}
	}
	for _, t := range []map[string]any{c.jmTemplate, c.tmTemplate} {
		if spec, ok := t["spec"].(map[string]any); ok {
			if sa, _ := spec["serviceAccountName"].(string); sa != "" {
				return false
			}
			if sa, _ := spec["serviceAccount"].(string); sa != "" {
				return false
			}
		}
	}
	return true
}

// secretVolumes mounts each secret of kubernetes.secrets ("name:/path,…") at its
// path, as volume <name>-volume.
func (c *cluster) secretVolumes() ([]corev1.Volume, []corev1.VolumeMount, *field.Error) {
	m, err := c.mapOption(keySecrets)
	if err != nil {
		return nil, nil, err
	}
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	for _, name := range sortedKeys(m) {
		volumes = append(volumes, corev1.Volume{
			Name:         name + "-volume",
			VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}},
		})
		mounts = append(mounts, corev1.VolumeMount{Name: name + "-volume", MountPath: m[name]})
	}
	return volumes, mounts, nil
}

// secretEnv reads kubernetes.env.secretKeyRef ("env:NAME,secret:s,key:k;…").
func (c *cluster) secretEnv() ([]corev1.EnvVar, field.ErrorList) {
	path := field.NewPath("spec", "flinkConfiguration").Key(keySecretEnv)
	items, err := parseMapList(c.conf[keySecretEnv])
	if err != nil {
		return nil, field.ErrorList{field.Invalid(path, c.conf[keySecretEnv], err.Error())}
	}
	var env []corev1.EnvVar
	var errs field.ErrorList
	for _, m := range items {
		if m["env"] == "" || m["secret"] == "" || m["key"] == "" {
			errs = append(errs, field.Invalid(path, c.conf[keySecretEnv], "each entry needs env, secret and key, such as env:DB_PASSWORD,secret:db,key:password"))
			continue
		}
		env = append(env, corev1.EnvVar{Name: m["env"], ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: m["secret"]}, Key: m["key"]},
		}})
	}
	return env, errs
}
