package render

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
)

// Object is a Kubernetes object Render produces.
type Object interface {
	metav1.Object
	runtime.Object
}

// Objects are the Kubernetes objects of one Flink cluster. Fields that do not apply
// to the cluster's mode are nil.
type Objects struct {
	// Config is ConfigMap flink-config-<name>: the Flink configuration file and the
	// logging files, mounted at /opt/flink/conf.
	Config *corev1.ConfigMap
	// TaskManagerPodTemplate is ConfigMap pod-template-<name> (native mode): the
	// template Flink's ResourceManager builds TaskManager Pods from.
	TaskManagerPodTemplate *corev1.ConfigMap
	// JobManager is Deployment <name>.
	JobManager *appsv1.Deployment
	// TaskManager is Deployment <name>-taskmanager (standalone mode).
	TaskManager *appsv1.Deployment
	// InternalService is the Service <name> the TaskManagers reach the JobManager by;
	// without high availability only.
	InternalService *corev1.Service
	// RESTService is Service <name>-rest, the web UI and REST API.
	RESTService *corev1.Service
	// Ingress exposes the web UI when spec.ingress is set.
	Ingress *networkingv1.Ingress
	// ServiceAccount, Role and RoleBinding give the Flink processes the API rights they
	// need, unless the user named a service account of their own.
	ServiceAccount *corev1.ServiceAccount
	Role           *rbacv1.Role
	RoleBinding    *rbacv1.RoleBinding
	// Hash identifies everything above; it is also the JobManager Deployment's
	// flok.dev/render-hash annotation, so that a changed spec is seen at a glance.
	Hash string
	// LoggingFiles are the logging files of Config (log4j-console.properties and
	// those of spec.logConfiguration); LoggingHash identifies them and is the
	// JobManager Deployment's flok.dev/logging-hash annotation, which says which
	// logging files the running cluster has: they change without a restart.
	LoggingFiles map[string]string
	LoggingHash  string
	// Configuration is the effective Flink configuration, as the cluster reads it.
	Configuration flinkconf.Config
	// TLS is how the cluster uses the certificates of its TLS Secret; nil when it has
	// none (its REST API then speaks plain HTTP).
	TLS *TLS
	// sqlRunner is set when the JobManager runs Flok's SQL runner (NeedsSQLRunner).
	sqlRunner bool
}

// All returns the objects that exist, in the order they are best created: identity
// and configuration first, the JobManager last but one, its exposure last.
func (o *Objects) All() []Object {
	var out []Object
	add := func(obj Object, present bool) {
		if present {
			out = append(out, obj)
		}
	}
	add(o.ServiceAccount, o.ServiceAccount != nil)
	add(o.Role, o.Role != nil)
	add(o.RoleBinding, o.RoleBinding != nil)
	add(o.Config, o.Config != nil)
	add(o.TaskManagerPodTemplate, o.TaskManagerPodTemplate != nil)
	add(o.InternalService, o.InternalService != nil)
	add(o.RESTService, o.RESTService != nil)
	add(o.JobManager, o.JobManager != nil)
	add(o.TaskManager, o.TaskManager != nil)
	add(o.Ingress, o.Ingress != nil)
	return out
}

// Stages are All in the order they may be applied, each stage's objects at once: first
// what the cluster's Pods run as and mount (account, Role, ConfigMaps), then the
// RoleBinding — the API server lets the operator bind only a Role that exists, whose
// rights it can check it holds — then the Services and the workloads.
func (o *Objects) Stages() [][]Object {
	var first, binding, last []Object
	for _, obj := range o.All() {
		switch obj.(type) {
		case *corev1.ServiceAccount, *rbacv1.Role, *corev1.ConfigMap:
			first = append(first, obj)
		case *rbacv1.RoleBinding:
			binding = append(binding, obj)
		default:
			last = append(last, obj)
		}
	}
	stages := [][]Object{first, binding, last}
	return slices.DeleteFunc(stages, func(s []Object) bool { return len(s) == 0 })
}

// Error is a FlinkDeployment Render cannot turn into a cluster; each entry names the
// field, what is wrong and what would be right.
type Error struct{ Errs field.ErrorList }

func (e *Error) Error() string { return e.Errs.ToAggregate().Error() }

// Render returns the Kubernetes objects of a FlinkDeployment's cluster, or an *Error
// that says what in the spec is wrong.
func Render(in Input) (*Objects, error) {
	c, errs := newCluster(in)
	if len(errs) > 0 {
		return nil, &Error{errs}
	}
	objs, errs := c.objects()
	if len(errs) > 0 {
		return nil, &Error{errs}
	}
	return objs, nil
}

// cluster is a FlinkDeployment with everything derived from it that the objects share.
type cluster struct {
	in      Input
	version flinkconf.Version
	conf    flinkconf.Config
	// templates are the layered pod templates of each role, as JSON objects.
	jmTemplate, tmTemplate map[string]any
	// ownServiceAccount is set when Flok creates the Flink processes' service account.
	ownServiceAccount bool
	// ssl is how the cluster uses its TLS Secret; nil without one.
	ssl *TLS
}

func (c *cluster) spec() *v1beta1.FlinkDeploymentSpec { return &c.in.Deployment.Spec }
func (c *cluster) name() string                       { return c.in.Deployment.Name }
func (c *cluster) namespace() string                  { return c.in.Deployment.Namespace }
func (c *cluster) application() bool                  { return c.spec().Job != nil }
func (c *cluster) native() bool                       { return c.spec().Mode != v1beta1.ModeStandalone }
func (c *cluster) highAvailability() bool             { return c.conf.HighAvailability() }

// newCluster checks the input and derives the configuration and pod templates.
func newCluster(in Input) (*cluster, field.ErrorList) {
	if in.Deployment == nil {
		return nil, field.ErrorList{field.Required(field.NewPath("deployment"), "a FlinkDeployment to render")}
	}
	c := &cluster{in: in}
	errs := c.checkIdentity()
	errs = append(errs, flinkconf.ValidateDeployment(c.spec())...)
	if len(errs) > 0 {
		return nil, errs
	}
	var raw []byte
	if fc := c.spec().FlinkConfiguration; fc != nil {
		raw = fc.Raw
	}
	user, ferr := flinkconf.FromSpec(raw, field.NewPath("spec", "flinkConfiguration"))
	if ferr != nil {
		return nil, field.ErrorList{ferr}
	}
	c.conf, errs = c.effectiveConfig(user)
	errs = append(errs, c.layerTemplates()...)
	errs = append(errs, c.checkModes()...)
	errs = append(errs, c.checkSQL()...)
	return c, errs
}

// checkIdentity checks the name (Flink's cluster-id rules) and the Flink version.
func (c *cluster) checkIdentity() field.ErrorList {
	var errs field.ErrorList
	meta := field.NewPath("metadata")
	name := c.name()
	switch {
	case name == "":
		errs = append(errs, field.Required(meta.Child("name"), "the name is the Flink cluster-id"))
	case len(name) > 45:
		errs = append(errs, field.TooLong(meta.Child("name"), name, 45))
	default:
		for _, msg := range validation.IsDNS1035Label(name) {
			errs = append(errs, field.Invalid(meta.Child("name"), name, msg))
		}
	}
	if c.namespace() == "" {
		errs = append(errs, field.Required(meta.Child("namespace"), "the namespace the cluster runs in"))
	}
	versionPath := field.NewPath("spec", "flinkVersion")
	if c.spec().FlinkVersion == "" {
		errs = append(errs, field.Required(versionPath, "the Flink version of the image, such as v1_20 or v2_3; it decides the configuration file's format"))
		return errs
	}
	v, err := flinkconf.ParseVersion(string(c.spec().FlinkVersion))
	if err != nil {
		return append(errs, field.Invalid(versionPath, c.spec().FlinkVersion, err.Error()))
	}
	c.version = v
	return errs
}

// checkModes rejects combinations Flink does not run: reactive mode outside a
// standalone application, an application without a jar in native mode, and a remote
// jar before Flink fetched one.
func (c *cluster) checkModes() field.ErrorList {
	var errs field.ErrorList
	confPath := field.NewPath("spec", "flinkConfiguration")
	if strings.EqualFold(strings.TrimSpace(c.conf[keySchedulerMode]), "reactive") && (c.native() || !c.application()) {
		errs = append(errs, field.Invalid(confPath.Key(keySchedulerMode), c.conf[keySchedulerMode],
			"reactive mode runs only in a standalone application cluster: set spec.mode: standalone and spec.job, or remove scheduler-mode"))
	}
	if c.application() && c.native() && c.spec().Job.JarURI == "" && c.sqlJob() == nil {
		errs = append(errs, field.Required(field.NewPath("spec", "job", "jarURI"),
			"the job's jar, such as local:///opt/flink/usrlib/job.jar (a path inside the image)"))
	}
	if c.application() && c.version.Major > 0 && !c.version.AtLeast(1, 19) && !jarInImage(c.spec().Job.JarURI) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "job", "jarURI"), c.spec().Job.JarURI,
			"Flink fetches an application's jar from a remote URI only from 1.19 on: use local:///opt/flink/usrlib/job.jar with the jar in the image, or flinkVersion v1_19 or later"))
	}
	if t := c.conf[keyRESTExposedType]; t != "" && !validExposedType(t) {
		errs = append(errs, field.NotSupported(confPath.Key(keyRESTExposedType), t, exposedTypes))
	}
	return errs
}

// jarInImage reports whether uri names a jar inside the image (or none): local:// or a
// plain path, which every Flink version runs.
func jarInImage(uri string) bool {
	scheme, _, found := strings.Cut(uri, "://")
	return !found || scheme == "local" || scheme == "file"
}

// HashAnnotation names the JobManager Deployment's annotation that carries Objects.Hash.
const HashAnnotation = "flok.dev/render-hash"

// LoggingHashAnnotation names the JobManager Deployment's annotation that carries
// Objects.LoggingHash.
const LoggingHashAnnotation = "flok.dev/logging-hash"

func (c *cluster) objects() (*Objects, field.ErrorList) {
	o := &Objects{Configuration: c.conf, TLS: c.ssl, sqlRunner: c.sqlJob() != nil && !c.flinkRunsSQL()}
	var errs field.ErrorList
	o.ServiceAccount, o.Role, o.RoleBinding = c.rbac()
	if o.Config, errs = c.configMap(); len(errs) > 0 {
		return nil, errs
	}
	if c.native() {
		errs = append(errs, c.nativeObjects(o)...)
	} else {
		errs = append(errs, c.standaloneObjects(o)...)
	}
	o.InternalService = c.internalService()
	var ferrs field.ErrorList
	o.RESTService, ferrs = c.restService()
	errs = append(errs, ferrs...)
	o.Ingress, ferrs = c.ingress()
	errs = append(errs, ferrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	hash, err := hashObjects(o.All())
	if err != nil {
		return nil, field.ErrorList{field.InternalError(field.NewPath("spec"), fmt.Errorf("hashing the objects: %w", err))}
	}
	o.Hash = hash
	if o.JobManager.Annotations == nil {
		o.JobManager.Annotations = map[string]string{}
	}
	o.JobManager.Annotations[HashAnnotation] = hash
	o.LoggingFiles = maps.Clone(o.Config.Data)
	delete(o.LoggingFiles, c.version.FileName())
	delete(o.LoggingFiles, SQLScriptFile)
	if o.LoggingHash, err = hashData(o.LoggingFiles); err != nil {
		return nil, field.ErrorList{field.InternalError(field.NewPath("spec", "logConfiguration"), err)}
	}
	o.JobManager.Annotations[LoggingHashAnnotation] = o.LoggingHash
	return o, nil
}

// RESTPort is the port of the REST Service, where Flink's REST API answers; Flink's
// default when there are no objects (a spec that does not render).
func (o *Objects) RESTPort() int32 {
	if o == nil || o.RESTService == nil {
		return defaultRESTPort
	}
	for _, p := range o.RESTService.Spec.Ports {
		if p.Name == "rest" {
			return p.Port
		}
	}
	return defaultRESTPort
}

// RESTOverTLS reports a REST API that speaks TLS.
func (o *Objects) RESTOverTLS() bool { return o != nil && o.TLS != nil && o.TLS.REST }

// YAML writes the objects as one multi-document YAML stream, in the order of All, as
// kubectl apply -f takes it.
func (o *Objects) YAML() ([]byte, error) {
	var buf bytes.Buffer
	for i, obj := range o.All() {
		if i > 0 {
			buf.WriteString("---\n")
		}
		data, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
		}
		buf.Write(data)
	}
	return buf.Bytes(), nil
}
