package cli

import (
	"context"
	"sync"
	"time"

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
	if tls, ok := c.RESTPorts.recall(port); ok {
		port.TLS = tls
		return port
	}
	svc := &corev1.Service{}
	if err := c.API.Get(ctx, client.ObjectKey{Namespace: port.Namespace, Name: port.Service}, svc); err != nil {
		return port
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == port.Port && p.AppProtocol != nil && *p.AppProtocol == "https" {
			port.TLS = true
		}
	}
	c.RESTPorts.keep(port)
	return port
}

// restPortTTL is how long a RESTPortCache trusts what it read: a cluster whose TLS
// was turned on or off is spoken to the new way within it.
const restPortTTL = 30 * time.Second

// RESTPortCache remembers whether clusters' REST Services speak TLS. The zero value
// is ready; a nil one remembers nothing.
type RESTPortCache struct {
	mu    sync.Mutex
	ports map[string]cachedTLS // by namespace/service
}

type cachedTLS struct {
	tls bool
	at  time.Time
}

func (c *RESTPortCache) recall(port flinkrest.ServicePort) (tls, ok bool) {
	if c == nil {
		return false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cached, found := c.ports[port.Namespace+"/"+port.Service]
	if !found || time.Since(cached.at) >= restPortTTL {
		return false, false
	}
	return cached.tls, true
}

func (c *RESTPortCache) keep(port flinkrest.ServicePort) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ports == nil {
		c.ports = map[string]cachedTLS{}
	}
	for key, cached := range c.ports {
		if time.Since(cached.at) >= restPortTTL {
			delete(c.ports, key)
		}
	}
	c.ports[port.Namespace+"/"+port.Service] = cachedTLS{tls: port.TLS, at: time.Now()}
}
