package commands

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/console"
)

func (e *env) dashboardCommand() *cobra.Command {
	addr := "127.0.0.1:8090"
	var noOpen bool
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve the Flok Console locally with your kubeconfig's identity, until Ctrl-C",
		Long: `dashboard serves the Flok Console on a local address: every FlinkDeployment and
FlinkSessionJob you may see, a page per deployment (status, events, checkpoints and
savepoints, exceptions, Pods and their logs, the Flink web UI) and the actions of this
command line. It acts as your kubeconfig's user, as kubectl proxy does: it shows and
changes only what that user may.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The live views' watches log through controller-runtime; pages show their errors.
			ctrllog.SetLogger(logr.Discard())
			c, err := e.client()
			if err != nil {
				return err
			}
			if err := loopbackOnly(addr); err != nil {
				return err
			}
			handler, err := localConsole(c, e.viewerName())
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			server := &http.Server{Handler: cli.OnlyAddressedByIP(handler), ReadHeaderTimeout: 10 * time.Second}
			go func() { _ = server.Serve(l) }()
			defer server.Close()
			url := "http://" + l.Addr().String() + "/"
			fmt.Fprintf(cmd.OutOrStdout(), "Flok Console: %s (Ctrl-C stops)\n", url)
			if !noOpen {
				if err := openBrowser(url); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "could not open a browser (%v): open %s yourself\n", err, url)
				}
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "address", addr, "local address to serve on (port 0: any free port)")
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "do not open a browser")
	return cmd
}

// loopbackOnly refuses an address others could reach: the dashboard acts with your
// kubeconfig's identity for whoever connects, without signing in.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--address %q: %w (want host:port, like 127.0.0.1:8090)", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--address %q: flok dashboard acts with your kubeconfig's identity for whoever connects, so it listens on loopback only (127.0.0.1 or localhost); to share a console, install the operator's (docs/console.md)", addr)
	}
	return nil
}

// localConsole is the console acting as c's user, known as name.
func localConsole(c *cli.Client, name string) (http.Handler, error) {
	httpClient, err := rest.HTTPClientFor(c.Config)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(c.Config, httpClient)
	if err != nil {
		return nil, err
	}
	viewer, err := console.NewViewer(c.Config, mapper, name, c.Namespace)
	if err != nil {
		return nil, err
	}
	return console.New(console.Options{Authenticator: console.Local{Viewer: viewer}, Mapper: mapper}), nil
}

// viewerName is the kubeconfig user of the context in use.
func (e *env) viewerName() string {
	raw, err := e.flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return "you"
	}
	context := raw.CurrentContext
	if e.flags.Context != nil && *e.flags.Context != "" {
		context = *e.flags.Context
	}
	if ctx, ok := raw.Contexts[context]; ok && ctx.AuthInfo != "" {
		return ctx.AuthInfo
	}
	return "you"
}

// openBrowser opens url in the desktop's browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
