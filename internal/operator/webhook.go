package operator

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"

	ctrl "sigs.k8s.io/controller-runtime"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/validation"
	"github.com/flok-dev/flok/internal/webhook"
)

// webhookServer is the manager's webhook server for o (nil when the webhook is off):
// TLS with the certificates certs keeps.
func webhookServer(o WebhookOptions, certs *webhook.Certs) (ctrlwebhook.Server, error) {
	if !o.enabled() {
		return nil, nil
	}
	host, portText, err := net.SplitHostPort(o.BindAddress)
	if err != nil {
		return nil, fmt.Errorf("--webhook-bind-address %q: %w (want host:port, like :9443)", o.BindAddress, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("--webhook-bind-address %q: the port is no number", o.BindAddress)
	}
	return ctrlwebhook.NewServer(ctrlwebhook.Options{Host: host, Port: port, TLSOpts: []func(*tls.Config){
		func(c *tls.Config) { c.GetCertificate = certs.GetCertificate },
	}}), nil
}

// newCerts is the certificate keeper of the webhook o configures (nil when it is off).
// It exists before the manager, whose webhook server serves its certificates;
// setupWebhook gives it the manager's clients.
func newCerts(o WebhookOptions, leaderElectionNamespace string) *webhook.Certs {
	if !o.enabled() {
		return nil
	}
	ns := cmp.Or(o.Namespace, os.Getenv("POD_NAMESPACE"), leaderElectionNamespace, "flok-system")
	hosts := o.CertHosts
	if len(hosts) == 0 {
		hosts = []string{o.Service + "." + ns + ".svc", o.Service + "." + ns + ".svc.cluster.local"}
	}
	return &webhook.Certs{
		Namespace: ns, SecretName: o.CASecret, Hosts: hosts, WebhookConfigurations: []string{o.Configuration},
		CAValidity: o.CAValidity, CertValidity: o.CertValidity, TrustDelay: o.CATrustDelay,
	}
}

// setupWebhook registers the validating webhooks and the certificate keeper with mgr.
func setupWebhook(mgr ctrl.Manager, certs *webhook.Certs, defaults flinkconf.Config, settings lifecycle.Settings, artifacts validation.ArtifactChecker, sqlRunner bool) error {
	if certs == nil {
		return nil
	}
	certs.Client, certs.Reader = mgr.GetClient(), mgr.GetAPIReader()
	if err := mgr.Add(certs); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook-certificate", certs.Ready); err != nil {
		return err
	}
	v := &webhook.Validators{Reader: mgr.GetClient(), Defaults: defaults, Settings: settings, Artifacts: artifacts, SQLRunner: sqlRunner}
	if err := v.Setup(mgr); err != nil {
		return fmt.Errorf("setting up the admission webhook: %w", err)
	}
	return nil
}
