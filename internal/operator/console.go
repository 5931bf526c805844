package operator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flok-dev/flok/internal/console"
)

// The console's viewers sign in with their own tokens; the operator only reviews them.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create

// setupConsole serves the Flok Console on every replica (it holds no state: each
// request acts as its viewer), when --console-bind-address is set.
func setupConsole(mgr ctrl.Manager, cfg *rest.Config, o Options) error {
	if o.ConsoleAddr == "" || o.ConsoleAddr == "0" {
		return nil
	}
	reviews, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	handler := console.New(console.Options{
		Authenticator: &console.Tokens{Reviews: reviews, Base: cfg, Mapper: mgr.GetRESTMapper()},
		Mapper:        mgr.GetRESTMapper(), SecureCookies: o.ConsoleSecureCookies,
	})
	l, err := net.Listen("tcp", o.ConsoleAddr)
	if err != nil {
		return fmt.Errorf("--console-bind-address %q: %w", o.ConsoleAddr, err)
	}
	return mgr.Add(consoleServer{listener: l, server: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}})
}

// consoleServer runs the console's HTTP server for the manager, leader or not.
type consoleServer struct {
	listener net.Listener
	server   *http.Server
}

// NeedLeaderElection is false: standby replicas serve the console too.
func (consoleServer) NeedLeaderElection() bool { return false }

// Start serves until ctx ends, then lets open requests finish for a few seconds;
// live streams end with ctx.
func (c consoleServer) Start(ctx context.Context) error {
	c.server.BaseContext = func(net.Listener) context.Context { return ctx }
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.server.Shutdown(shutdown)
	}()
	if err := c.server.Serve(c.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
