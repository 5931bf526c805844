package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flok-dev/flok/internal/flinkrest"
)

// The REST Service's port says whether Flink speaks TLS there; a long-lived client
// asks the API server once for a while.
func TestFlinkRESTFollowsTheService(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "orders-rest"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "rest", Port: 8081, AppProtocol: ptr.To("https")}}}}
	gets := 0
	api := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(svc).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			gets++
			return c.Get(ctx, key, obj, opts...)
		},
	}).Build()
	c := &Client{API: api, Namespace: "team", RESTPorts: &RESTPortCache{}}
	want := flinkrest.ServicePort{Namespace: "team", Service: "orders-rest", Port: "rest", TLS: true}
	require.Equal(t, want, c.FlinkREST(t.Context(), "orders"))
	require.Equal(t, want, c.FlinkREST(t.Context(), "orders"))
	require.Equal(t, 1, gets, "remembered")
	require.Equal(t, "/api/v1/namespaces/team/services/https:orders-rest:rest/proxy", flinkrest.ProxyPath(want))

	plain := &Client{API: api, Namespace: "team"}
	require.False(t, plain.FlinkREST(t.Context(), "payments").TLS, "no Service: plain HTTP, and the proxy says what is wrong")
}
