package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/alerts"
	"github.com/flok-dev/flok/internal/render"
)

// Incident is an incident of a Flink job the operator has recorded: open, or ended
// but not every receiver told so yet.
type Incident struct {
	Namespace string `json:"namespace"`
	// Resource is Kind/name of the FlinkDeployment or FlinkSessionJob.
	Resource string          `json:"resource"`
	Incident alerts.Incident `json:"incident"`
	// Resolved is when it ended, if it did.
	Resolved *time.Time `json:"resolved,omitempty"`
	// SentTo are the receivers told of it, as route/receiver.
	SentTo []string `json:"sentTo,omitempty"`
}

// Incidents reads the alert records of the namespace (all namespaces when all); a
// record that cannot be read is left out.
func (c *Client) Incidents(ctx context.Context, all bool) ([]Incident, error) {
	cms := &corev1.ConfigMapList{}
	opts := []client.ListOption{client.HasLabels{alerts.LabelRecord}}
	if !all {
		opts = append(opts, client.InNamespace(c.Namespace))
	}
	if err := c.API.List(ctx, cms, opts...); err != nil {
		return nil, explain(err, c.Config.Host)
	}
	var open []Incident
	for _, cm := range cms.Items {
		rec, err := alerts.RecordOf(&cm)
		if err != nil {
			continue // the operator starts it again
		}
		for _, inc := range rec.Incidents {
			o := Incident{Namespace: cm.Namespace, Resource: cm.Labels[alerts.LabelRecord] + "/" + cm.Labels[render.LabelApp],
				Incident: inc.Incident, Resolved: inc.ResolvedAt}
			for _, s := range inc.Sent {
				o.SentTo = append(o.SentTo, s.Route+"/"+s.Receiver)
			}
			open = append(open, o)
		}
	}
	slices.SortFunc(open, func(a, b Incident) int { return a.Incident.Since.Compare(b.Incident.Since) })
	return open, nil
}

// PrintIncidents writes `flok alerts list`.
func PrintIncidents(w io.Writer, open []Incident, now time.Time) error {
	if len(open) == 0 {
		_, err := fmt.Fprintln(w, "No open incidents.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tRESOURCE\tINCIDENT\tSEVERITY\tSINCE\tSENT TO\tMESSAGE")
	for _, o := range open {
		kind := o.Incident.Kind
		if o.Resolved != nil {
			kind += " (resolved)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Namespace, o.Resource, kind, o.Incident.Severity,
			age(o.Incident.Since, now), dash(strings.Join(o.SentTo, ",")), o.Incident.Message)
	}
	return tw.Flush()
}

// testTimeout bounds a test message's delivery.
const testTimeout = 30 * time.Second

// TestReceiver sends a test message to an AlertReceiver of the namespace, with the
// address and credentials of its Secret (read with the caller's rights), and returns
// the receiver's type; an error is the receiver's refusal, without secrets.
func (c *Client) TestReceiver(ctx context.Context, name string, now time.Time) (string, error) {
	r := &v1beta1.AlertReceiver{}
	if err := c.API.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, r); apierrors.IsNotFound(err) {
		return "", fmt.Errorf("no AlertReceiver %s in namespace %s", name, c.Namespace)
	} else if err != nil {
		return "", explain(err, c.Config.Host)
	}
	secret := &corev1.Secret{}
	if err := c.API.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: r.Spec.SecretRef.Name}, secret); err != nil {
		return r.Spec.Type, fmt.Errorf("spec.secretRef.name: Secret %s: %w", r.Spec.SecretRef.Name, explain(err, c.Config.Host))
	}
	sender, err := alerts.NewSender(r.Spec.Type, secret.Data, &http.Client{Timeout: testTimeout})
	if err != nil {
		return r.Spec.Type, fmt.Errorf("Secret %s: %w", secret.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	return r.Spec.Type, sender.Send(ctx, alerts.TestMessage(c.Namespace, name, now))
}
