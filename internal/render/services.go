package render

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// exposedTypes are the values of kubernetes.rest-service.exposed.type.
var exposedTypes = []string{"ClusterIP", "NodePort", "LoadBalancer", "Headless_ClusterIP"}

func validExposedType(t string) bool {
	for _, e := range exposedTypes {
		if strings.EqualFold(t, e) {
			return true
		}
	}
	return false
}

// port reads a port option: one port number (Flink rejects ranges here too).
func (c *cluster) port(key string, def int32) (int32, *field.Error) {
	v := strings.TrimSpace(c.conf[key])
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 || n > 65535 {
		return 0, field.Invalid(field.NewPath("spec", "flinkConfiguration").Key(key), v, "must be one port number between 1 and 65535 (not a range)")
	}
	return int32(n), nil
}

// jobManagerPorts are the JobManager's ports: REST (and the port it binds), RPC, blob.
type jobManagerPorts struct{ rest, restTarget, rpc, blob int32 }

func (c *cluster) jobManagerPorts() (jobManagerPorts, field.ErrorList) {
	var p jobManagerPorts
	var errs field.ErrorList
	for _, f := range []struct {
		dst *int32
		key string
		def int32
	}{
		{&p.rest, keyRESTPort, defaultRESTPort},
		{&p.rpc, keyRPCPort, defaultRPCPort},
		{&p.blob, keyBlobPort, defaultBlobPort},
	} {
		v, err := c.port(f.key, f.def)
		if err != nil {
			errs = append(errs, err)
		}
		*f.dst = v
	}
	target, err := c.port("rest.bind-port", p.rest)
	if err != nil {
		errs = append(errs, err)
	}
	p.restTarget = target
	return p, errs
}

// mapOption reads a Flink map option (key:value,key2:value2); nil when empty.
func (c *cluster) mapOption(key string) (map[string]string, *field.Error) {
	m, err := parseMap(c.conf[key])
	if err != nil {
		return nil, field.Invalid(field.NewPath("spec", "flinkConfiguration").Key(key), c.conf[key], err.Error())
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// internalService is the headless Service <name> the TaskManagers reach the JobManager
// through; with high availability they find the leader in ConfigMaps instead.
func (c *cluster) internalService() *corev1.Service {
	if c.highAvailability() {
		return nil
	}
	ports, _ := c.jobManagerPorts()
	annotations, _ := c.mapOption(keyInternalAnnotation)
	meta := c.objectMeta(c.name(), c.commonLabels())
	meta.Annotations = annotations
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: corev1.ClusterIPNone,
			Selector:  c.selector(ComponentJobManager),
			Ports: []corev1.ServicePort{
				servicePort("jobmanager-rpc", ports.rpc, ports.rpc),
				servicePort("blobserver", ports.blob, ports.blob),
			},
		},
	}
}

// restService is <name>-rest, exposed as kubernetes.rest-service.exposed.type says.
func (c *cluster) restService() (*corev1.Service, field.ErrorList) {
	ports, errs := c.jobManagerPorts()
	annotations, ferr := c.mapOption(keyRESTAnnotations)
	if ferr != nil {
		errs = append(errs, ferr)
	}
	if _, ferr := c.mapOption(keyInternalAnnotation); ferr != nil {
		errs = append(errs, ferr)
	}
	meta := c.objectMeta(RESTServiceName(c.name()), c.commonLabels())
	meta.Annotations = annotations
	spec := corev1.ServiceSpec{
		Type:     corev1.ServiceTypeClusterIP,
		Selector: c.selector(ComponentJobManager),
		Ports:    []corev1.ServicePort{servicePort("rest", ports.rest, ports.restTarget)},
	}
	if c.restOverTLS() {
		// Says to clients, the CLI and console among them, to speak HTTPS here.
		spec.Ports[0].AppProtocol = ptr.To("https")
	}
	switch t := strings.ToLower(c.conf[keyRESTExposedType]); t {
	case "nodeport":
		spec.Type = corev1.ServiceTypeNodePort
	case "loadbalancer":
		spec.Type = corev1.ServiceTypeLoadBalancer
	case "headless_clusterip":
		spec.ClusterIP = corev1.ClusterIPNone
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta,
		Spec:       spec,
	}, errs
}

func servicePort(name string, port, target int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromInt32(target), Protocol: corev1.ProtocolTCP}
}

// RESTServiceName is the Service of a cluster's web UI and REST API.
func RESTServiceName(deployment string) string { return fmt.Sprintf("%s-rest", deployment) }
