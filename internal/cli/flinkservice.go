package cli

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/render"
)

// FlinkREST is the port of cluster's REST Service in the client's namespace, spoken to
// over TLS when the Service says so (Flok marks its port appProtocol https when
// security.ssl.rest.enabled). A Service that cannot be read is taken for plain HTTP:
// the proxy's own error then says what is wrong.
func (c *Client) FlinkREST(ctx context.Context, cluster string) flinkrest.ServicePort {
	port := flinkrest.ServicePort{Namespace: c.Namespace, Service: render.RESTServiceName(cluster), Port: "rest"}
	svc := &corev1.Service{}
	if err := c.API.Get(ctx, client.ObjectKey{Namespace: port.Namespace, Name: port.Service}, svc); err != nil {
		return port
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == port.Port && p.AppProtocol != nil && *p.AppProtocol == "https" {
			port.TLS = true
		}
	}
	return port
}
