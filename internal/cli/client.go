// Package cli is what the flok command line does, as a library the dashboard can
// share: find Flok's resources, summarize them, change them the way a user would
// (nonces, suspend, resume, delete), build an application from `flok run`'s flags, and
// wait for the operator to finish a change.
package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	API       client.Client
	Config    *rest.Config
	Namespace string
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

// ErrNotInstalled says Flok's CRDs are missing from the cluster.
var ErrNotInstalled = errors.New("flok's resources (FlinkDeployment, FlinkSessionJob) are not installed in this cluster; run `flok install` first")

// explain turns the errors people meet first into what to do about them.
func explain(err error, host string) error {
	var noKind *meta.NoKindMatchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &noKind), meta.IsNoMatchError(err):
		return ErrNotInstalled
	case apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err):
		return fmt.Errorf("the cluster at %s refused the request: %w (check your kubeconfig's user and its rights)", host, err)
	case isUnreachable(err):
		return fmt.Errorf("no cluster answers at %s: %w (check --kubeconfig and --context; for the local environment run `make cluster-up`)", host, err)
	}
	return err
}

func isUnreachable(err error) bool {
	var netErr interface{ Timeout() bool }
	return errors.As(err, &netErr) || apierrors.IsServiceUnavailable(err) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host")
}

// NotFoundError is a name that is neither a FlinkDeployment nor a FlinkSessionJob.
type NotFoundError struct{ Name, Namespace string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no FlinkDeployment or FlinkSessionJob named %q in namespace %s (see `flok list`, or -n for another namespace)", e.Name, e.Namespace)
}

// Get finds name as a FlinkDeployment, else as a FlinkSessionJob.
func (c *Client) Get(ctx context.Context, name string) (client.Object, error) {
	key := client.ObjectKey{Namespace: c.Namespace, Name: name}
	fd := &v1beta1.FlinkDeployment{}
	err := c.API.Get(ctx, key, fd)
	if err == nil {
		return fd, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, explain(err, c.Config.Host)
	}
	sj := &v1beta1.FlinkSessionJob{}
	if err := c.API.Get(ctx, key, sj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NotFoundError{Name: name, Namespace: c.Namespace}
		}
		return nil, explain(err, c.Config.Host)
	}
	return sj, nil
}
