package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/alerts"
)

var alertsNow = time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)

// TestAlertsList prints the incidents of the namespace's records, the receivers told
// of each, and an incident whose end is still being told as resolved.
func TestAlertsList(t *testing.T) {
	var rec alerts.Record
	rec.Observe(alerts.Incident{Kind: "JobFailed", Severity: "critical", Since: alertsNow.Add(-5 * time.Minute), Message: "job failed"}, true, alertsNow)
	due, _ := rec.Due(func(alerts.Incident) []alerts.Target {
		return []alerts.Target{{Route: "oncall", Receivers: []string{"slack"}}}
	}, alertsNow)
	rec.MarkSent(due[0], alertsNow)
	data, err := rec.Encode()
	require.NoError(t, err)
	record := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: alerts.RecordName(v1beta1.KindFlinkDeployment, "orders"),
		Labels: map[string]string{alerts.LabelRecord: v1beta1.KindFlinkDeployment, "app": "orders"}}, Data: data}
	c := &Client{API: fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(record).Build(), Config: &rest.Config{}, Namespace: "team"}

	open, err := c.Incidents(t.Context(), false)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, PrintIncidents(&out, open, alertsNow))
	require.Contains(t, out.String(), "team        FlinkDeployment/orders   JobFailed   critical   5m      oncall/slack   job failed")

	c.Namespace = "other"
	open, err = c.Incidents(t.Context(), false)
	require.NoError(t, err)
	require.Empty(t, open)
}

// TestAlertsTest sends a PagerDuty receiver a test event and resolves it, and says
// which key of the Secret to set when one is missing.
func TestAlertsTest(t *testing.T) {
	var actions []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(body, &ev))
		actions = append(actions, ev["event_action"].(string))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	objs := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(
		&v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "pager"},
			Spec: v1beta1.AlertReceiverSpec{Type: v1beta1.ReceiverPagerDuty, SecretRef: v1beta1.SecretReference{Name: "pager"}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "pager"},
			Data: map[string][]byte{alerts.KeyAddress: []byte(srv.URL), alerts.KeyRoutingKey: []byte("R0UT1NG")}},
		&v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "half"},
			Spec: v1beta1.AlertReceiverSpec{Type: v1beta1.ReceiverPagerDuty, SecretRef: v1beta1.SecretReference{Name: "half"}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "half"}},
	).Build()
	c := &Client{API: objs, Config: &rest.Config{}, Namespace: "team"}
	typ, err := c.TestReceiver(t.Context(), "pager", alertsNow)
	require.NoError(t, err)
	require.Equal(t, v1beta1.ReceiverPagerDuty, typ)
	require.Equal(t, []string{"trigger", "resolve"}, actions)

	_, err = c.TestReceiver(t.Context(), "half", alertsNow)
	require.ErrorContains(t, err, "Secret half: key routingKey is missing")
	_, err = c.TestReceiver(t.Context(), "nobody", alertsNow)
	require.ErrorContains(t, err, "no AlertReceiver nobody in namespace team")
}
