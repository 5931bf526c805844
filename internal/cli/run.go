package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/kube"
)

// FieldManager is the server-side apply field manager of what `flok` writes.
const FieldManager = "flok"

// RunOptions are `flok run`'s flags: an application from a jar, as `flink run
// --target kubernetes-application` takes it.
type RunOptions struct {
	Name         string
	Namespace    string
	JarURI       string
	Args         []string
	EntryClass   string
	Image        string
	FlinkVersion string
	Parallelism  int32
	// Options are -D key=value Flink options. kubernetes.pod-template-file.default,
	// .jobmanager and .taskmanager name local pod template files, as for flink run.
	Options       []string
	FromSavepoint string
	UpgradeMode   string
	Mode          string
}

// podTemplateOptions map Flink's pod template file options to the spec's templates.
var podTemplateOptions = map[string]func(*v1beta1.FlinkDeploymentSpec, *runtime.RawExtension){
	"kubernetes.pod-template-file.default":     func(s *v1beta1.FlinkDeploymentSpec, t *runtime.RawExtension) { s.PodTemplate = t },
	"kubernetes.pod-template-file.jobmanager":  func(s *v1beta1.FlinkDeploymentSpec, t *runtime.RawExtension) { s.JobManager.PodTemplate = t },
	"kubernetes.pod-template-file.taskmanager": func(s *v1beta1.FlinkDeploymentSpec, t *runtime.RawExtension) { s.TaskManager.PodTemplate = t },
}

var dnsLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// DefaultName derives a resource name from the jar: TopSpeedWindowing.jar gives
// topspeedwindowing.
func DefaultName(jarURI string) string {
	name := strings.TrimSuffix(strings.ToLower(path.Base(jarURI)), ".jar")
	name = strings.Trim(dnsLabel.ReplaceAllString(name, "-"), "-")
	if len(name) > 40 {
		name = strings.TrimRight(name[:40], "-")
	}
	return name
}

// Deployment builds the FlinkDeployment `flok run` applies. It refuses malformed -D
// options and unreadable pod template files, naming them.
func (o RunOptions) Deployment() (*v1beta1.FlinkDeployment, error) {
	version, err := flinkconf.ParseVersion(o.FlinkVersion)
	if err != nil {
		return nil, fmt.Errorf("--flink-version: %w", err)
	}
	name := o.Name
	if name == "" {
		name = DefaultName(o.JarURI)
	}
	image := o.Image
	if image == "" {
		image = "flink:" + version.String()
	}
	fd := &v1beta1.FlinkDeployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "FlinkDeployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.Namespace},
		Spec: v1beta1.FlinkDeploymentSpec{
			Image: image, FlinkVersion: v1beta1.FlinkVersion(fmt.Sprintf("v%d_%d", version.Major, version.Minor)),
			Mode:        v1beta1.DeploymentMode(o.Mode),
			JobManager:  &v1beta1.JobManagerSpec{Resource: &v1beta1.Resource{Memory: "1600m", CPU: ptr.To(1.0)}},
			TaskManager: &v1beta1.TaskManagerSpec{Resource: &v1beta1.Resource{Memory: "1728m", CPU: ptr.To(1.0)}},
			Job: &v1beta1.JobSpec{
				JarURI: o.JarURI, Args: o.Args, EntryClass: o.EntryClass, Parallelism: o.Parallelism,
				UpgradeMode: v1beta1.UpgradeMode(o.UpgradeMode), InitialSavepointPath: o.FromSavepoint,
			},
		},
	}
	conf := flinkconf.Config{}
	for _, opt := range o.Options {
		key, value, ok := strings.Cut(opt, "=")
		if !ok || strings.TrimSpace(key) == "" {
			return nil, fmt.Errorf("-D %q: want key=value, such as -D taskmanager.numberOfTaskSlots=2", opt)
		}
		key = strings.TrimSpace(key)
		if setTemplate, ok := podTemplateOptions[key]; ok {
			t, err := readPodTemplate(value)
			if err != nil {
				return nil, fmt.Errorf("-D %s: %w", key, err)
			}
			setTemplate(&fd.Spec, t)
			continue
		}
		conf[key] = value
	}
	if len(conf) > 0 {
		raw, err := json.Marshal(conf)
		if err != nil {
			return nil, err
		}
		fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: raw}
	}
	return fd, nil
}

// readPodTemplate reads a pod template file, checked strictly as a Pod template.
func readPodTemplate(file string) (*runtime.RawExtension, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(data, &corev1.PodTemplateSpec{}); err != nil {
		return nil, fmt.Errorf("%s is not a pod template: %w", file, err)
	}
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return &runtime.RawExtension{Raw: raw}, nil
}

// Apply creates or updates the object with server-side apply: the fields `flok`
// sets are its own, others' stay.
func (c *Client) Apply(ctx context.Context, obj client.Object) error {
	return explain(kube.Apply(ctx, c.API, obj, FieldManager), c.Config.Host)
}
