package render

import (
	"maps"
	"math"
	"reflect"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// flinkPod is what Flink itself decides about a role's Pod; decoratePod lays it over
// the user's template with Flink's precedence rules.
type flinkPod struct {
	role          string
	labels        map[string]string
	annotations   map[string]string
	restartPolicy corev1.RestartPolicy
	// container holds the main container's Flink-owned fields: command, args, env,
	// ports, volume mounts and the memory and CPU resources.
	container corev1.Container
	volumes   []corev1.Volume
}

// decoratePod applies Flink's rules (reference: the pod-template table of Flink's
// native Kubernetes documentation): Flink's labels, annotations, env, ports, volumes and
// mounts are merged in and win on the same key; name, command, args, restart policy,
// memory and CPU are Flink's; image, pull policy and service account are the
// configuration's when it sets them, else the template's, else the defaults; sidecars,
// init containers and everything else of the template stay as they are.
func (c *cluster) decoratePod(tmpl *corev1.Pod, fp flinkPod) (corev1.PodTemplateSpec, field.ErrorList) {
	pod := tmpl.DeepCopy()
	out := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      mergeStrings(pod.Labels, fp.labels),
			Annotations: mergeStrings(pod.Annotations, fp.annotations),
		},
		Spec: pod.Spec,
	}
	spec := &out.Spec
	var errs field.ErrorList
	confPath := field.NewPath("spec", "flinkConfiguration")

	sa := c.serviceAccount(fp.role, spec.ServiceAccountName)
	spec.ServiceAccountName, spec.DeprecatedServiceAccount = sa, sa
	spec.RestartPolicy = fp.restartPolicy
	spec.HostNetwork = c.hostNetwork()
	switch {
	case spec.HostNetwork:
		spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
	case spec.DNSPolicy == "":
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	pullSecrets, err := parseList(c.conf[keyPullSecrets])
	if err != nil {
		errs = append(errs, field.Invalid(confPath.Key(keyPullSecrets), c.conf[keyPullSecrets], err.Error()))
	}
	for _, s := range pullSecrets {
		ref := corev1.LocalObjectReference{Name: s}
		if !containsEqual(spec.ImagePullSecrets, ref) {
			spec.ImagePullSecrets = append(spec.ImagePullSecrets, ref)
		}
	}
	nodeSelector, ferr := c.mapOption("kubernetes." + fp.role + ".node-selector")
	if ferr != nil {
		errs = append(errs, ferr)
	}
	spec.NodeSelector = mergeStrings(spec.NodeSelector, nodeSelector)
	tolerations, ferrs := c.tolerations(fp.role)
	errs = append(errs, ferrs...)
	for _, t := range tolerations {
		if !containsEqual(spec.Tolerations, t) {
			spec.Tolerations = append(spec.Tolerations, t)
		}
	}
	spec.Volumes = mergeNamed(spec.Volumes, fp.volumes, func(v corev1.Volume) string { return v.Name })

	main, sidecars := splitMainContainer(spec.Containers)
	main = c.decorateMainContainer(main, fp)
	spec.Containers = append([]corev1.Container{main}, sidecars...)
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations["kubectl.kubernetes.io/default-container"] = mainContainerName
	return out, errs
}

// decorateMainContainer lays Flink's main container over the template's.
func (c *cluster) decorateMainContainer(main corev1.Container, fp flinkPod) corev1.Container {
	main.Name = mainContainerName
	main.Image = c.image(main.Image)
	main.ImagePullPolicy = c.pullPolicy(main.ImagePullPolicy)
	main.Command = fp.container.Command
	main.Args = fp.container.Args
	main.Env = mergeNamed(main.Env, fp.container.Env, func(e corev1.EnvVar) string { return e.Name })
	main.Ports = mergeNamed(main.Ports, fp.container.Ports, func(p corev1.ContainerPort) string { return p.Name })
	main.VolumeMounts = mergeNamed(main.VolumeMounts, fp.container.VolumeMounts, func(m corev1.VolumeMount) string { return m.MountPath })
	if c.hostNetwork() {
		main.Ports = nil
	}
	// The template's probes win: Flok's are defaults.
	if main.StartupProbe == nil {
		main.StartupProbe = fp.container.StartupProbe
	}
	if main.LivenessProbe == nil {
		main.LivenessProbe = fp.container.LivenessProbe
	}
	main.Resources.Requests = mergeResources(main.Resources.Requests, fp.container.Resources.Requests)
	main.Resources.Limits = mergeResources(main.Resources.Limits, fp.container.Resources.Limits)
	return main
}

// splitMainContainer takes flink-main-container out of the template's containers; a
// template without one gets an empty main container and keeps all of its own.
func splitMainContainer(containers []corev1.Container) (corev1.Container, []corev1.Container) {
	var main corev1.Container
	var rest []corev1.Container
	for _, ctr := range containers {
		if ctr.Name == mainContainerName {
			main = ctr
			continue
		}
		rest = append(rest, ctr)
	}
	return main, rest
}

// image is the image option when set, else the template's image, else flink:<version>.
func (c *cluster) image(fromTemplate string) string {
	if v := c.conf[keyImage]; v != "" {
		return v
	}
	if fromTemplate != "" {
		return fromTemplate
	}
	return c.defaultImage()
}

func (c *cluster) defaultImage() string { return "flink:" + c.version.String() }

func (c *cluster) pullPolicy(fromTemplate corev1.PullPolicy) corev1.PullPolicy {
	if v := c.conf[keyPullPolicy]; v != "" {
		return corev1.PullPolicy(v)
	}
	if fromTemplate != "" {
		return fromTemplate
	}
	return corev1.PullIfNotPresent
}

// serviceAccount follows Flink: the role's option, the general option, the template's,
// then "default".
func (c *cluster) serviceAccount(role, fromTemplate string) string {
	for _, key := range []string{"kubernetes." + role + ".service-account", keyServiceAccount} {
		if v := c.conf[key]; v != "" {
			return v
		}
	}
	if fromTemplate != "" {
		return fromTemplate
	}
	return "default"
}

func (c *cluster) hostNetwork() bool {
	return flinkconf.IsTrue(c.conf[keyHostNetwork])
}

// tolerations reads kubernetes.<role>.tolerations: "key:k,operator:Equal,value:v,effect:NoSchedule;…".
func (c *cluster) tolerations(role string) ([]corev1.Toleration, field.ErrorList) {
	key := "kubernetes." + role + ".tolerations"
	items, err := parseMapList(c.conf[key])
	path := field.NewPath("spec", "flinkConfiguration").Key(key)
	if err != nil {
		return nil, field.ErrorList{field.Invalid(path, c.conf[key], err.Error())}
	}
	var out []corev1.Toleration
	var errs field.ErrorList
	for _, m := range items {
		t := corev1.Toleration{}
		for k, v := range m {
			switch strings.ToLower(k) {
			case "key":
				t.Key = v
			case "operator":
				t.Operator = corev1.TolerationOperator(v)
			case "value":
				t.Value = v
			case "effect":
				t.Effect = corev1.TaintEffect(v)
			case "tolerationseconds":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					errs = append(errs, field.Invalid(path, c.conf[key], "tolerationSeconds must be a whole number"))
					continue
				}
				t.TolerationSeconds = &n
			default:
				errs = append(errs, field.Invalid(path, c.conf[key], "unknown toleration field "+k+"; use key, operator, value, effect, tolerationSeconds"))
			}
		}
		out = append(out, t)
	}
	return out, errs
}

// containerResources are a role's memory and CPU, as Flink requests them: the process
// memory in whole mebibytes and the CPU, each limit scaled by its limit factor.
func (c *cluster) containerResources(role string, cpu float64) (corev1.ResourceRequirements, field.ErrorList) {
	confPath := field.NewPath("spec", "flinkConfiguration")
	memKey := keyJMMemory
	if role == ComponentTaskManager {
		memKey = keyTMMemory
	}
	var errs field.ErrorList
	mem, err := flinkconf.ParseMemorySize(c.conf[memKey])
	if err != nil {
		errs = append(errs, field.Invalid(confPath.Key(memKey), c.conf[memKey], err.Error()))
	}
	factor := func(kind string) float64 {
		key := "kubernetes." + role + "." + kind + ".limit-factor"
		v := strings.TrimSpace(c.conf[key])
		if v == "" {
			return 1
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 1 || math.IsInf(f, 0) {
			errs = append(errs, field.Invalid(confPath.Key(key), v, "must be a number of 1.0 or more"))
			return 1
		}
		return f
	}
	memFactor, cpuFactor := factor("memory"), factor("cpu")
	mib := mem >> 20
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceMemory: mebibytes(mib),
			corev1.ResourceCPU:    cores(cpu),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceMemory: mebibytes(int64(math.Floor(float64(mib) * memFactor))),
			corev1.ResourceCPU:    cores(cpu * cpuFactor),
		},
	}, errs
}

func mebibytes(mib int64) resource.Quantity {
	return resource.MustParse(strconv.FormatInt(mib, 10) + "Mi")
}

func cores(cpu float64) resource.Quantity {
	return *resource.NewMilliQuantity(int64(math.Round(cpu*1000)), resource.DecimalSI)
}

// cpuOption reads a CPU amount option; unset or not above zero gives def.
func (c *cluster) cpuOption(key string, def float64) (float64, *field.Error) {
	v := strings.TrimSpace(c.conf[key])
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, field.Invalid(field.NewPath("spec", "flinkConfiguration").Key(key), v, "must be a number of cores, such as 0.5 or 2")
	}
	if f <= 0 {
		return def, nil
	}
	return f, nil
}

// prefixedEnv turns options such as containerized.master.env.TZ into variables.
func (c *cluster) prefixedEnv(prefix string) []corev1.EnvVar {
	var env []corev1.EnvVar
	for _, k := range sortedKeys(c.conf) {
		if name, ok := strings.CutPrefix(k, prefix); ok && name != "" {
			env = append(env, corev1.EnvVar{Name: name, Value: c.conf[k]})
		}
	}
	return env
}

func mergeStrings(base, overlay map[string]string) map[string]string {
	if len(base) == 0 && len(overlay) == 0 {
		return nil
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, overlay)
	return out
}

func mergeResources(base, overlay corev1.ResourceList) corev1.ResourceList {
	if len(base) == 0 && len(overlay) == 0 {
		return nil
	}
	out := corev1.ResourceList{}
	maps.Copy(out, base)
	maps.Copy(out, overlay)
	return out
}

// mergeNamed keeps base's items, replacing those whose key an overlay item has, and
// appends the overlay's new items.
func mergeNamed[T any](base, overlay []T, key func(T) string) []T {
	out := append([]T(nil), base...)
	for _, item := range overlay {
		replaced := false
		for i := range out {
			if key(out[i]) == key(item) {
				out[i], replaced = item, true
				break
			}
		}
		if !replaced {
			out = append(out, item)
		}
	}
	return out
}

func containsEqual[T any](list []T, item T) bool {
	for _, x := range list {
		if reflect.DeepEqual(x, item) {
			return true
		}
	}
	return false
}
