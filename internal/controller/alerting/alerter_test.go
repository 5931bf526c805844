package alerting

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/alerts"
	"github.com/flok-dev/flok/test/alertinbox"
)

const (
	hmacKey   = "k3y-that-must-stay-secret"
	pathToken = "T0KEN-in-the-address"
)

// receiverObjects are an AlertReceiver posting to in and its Secret.
func receiverObjects(ns, name string, in *alertinbox.Inbox, perMinute int32) []client.Object {
	return []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-secret"},
			Data: map[string][]byte{alerts.KeyAddress: []byte(in.URL + "/hooks/" + pathToken), alerts.KeyHMACKey: []byte(hmacKey)}},
		&v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1beta1.AlertReceiverSpec{
			Type: v1beta1.ReceiverWebhook, SecretRef: v1beta1.SecretReference{Name: name + "-secret"}, MessagesPerMinute: ptr.To(perMinute)}},
	}
}

func degradedDeployment(ns, name, reason string) *v1beta1.FlinkDeployment {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(name + "-uid")},
		Spec: v1beta1.FlinkDeploymentSpec{FlinkVersion: "v2_3"}}
	fd.Status.JobStatus.JobID = "a1b2"
	meta.SetStatusCondition(&fd.Status.Conditions, metav1.Condition{Type: "Degraded", Status: metav1.ConditionTrue, Reason: reason,
		Message: "the job failed; fix it and change the spec", LastTransitionTime: metav1.NewTime(time.Now().Add(-time.Minute))})
	return fd
}

type world struct {
	client   client.Client
	recorder *events.FakeRecorder
	metrics  *Metrics
}

func newWorld(t *testing.T, objs ...client.Object) *world {
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	require.NoError(t, v1beta1.AddToScheme(scheme))
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&v1beta1.AlertReceiver{}, &v1beta1.AlertRoute{}, &v1beta1.FlinkDeployment{}).Build()
	return &world{client: c, recorder: events.NewFakeRecorder(100), metrics: NewMetrics(prometheus.NewRegistry())}
}

// alerter is a new operator's alerting controller: nothing in memory.
func (w *world) alerter() *Alerter {
	return &Alerter{Client: w.client, Reader: w.client, Recorder: w.recorder, HTTP: http.DefaultClient, Metrics: w.metrics}
}

func reconcileDeployment(t *testing.T, a *Alerter, ns, name string) error {
	_, err := a.Reconcile(t.Context(), request{Kind: v1beta1.KindFlinkDeployment, NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	return err
}

func (w *world) receiverStatus(t *testing.T, ns, name string) v1beta1.AlertReceiverStatus {
	r := &v1beta1.AlertReceiver{}
	require.NoError(t, w.client.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, r))
	return r.Status
}

// TestOneMessagePerIncident: each receiver of a matching route is told once — also by
// an operator that restarts — a receiver that is down does not hold up the other and
// is told when it is back, a route of another namespace hears nothing, and each is
// told once that the incident is resolved. No secret shows in statuses or events.
func TestOneMessagePerIncident(t *testing.T) {
	team, down, other := alertinbox.New(t, hmacKey), alertinbox.New(t, hmacKey), alertinbox.New(t, hmacKey)
	down.SetDown(true)
	objs := []client.Object{
		degradedDeployment("team", "orders", "JobFailed"),
		&v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "oncall"}, Spec: v1beta1.AlertRouteSpec{Receivers: []string{"team", "down", "missing"}}},
		&v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "all"}, Spec: v1beta1.AlertRouteSpec{Receivers: []string{"other"}}},
	}
	objs = append(objs, receiverObjects("team", "team", team, 20)...)
	objs = append(objs, receiverObjects("team", "down", down, 20)...)
	objs = append(objs, receiverObjects("other", "other", other, 20)...)
	w := newWorld(t, objs...)

	err := reconcileDeployment(t, w.alerter(), "team", "orders")
	require.ErrorContains(t, err, "AlertReceiver down: http://127.0.0.1")
	require.ErrorContains(t, err, "503 Service Unavailable: down for maintenance")
	require.Equal(t, []string{"firing JobFailed"}, team.Events())
	st := w.receiverStatus(t, "team", "down")
	require.Equal(t, metav1.ConditionFalse, meta.FindStatusCondition(st.Conditions, "Ready").Status)
	require.Contains(t, st.LastError, "503")
	require.True(t, meta.IsStatusConditionTrue(w.receiverStatus(t, "team", "team").Conditions, "Ready"))

	down.SetDown(false)
	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "orders"), "a restarted operator")
	require.Equal(t, []string{"firing JobFailed"}, team.Events(), "not sent twice")
	require.Equal(t, []string{"firing JobFailed"}, down.Events(), "sent once it is back")
	require.True(t, meta.IsStatusConditionTrue(w.receiverStatus(t, "team", "down").Conditions, "Ready"))
	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "orders"))
	require.Len(t, team.Events(), 1)

	fd := &v1beta1.FlinkDeployment{}
	require.NoError(t, w.client.Get(t.Context(), types.NamespacedName{Namespace: "team", Name: "orders"}, fd))
	meta.SetStatusCondition(&fd.Status.Conditions, metav1.Condition{Type: "Degraded", Status: metav1.ConditionFalse, Reason: "Healthy"})
	require.NoError(t, w.client.Status().Update(t.Context(), fd))
	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "orders"))
	require.Equal(t, []string{"firing JobFailed", "resolved JobFailed"}, team.Events())
	require.Equal(t, []string{"firing JobFailed", "resolved JobFailed"}, down.Events())
	require.Empty(t, other.Events(), "a route of another namespace")
	require.Equal(t, "a1b2", team.Payloads()[0].JobID)
	require.Equal(t, "v2_3", team.Payloads()[0].FlinkVersion)
	require.Equal(t, team.Payloads()[0].ID, team.Payloads()[1].ID)
	require.Equal(t, 2.0, testutil.ToFloat64(w.metrics.sent.WithLabelValues("webhook", "firing")))
	require.Equal(t, 2.0, testutil.ToFloat64(w.metrics.sent.WithLabelValues("webhook", "resolved")))
	require.Equal(t, 1.0, testutil.ToFloat64(w.metrics.failures.WithLabelValues("webhook")))

	cm := &corev1.ConfigMap{}
	require.NoError(t, w.client.Get(t.Context(), types.NamespacedName{Namespace: "team", Name: "orders-deployment-alerts"}, cm))
	require.JSONEq(t, `{"uid":"orders-uid","jobID":"a1b2","flinkVersion":"v2_3"}`, cm.Data["record.json"], "every message of the incident sent: forgotten")
	require.Empty(t, cm.OwnerReferences, "the record outlives its resource until the ends it owes are sent")

	var seen []string
	for len(w.recorder.Events) > 0 {
		seen = append(seen, <-w.recorder.Events)
	}
	require.Contains(t, strings.Join(seen, "\n"), "DeliveryFailed")
	for _, text := range append(seen, st.LastError, err.Error()) {
		require.NotContains(t, text, pathToken)
		require.NotContains(t, text, hmacKey)
	}
}

// TestDeletedResourceResolves: a resource deleted while its incident is open — its
// receiver down at that moment — has the end of the incident sent, saying it was
// deleted and naming the job as it was, once the receiver is back; then its record goes.
func TestDeletedResourceResolves(t *testing.T) {
	team := alertinbox.New(t, hmacKey)
	objs := []client.Object{
		degradedDeployment("team", "orders", "JobFailed"),
		&v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "oncall"}, Spec: v1beta1.AlertRouteSpec{Receivers: []string{"team"}}},
	}
	w := newWorld(t, append(objs, receiverObjects("team", "team", team, 20)...)...)
	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "orders"))
	require.Equal(t, []string{"firing JobFailed"}, team.Events())

	require.NoError(t, w.client.Delete(t.Context(), objs[0]))
	team.SetDown(true)
	require.ErrorContains(t, reconcileDeployment(t, w.alerter(), "team", "orders"), "503")
	record := types.NamespacedName{Namespace: "team", Name: "orders-deployment-alerts"}
	require.NoError(t, w.client.Get(t.Context(), record, &corev1.ConfigMap{}), "kept while an end is owed")

	team.SetDown(false)
	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "orders"))
	require.Equal(t, []string{"firing JobFailed", "resolved JobFailed"}, team.Events())
	resolved := team.Payloads()[1]
	require.Equal(t, "the FlinkDeployment was deleted", resolved.Resolution)
	require.Equal(t, "a1b2", resolved.JobID)
	require.Equal(t, "v2_3", resolved.FlinkVersion)
	require.Equal(t, "DELETED", resolved.Lifecycle)
	require.Equal(t, team.Payloads()[0].ID, resolved.ID)
	require.True(t, apierrors.IsNotFound(w.client.Get(t.Context(), record, &corev1.ConfigMap{})), "the record goes with the last message")

	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "orders"))
	require.Len(t, team.Events(), 2, "nothing more")
}

// TestRecreatedResourceStartsAfresh: a resource deleted and made again under the same
// name before the Alerter saw the deletion does not inherit the old one's incident: its
// end is sent, saying it was deleted, then the new one's incident opens anew. A
// ConfigMap of a record's name that is not Flok's is left alone once its resource is gone.
func TestRecreatedResourceStartsAfresh(t *testing.T) {
	team := alertinbox.New(t, hmacKey)
	old := degradedDeployment("team", "orders", "JobFailed")
	objs := []client.Object{old,
		&v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "oncall"}, Spec: v1beta1.AlertRouteSpec{Receivers: []string{"team"}}},
	}
	w := newWorld(t, append(objs, receiverObjects("team", "team", team, 20)...)...)
	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "orders"))

	require.NoError(t, w.client.Delete(t.Context(), old))
	again := degradedDeployment("team", "orders", "JobFailed")
	again.UID, again.ResourceVersion, again.Status.JobStatus.JobID = "orders-uid-2", "", "c3d4"
	require.NoError(t, w.client.Create(t.Context(), again))
	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "orders"))
	require.Equal(t, []string{"firing JobFailed", "resolved JobFailed", "firing JobFailed"}, team.Events())
	p := team.Payloads()
	require.Equal(t, "the FlinkDeployment was deleted", p[1].Resolution)
	require.Equal(t, "a1b2", p[1].JobID, "the end names the old job")
	require.Equal(t, "c3d4", p[2].JobID)

	require.NoError(t, w.client.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "gone-deployment-alerts"}}))
	require.NoError(t, reconcileDeployment(t, w.alerter(), "team", "gone"), "not Flok's, and nothing to settle")
	require.NoError(t, w.client.Get(t.Context(), types.NamespacedName{Namespace: "team", Name: "gone-deployment-alerts"}, &corev1.ConfigMap{}))
}

// TestFailingReceiverBacksOff: a receiver that failed is not tried again by another
// resource's messages until its back-off ends — a receiver that hangs would hold a
// worker for every resource routed to it — while the other receiver of the route is
// sent at once; after the back-off it is tried, and takes what is owed.
func TestFailingReceiverBacksOff(t *testing.T) {
	down, team := alertinbox.New(t, hmacKey), alertinbox.New(t, hmacKey)
	down.SetDown(true)
	objs := []client.Object{
		degradedDeployment("team", "a", "JobFailed"), degradedDeployment("team", "b", "RestartLoop"),
		&v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "oncall"}, Spec: v1beta1.AlertRouteSpec{Receivers: []string{"down", "team"}}},
	}
	objs = append(objs, receiverObjects("team", "down", down, 20)...)
	w := newWorld(t, append(objs, receiverObjects("team", "team", team, 20)...)...)
	now := time.Now()
	a := w.alerter()
	a.Now = func() time.Time { return now }

	require.ErrorContains(t, reconcileDeployment(t, a, "team", "a"), "503")
	res, err := a.Reconcile(t.Context(), request{Kind: v1beta1.KindFlinkDeployment, NamespacedName: types.NamespacedName{Namespace: "team", Name: "b"}})
	require.NoError(t, err, "b does not try the receiver a found failing")
	require.Equal(t, 1, down.Attempts())
	require.Equal(t, firstBackoff, res.RequeueAfter, "b comes back when the back-off ends")
	require.ElementsMatch(t, []string{"firing JobFailed", "firing RestartLoop"}, team.Events(), "the other receiver is not held up")

	now = now.Add(firstBackoff)
	require.ErrorContains(t, reconcileDeployment(t, a, "team", "b"), "503", "tried again after the back-off")
	require.Equal(t, 2, down.Attempts())
	res, err = a.Reconcile(t.Context(), request{Kind: v1beta1.KindFlinkDeployment, NamespacedName: types.NamespacedName{Namespace: "team", Name: "a"}})
	require.NoError(t, err)
	require.Equal(t, 2*firstBackoff, res.RequeueAfter, "the back-off doubles")

	down.SetDown(false)
	now = now.Add(2 * firstBackoff)
	require.NoError(t, reconcileDeployment(t, a, "team", "a"))
	require.NoError(t, reconcileDeployment(t, a, "team", "b"))
	require.ElementsMatch(t, []string{"firing JobFailed", "firing RestartLoop"}, down.Events())
	require.Equal(t, 4, down.Attempts(), "after a success no back-off is left")
}

// TestIncidentSeenIsNeverLost: an incident recorded but not yet sent when the
// operator stopped — here held back by the receiver's rate limit — is sent exactly
// once by the next operator.
func TestIncidentSeenIsNeverLost(t *testing.T) {
	in := alertinbox.New(t, hmacKey)
	objs := append([]client.Object{
		degradedDeployment("team", "a", "RestartLoop"), degradedDeployment("team", "b", "CheckpointsStalled"),
		&v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "oncall"}, Spec: v1beta1.AlertRouteSpec{Receivers: []string{"pager"}}},
	}, receiverObjects("team", "pager", in, 1)...)
	w := newWorld(t, objs...)
	first := w.alerter()
	require.NoError(t, reconcileDeployment(t, first, "team", "a"))
	res, err := first.Reconcile(t.Context(), request{Kind: v1beta1.KindFlinkDeployment, NamespacedName: types.NamespacedName{Namespace: "team", Name: "b"}})
	require.NoError(t, err)
	require.Greater(t, res.RequeueAfter, 30*time.Second, "b waits for the receiver's next turn, a minute on")
	require.Equal(t, []string{"firing RestartLoop"}, in.Events())

	cm := &corev1.ConfigMap{}
	require.NoError(t, w.client.Get(t.Context(), types.NamespacedName{Namespace: "team", Name: "b-deployment-alerts"}, cm))
	require.Contains(t, cm.Data["record.json"], "CheckpointsStalled", "recorded before it was sent")

	restarted := w.alerter()
	require.NoError(t, reconcileDeployment(t, restarted, "team", "b"))
	require.NoError(t, reconcileDeployment(t, restarted, "team", "a"))
	require.Equal(t, []string{"firing RestartLoop", "firing CheckpointsStalled"}, in.Events())
}

// TestRemindersAtTheRepeatInterval: an incident still open is sent again once the
// route's repeat interval has passed, and the reconcile comes back when it is due.
func TestRemindersAtTheRepeatInterval(t *testing.T) {
	in := alertinbox.New(t, hmacKey)
	objs := append([]client.Object{
		degradedDeployment("team", "a", "JobFailed"),
		&v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "oncall"},
			Spec: v1beta1.AlertRouteSpec{Receivers: []string{"pager"}, RepeatInterval: &metav1.Duration{Duration: time.Hour}}},
	}, receiverObjects("team", "pager", in, 20)...)
	w := newWorld(t, objs...)
	now := time.Now()
	a := w.alerter()
	a.Now = func() time.Time { return now }
	res, err := a.Reconcile(t.Context(), request{Kind: v1beta1.KindFlinkDeployment, NamespacedName: types.NamespacedName{Namespace: "team", Name: "a"}})
	require.NoError(t, err)
	require.Equal(t, time.Hour, res.RequeueAfter)
	now = now.Add(time.Hour)
	require.NoError(t, reconcileDeployment(t, a, "team", "a"))
	require.Equal(t, []string{"firing JobFailed", "reminder JobFailed"}, in.Events())
}
