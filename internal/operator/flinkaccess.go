package operator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/internal/controller/deployment"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/flinktls"
)

// errProxyClientCertificate refuses a cluster whose REST API asks for a client
// certificate when the operator reaches Flink through the API server.
var errProxyClientCertificate = &flinktls.ConfigError{Err: errors.New("the REST API asks clients for a certificate (security.ssl.rest.authentication-enabled) " +
	"and the API server's service proxy, through which this operator reaches Flink, has none to show: run the operator in the cluster (--flink-access=direct)")}

// flinkAccess chooses how Flink's REST API is reached: by the Service's DNS name in
// cluster, through the API server's service proxy from outside; every call is
// reported to observer. In cluster, a REST API that speaks TLS is verified with the
// CA of the cluster's TLS Secret, read with secrets.
func flinkAccess(cfg *rest.Config, mode string, observer flinkrest.Observer, secrets client.Reader) (deployment.FlinkClientFor, error) {
	opts := []flinkrest.Option{flinkrest.WithTimeout(10 * time.Second), flinkrest.WithAttempts(2, 200*time.Millisecond),
		flinkrest.WithObserver(observer)}
	if mode == "direct" || mode == "auto" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		plain := flinkrest.NewManyClustersHTTPClient(nil)
		tlsClients := &flinktls.Clients{Reader: secrets}
		return func(ctx context.Context, at deployment.FlinkEndpoint) (*flinkrest.Client, error) {
			h, scheme := plain, "http"
			if at.TLS != nil {
				var err error
				if h, err = tlsClients.For(ctx, types.NamespacedName{Namespace: at.Namespace, Name: at.TLS.Secret}, at.TLS.ClientAuth); err != nil {
					return nil, err
				}
				scheme = "https"
			}
			// A new slice each call: opts is shared by every round.
			withClient := append([]flinkrest.Option{flinkrest.WithHTTPClient(h)}, opts...)
			return flinkrest.New(fmt.Sprintf("%s://%s.%s.svc:%d", scheme, at.Service, at.Namespace, at.Port), withClient...)
		}, nil
	}
	proxy, err := flinkrest.NewProxyDialer(cfg)
	if err != nil {
		return nil, err
	}
	return func(_ context.Context, at deployment.FlinkEndpoint) (*flinkrest.Client, error) {
		if at.TLS != nil && at.TLS.ClientAuth {
			return nil, errProxyClientCertificate
		}
		port := flinkrest.ServicePort{Namespace: at.Namespace, Service: at.Service, Port: strconv.Itoa(int(at.Port)), TLS: at.TLS != nil}
		return proxy.Client(port, opts...)
	}, nil
}
