package render

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// rewriteAnnotation makes ingress-nginx strip a regular-expression path's prefix.
const rewriteAnnotation = "nginx.ingress.kubernetes.io/rewrite-target"

// ingress exposes the web UI as spec.ingress says: its template is host and path, with
// {{name}} and {{namespace}} filled in. A path that is a regular expression, such as
// /{{namespace}}/{{name}}(/|$)(.*), is handed to the controller as such, with the
// rewrite ingress-nginx needs to strip the prefix.
func (c *cluster) ingress() (*networkingv1.Ingress, field.ErrorList) {
	spec := c.spec().Ingress
	if spec == nil {
		return nil, nil
	}
	path := field.NewPath("spec", "ingress")
	url := strings.NewReplacer("{{name}}", c.name(), "{{namespace}}", c.namespace()).Replace(spec.Template)
	url = strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	host, urlPath, _ := strings.Cut(url, "/")
	urlPath = "/" + urlPath
	var errs field.ErrorList
	if host != "" {
		for _, msg := range validation.IsDNS1123Subdomain(host) {
			errs = append(errs, field.Invalid(path.Child("template"), spec.Template, "host "+host+": "+msg+"; write host/path, such as flink.example.com/{{namespace}}/{{name}}, or /path without a host"))
		}
	}
	if spec.Template == "" {
		errs = append(errs, field.Required(path.Child("template"), "host and path of the web UI, such as flink.example.com/{{namespace}}/{{name}}(/|$)(.*)"))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	meta := c.objectMeta(c.name(), mergeStrings(c.commonLabels(), spec.Labels))
	meta.Annotations = mergeStrings(nil, spec.Annotations)
	pathType := networkingv1.PathTypePrefix
	if strings.ContainsAny(urlPath, "()$*") {
		pathType = networkingv1.PathTypeImplementationSpecific
		if _, set := meta.Annotations[rewriteAnnotation]; !set {
			meta.Annotations = mergeStrings(meta.Annotations, map[string]string{rewriteAnnotation: "/$2"})
		}
	}
	ports, _ := c.jobManagerPorts()
	rule := networkingv1.IngressRule{
		Host: host,
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{
				Path:     urlPath,
				PathType: ptr.To(pathType),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: RESTServiceName(c.name()),
					Port: networkingv1.ServiceBackendPort{Number: ports.rest},
				}},
			}},
		}},
	}
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: meta,
		Spec: networkingv1.IngressSpec{
			IngressClassName: spec.ClassName,
			Rules:            []networkingv1.IngressRule{rule},
		},
	}
	for _, t := range spec.TLS {
		ing.Spec.TLS = append(ing.Spec.TLS, networkingv1.IngressTLS{Hosts: t.Hosts, SecretName: t.SecretName})
	}
	return ing, nil
}
