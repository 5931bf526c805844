// Package cli is what the flok command line does, as a library the dashboard can
// share: find Flok's resources, summarize them, change them the way a user would
// (nonces, suspend, resume, delete), build an application from `flok run`'s flags, and
// wait for the operator to finish a change.
package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Client reaches one cluster and namespace.
type Client struct {
	// API reads and writes Kubernetes' and Flok's objects.
	API client.Client
	// Config is how to reach the API server (the kubeconfig's cluster and user).
	Config *rest.Config
	// Namespace is where names are looked up.
	Namespace string
	// RESTPorts, when set, remembers how clusters' REST Services are spoken to
	// (FlinkREST) for a while, for a long-lived client (the console's viewers).
	RESTPorts *RESTPortCache
}

// Scheme knows Kubernetes' types and Flok's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1beta1.AddToScheme(s)
	return s
}

// New connects to the cluster of cfg.
func New(cfg *rest.Config, namespace string) (*Client, error) {
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, explain(err, cfg.Host)
	}
	return &Client{API: c, Config: cfg, Namespace: namespace}, nil
}

// InNamespace is the same client looking up names in namespace.
func (c *Client) InNamespace(namespace string) *Client {
	in := *c
	in.Namespace = namespace
	return &in
}

// ErrNotInstalled says Flok's CRDs are missing from the cluster.
var ErrNotInstalled = errors.New("flok's resources (FlinkDeployment, FlinkSessionJob) are not installed in this cluster; run `flok install` first")

// explain turns the errors people meet first into what to do about them.
func explain(err error, host string) error {
	var noKind *meta.NoKindMatchError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &noKind), meta.IsNoMatchError(err):
		return ErrNotInstalled
	case apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err):
		return fmt.Errorf("the cluster at %s refused the request: %w (check your kubeconfig's user and its rights)", host, err)
	case isUnreachable(err):
		return fmt.Errorf("no cluster answers at %s: %w (check --kubeconfig and --context; for the local environment run `make cluster-up`)", host, err)
	}
	return err
}

// isUnreachable reports an API server that cannot be reached at all: refused, unknown
// or silent. (TLS and authentication failures are the user's to read as they are.)
func isUnreachable(err error) bool {
	var netErr net.Error
	var dnsErr *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dnsErr) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}

// NotFoundError is a name that is neither a FlinkDeployment nor a FlinkSessionJob.
type NotFoundError struct{ Name, Namespace string }

// Error names the resource and where to look for it.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no FlinkDeployment or FlinkSessionJob named %q in namespace %s (see `flok list`, or -n for another namespace)", e.Name, e.Namespace)
}

// AmbiguousError is a name that both a FlinkDeployment and a FlinkSessionJob carry.
type AmbiguousError struct{ Name string }

// Error says how to name the one meant.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("both a FlinkDeployment and a FlinkSessionJob are named %q: say flinkdeployment/%s or flinksessionjob/%s", e.Name, e.Name, e.Name)
}

// refKinds are the kinds a reference may name before a slash, as kubectl takes TYPE/NAME.
var refKinds = map[string]func() client.Object{
	"flinkdeployment":  func() client.Object { return &v1beta1.FlinkDeployment{} },
	"flinkdeployments": func() client.Object { return &v1beta1.FlinkDeployment{} },
	"fd":               func() client.Object { return &v1beta1.FlinkDeployment{} },
	"flinksessionjob":  func() client.Object { return &v1beta1.FlinkSessionJob{} },
	"flinksessionjobs": func() client.Object { return &v1beta1.FlinkSessionJob{} },
	"fsj":              func() client.Object { return &v1beta1.FlinkSessionJob{} },
}

// Get finds a resource by reference: NAME (a FlinkDeployment or a FlinkSessionJob,
// refused when both carry it), or KIND/NAME with KIND flinkdeployment (fd) or
// flinksessionjob (fsj).
func (c *Client) Get(ctx context.Context, ref string) (client.Object, error) {
	candidates := []client.Object{&v1beta1.FlinkDeployment{}, &v1beta1.FlinkSessionJob{}}
	name := ref
	if kind, rest, ok := strings.Cut(ref, "/"); ok {
		newObject, known := refKinds[strings.ToLower(kind)]
		if !known {
			return nil, fmt.Errorf("%q: the kind before the slash is flinkdeployment (fd) or flinksessionjob (fsj), not %q", ref, kind)
		}
		candidates, name = []client.Object{newObject()}, rest
	}
	var found []client.Object
	for _, obj := range candidates {
		err := c.API.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, obj)
		switch {
		case err == nil:
			found = append(found, obj)
		case !apierrors.IsNotFound(err):
			return nil, explain(err, c.Config.Host)
		}
	}
	switch len(found) {
	case 0:
		return nil, &NotFoundError{Name: name, Namespace: c.Namespace}
	case 1:
		return found[0], nil
	}
	return nil, &AmbiguousError{Name: name}
}

// ClusterName is the Flink cluster a resource runs on: a FlinkDeployment's own, a
// FlinkSessionJob's session.
func ClusterName(obj client.Object) string {
	if sj, ok := obj.(*v1beta1.FlinkSessionJob); ok {
		return sj.Spec.DeploymentName
	}
	return obj.GetName()
}
