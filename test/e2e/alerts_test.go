package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/alerts"
	"github.com/flok-dev/flok/test/alertinbox"
	"github.com/flok-dev/flok/test/flinktest"
)

// Secret values planted in the receiver's Secret, which must show nowhere else.
const (
	alertHMACKey   = "e2e-hmac-k3y-never-shown"
	alertPathToken = "e2e-T0KEN-never-shown"
)

// routeAlerts creates, in ns, a webhook AlertReceiver posting to a new inbox on
// loopback (its address and HMAC key in a Secret) and an AlertRoute sending it the
// namespace's incidents of the kinds given.
func routeAlerts(t *testing.T, c client.Client, ns string, kinds ...string) *alertinbox.Inbox {
	t.Helper()
	in := alertinbox.New(t, alertHMACKey)
	ctx := t.Context()
	require.NoError(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook"},
		Data: map[string][]byte{alerts.KeyAddress: []byte(in.URL + "/hooks/" + alertPathToken), alerts.KeyHMACKey: []byte(alertHMACKey)}}))
	require.NoError(t, c.Create(ctx, &v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook"},
		Spec: v1beta1.AlertReceiverSpec{Type: v1beta1.ReceiverWebhook, SecretRef: v1beta1.SecretReference{Name: "hook"}}}))
	require.NoError(t, c.Create(ctx, &v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "oncall"},
		Spec: v1beta1.AlertRouteSpec{Receivers: []string{"hook"}, Incidents: kinds}}))
	return in
}

// waitForAlerts waits until the inbox holds as many messages as want, and checks
// they are want (as "event incident").
func waitForAlerts(t *testing.T, in *alertinbox.Inbox, want ...string) {
	t.Helper()
	flinktest.WaitFor(t, time.Minute, fmt.Sprintf("alerts %q", want), func(context.Context) (bool, error) {
		return len(in.Events()) >= len(want), nil
	})
	require.Equal(t, want, in.Events())
}

// proveDeletedIncidentEnds routes fd's incident to an inbox, deletes fd while the
// incident is open, and waits for its end — saying the deployment was deleted — and for
// its alert record to go.
func proveDeletedIncidentEnds(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	in := routeAlerts(t, c, fd.Namespace)
	sent := func(event string) []alerts.WebhookPayload {
		var of []alerts.WebhookPayload
		for _, p := range in.Payloads() {
			if p.Name == fd.Name && string(p.Event) == event {
				of = append(of, p)
			}
		}
		return of
	}
	flinktest.WaitFor(t, time.Minute, "the incident of "+fd.Name+" sent", func(context.Context) (bool, error) {
		return len(sent("firing")) > 0, nil
	})
	require.NoError(t, c.Delete(t.Context(), fd))
	flinktest.WaitFor(t, time.Minute, "the end of "+fd.Name+"'s incident sent", func(context.Context) (bool, error) {
		return len(sent("resolved")) > 0, nil
	})
	ended := sent("resolved")
	require.Len(t, ended, 1)
	require.Equal(t, "the FlinkDeployment was deleted", ended[0].Resolution)
	require.Equal(t, sent("firing")[0].ID, ended[0].ID)
	flinktest.WaitFor(t, time.Minute, "the alert record of "+fd.Name+" deleted", func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: alerts.RecordName(v1beta1.KindFlinkDeployment, fd.Name)}, &corev1.ConfigMap{})
		return apierrors.IsNotFound(err), nil
	})
}

// proveReceiverFailing waits for the receiver's status to say its deliveries fail.
func proveReceiverFailing(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	receiver := &v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	alertConditionFalse(t, c, receiver, 2*time.Minute, "Ready", "DeliveryFailed", "")
}

// proveAlertSent: the deployment's incident reached the inbox once, signed, naming
// the job, soon after the condition was set; `flok alerts list` shows it.
func proveAlertSent(t *testing.T, in *alertinbox.Inbox, fd *v1beta1.FlinkDeployment, kind string) {
	t.Helper()
	waitForAlerts(t, in, "firing "+kind)
	p := in.Payloads()[0]
	require.Equal(t, fd.Name, p.Name)
	require.NotEmpty(t, p.JobID, "the job as it was when the incident opened")
	require.Equal(t, string(fd.Spec.FlinkVersion), p.FlinkVersion)
	t.Logf("alert %s delivered %s after the operator saw the incident open", kind, in.Arrival(0).Sub(p.Since).Round(time.Millisecond))
	code, stdout, stderr := flok(t, fd.Namespace, "alerts", "list")
	require.Zero(t, code, stderr)
	require.Contains(t, stdout, "FlinkDeployment/"+fd.Name)
	require.Contains(t, stdout, kind)
	require.Contains(t, stdout, "oncall/hook")
}

// proveAlertResolved: the incident's end reached the inbox once; no incident is open;
// and no secret value of the receiver shows in the operator's log, the receiver's
// status, events or the CLI.
func proveAlertResolved(t *testing.T, c client.Client, in *alertinbox.Inbox, ns, kind, operatorLog string) {
	t.Helper()
	waitForAlerts(t, in, "firing "+kind, "resolved "+kind)
	code, stdout, stderr := flok(t, ns, "alerts", "list")
	require.Zero(t, code, stderr)
	require.Contains(t, stdout, "No open incidents.")
	code, testOut, testErr := flok(t, ns, "alerts", "test", "hook")
	require.Zero(t, code, testErr)
	require.Contains(t, testOut, "AlertReceiver hook (webhook) took the test message")

	receiver := &v1beta1.AlertReceiver{}
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "hook"}, receiver))
	require.True(t, meta.IsStatusConditionTrue(receiver.Status.Conditions, "Ready"))
	logData, err := os.ReadFile(operatorLog)
	require.NoError(t, err)
	evs, err := cluster.Client.EventsV1().Events(ns).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	texts := []string{string(logData), stdout, stderr, testOut, testErr, receiver.Status.LastError}
	for _, c := range receiver.Status.Conditions {
		texts = append(texts, c.Message)
	}
	for _, e := range evs.Items {
		texts = append(texts, e.Note)
	}
	for _, text := range texts {
		require.NotContains(t, text, alertPathToken)
		require.NotContains(t, text, alertHMACKey)
	}
}
