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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// DefaultFlinkVersion is the Flink version `flok run` and `flok session start` deploy
// unless told otherwise.
const DefaultFlinkVersion = "2.3"

// RunOptions are `flok run`'s flags: an application from a jar, as `flink run
// --target kubernetes-application` takes it.
type RunOptions struct {
	// Name is the FlinkDeployment's; empty derives it from the jar's file name.
	Name      string
	Namespace string
	// JarURI, Args and EntryClass are the job's jar, program arguments and main class.
	JarURI     string
	Args       []string
	EntryClass string
	// SQLFile is a local SQL script run instead of a jar; its content becomes the job's
	// spec.job.sql.
	SQLFile string
	// Image defaults to flink:<FlinkVersion>.
	Image        string
	FlinkVersion string
	Parallelism  int32
	// Options are -D key=value Flink options. kubernetes.pod-template-file.default,
	// .jobmanager and .taskmanager name local pod template files, as for flink run.
	Options []string
	// FromSavepoint is the savepoint or retained checkpoint the first run starts from.
	FromSavepoint string
	// UpgradeMode is stateless, savepoint or last-state.
	UpgradeMode string
	// Mode is native or standalone.
	Mode string
}

// SubmitOptions are `flok submit`'s flags: a job for a session cluster, as `flink run`
// against a running cluster takes it.
type SubmitOptions struct {
	// Name is the FlinkSessionJob's; empty derives it from the jar's file name.
	Name      string
	Namespace string
	// Session is the session cluster's FlinkDeployment.
	Session    string
	JarURI     string
	Args       []string
	EntryClass string
	// Parallelism, Options (-D key=value), FromSavepoint and UpgradeMode are as for
	// RunOptions; pod templates belong to the session cluster, not to its jobs.
	Parallelism   int32
	Options       []string
	FromSavepoint string
	UpgradeMode   string
	// SHA256 is the jar's expected digest; CredentialsSecret names the Secret whose
	// access key fetches an s3:// jar.
	SHA256            string
	CredentialsSecret string
	// ArtifactStore (s3://bucket/prefix) is where a local jar is uploaded.
	ArtifactStore string
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
	job := &v1beta1.JobSpec{
		JarURI: o.JarURI, Args: o.Args, EntryClass: o.EntryClass, Parallelism: o.Parallelism,
		UpgradeMode: v1beta1.UpgradeMode(o.UpgradeMode), InitialSavepointPath: o.FromSavepoint,
	}
	source := o.JarURI
	if o.SQLFile != "" {
		if o.JarURI != "" || o.EntryClass != "" || len(o.Args) > 0 {
			return nil, fmt.Errorf("--sql runs a script instead of a jar: give either a jar (with its class and arguments) or --sql")
		}
		script, err := os.ReadFile(o.SQLFile)
		if err != nil {
			return nil, fmt.Errorf("--sql: %w", err)
		}
		job.SQL, source = &v1beta1.SQLJob{Script: string(script)}, strings.TrimSuffix(o.SQLFile, path.Ext(o.SQLFile))
	}
	name := o.Name
	if name == "" {
		name = DefaultName(source)
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
			Job:         job,
		},
	}
	conf, err := parseOptions(o.Options, func(key, file string) (bool, error) {
		setTemplate, ok := podTemplateOptions[key]
		if !ok {
			return false, nil
		}
		t, err := readPodTemplate(file)
		if err != nil {
			return true, err
		}
		setTemplate(&fd.Spec, t)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	fd.Spec.FlinkConfiguration = conf
	return fd, nil
}

// SessionJob builds the FlinkSessionJob `flok submit` applies, refusing malformed -D
// options by name.
func (o SubmitOptions) SessionJob() (*v1beta1.FlinkSessionJob, error) {
	name := o.Name
	if name == "" {
		name = DefaultName(o.JarURI)
	}
	conf, err := parseOptions(o.Options, func(key, _ string) (bool, error) {
		if _, ok := podTemplateOptions[key]; ok {
			return true, fmt.Errorf("a session job has no Pods of its own: pod templates go with `flok session start` (its -D %s)", key)
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	sj := &v1beta1.FlinkSessionJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "FlinkSessionJob"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.Namespace},
		Spec: v1beta1.FlinkSessionJobSpec{
			DeploymentName: o.Session, FlinkConfiguration: conf,
			Job: &v1beta1.JobSpec{
				JarURI: o.JarURI, Args: o.Args, EntryClass: o.EntryClass, Parallelism: o.Parallelism,
				UpgradeMode: v1beta1.UpgradeMode(o.UpgradeMode), InitialSavepointPath: o.FromSavepoint,
			},
		},
	}
	if o.SHA256 != "" || o.CredentialsSecret != "" {
		sj.Spec.Job.Artifact = &v1beta1.JobArtifact{SHA256: o.SHA256, CredentialsSecret: o.CredentialsSecret}
	}
	return sj, nil
}

// parseOptions turns -D key=value options into a flinkConfiguration (nil when there are
// none). special sees each option first and reports whether it took it (or why it is
// refused).
func parseOptions(options []string, special func(key, value string) (bool, error)) (*runtime.RawExtension, error) {
	conf, err := optionConfig(options, special)
	if err != nil || len(conf) == 0 {
		return nil, err
	}
	raw, err := json.Marshal(conf)
	if err != nil {
		return nil, err
	}
	return &runtime.RawExtension{Raw: raw}, nil
}

// optionConfig reads -D key=value options; special sees each option first and
// reports whether it took it (or why it is refused).
func optionConfig(options []string, special func(key, value string) (bool, error)) (flinkconf.Config, error) {
	conf := flinkconf.Config{}
	for _, opt := range options {
		key, value, ok := strings.Cut(opt, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("-D %q: want key=value, such as -D taskmanager.numberOfTaskSlots=2", opt)
		}
		value = strings.TrimSpace(value)
		taken, err := special(key, value)
		if err != nil {
			return nil, fmt.Errorf("-D %s: %w", key, err)
		}
		if !taken {
			conf[key] = value
		}
	}
	return conf, nil
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

// ApplyDeployment applies fd (from RunOptions.Deployment) over the FlinkDeployment of
// its name, if there is one: an application is not turned into a session cluster or
// back, and an update that names no upgrade mode keeps the application's, so that
// leaving out --upgrade-mode on an update never drops the job's state.
func (c *Client) ApplyDeployment(ctx context.Context, fd *v1beta1.FlinkDeployment) error {
	live := &v1beta1.FlinkDeployment{}
	err := c.API.Get(ctx, client.ObjectKeyFromObject(fd), live)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return explain(err, c.Config.Host)
	case live.Spec.Job == nil && fd.Spec.Job != nil:
		return fmt.Errorf("%s is a session cluster: `flok submit --session %s JAR` runs a job on it; choose another --name for an application", fd.Name, fd.Name)
	case live.Spec.Job != nil && fd.Spec.Job == nil:
		return fmt.Errorf("%s is an application, not a session cluster: choose another name", fd.Name)
	case fd.Spec.Job != nil && fd.Spec.Job.UpgradeMode == "":
		fd.Spec.Job.UpgradeMode = live.Spec.Job.UpgradeMode
	}
	return c.Apply(ctx, fd)
}

// Suspended reports a job its spec keeps suspended.
func Suspended(obj client.Object) bool {
	job := JobOf(obj)
	return job != nil && job.State == v1beta1.JobStateSuspended
}

// Apply creates or updates the object with server-side apply (the fields `flok` sets
// are its own, others' stay), then reads it back into obj: the generation to wait for
// and what others set (a suspension, say) are then known.
func (c *Client) Apply(ctx context.Context, obj client.Object) error {
	if err := kube.Apply(ctx, c.API, obj, FieldManager); err != nil {
		return explain(err, c.Config.Host)
	}
	return explain(c.API.Get(ctx, client.ObjectKeyFromObject(obj), obj), c.Config.Host)
}
