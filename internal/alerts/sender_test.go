package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/api/v1beta1"
)

// received is what a receiver on loopback got: each request's body and headers.
type received struct {
	bodies  [][]byte
	headers []http.Header
	queries []string
}

// receiverServer is a real HTTP server on loopback that answers status with answer.
func receiverServer(t *testing.T, status int, answer string) (*httptest.Server, *received) {
	got := &received{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got.bodies = append(got.bodies, body)
		got.headers = append(got.headers, r.Header.Clone())
		got.queries = append(got.queries, r.URL.RawQuery)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func sampleMessage(event Event) Message {
	return Message{
		Event: event, Route: "team",
		Subject: Subject{Kind: v1beta1.KindFlinkDeployment, Namespace: "team", Name: "orders", JobID: "a1b2",
			JobState: "FAILED", LifecycleState: "FAILED", FlinkVersion: "v2_3"},
		Incident:   Incident{Kind: "JobFailed", Severity: "critical", Since: t0, Message: "job a1b2 failed: boom. Fix the job and change the spec"},
		ResolvedAt: t0.Add(90 * time.Second),
	}
}

func send(t *testing.T, typ string, secret map[string][]byte, m Message) error {
	t.Helper()
	s, err := NewSender(typ, secret, http.DefaultClient)
	require.NoError(t, err)
	return s.Send(t.Context(), m)
}

// TestWebhookIsSigned: the body is Flok's JSON and its signature checks out with the
// shared key.
func TestWebhookIsSigned(t *testing.T) {
	srv, got := receiverServer(t, http.StatusNoContent, "")
	key := []byte("s3cret-key")
	require.NoError(t, send(t, v1beta1.ReceiverWebhook, map[string][]byte{KeyAddress: []byte(srv.URL + "/hook"), KeyHMACKey: key}, sampleMessage(EventResolved)))
	require.Len(t, got.bodies, 1)
	require.Equal(t, Signature(key, got.bodies[0]), got.headers[0].Get(SignatureHeader))
	var p WebhookPayload
	require.NoError(t, json.Unmarshal(got.bodies[0], &p))
	require.Equal(t, EventResolved, p.Event)
	require.Equal(t, "team/flinkdeployment/orders/JobFailed/"+itoa(t0.Unix()), p.ID)
	require.Equal(t, "JobFailed", p.Incident)
	require.Equal(t, "a1b2", p.JobID)
	require.Equal(t, t0.Add(90*time.Second), *p.ResolvedAt)
	require.Contains(t, p.Message, "Fix the job")
}

// TestSlackPostsText: an incoming webhook is posted {"text": ...} with the title, the
// advice and the job's facts.
func TestSlackPostsText(t *testing.T) {
	srv, got := receiverServer(t, http.StatusOK, "ok")
	require.NoError(t, send(t, v1beta1.ReceiverSlack, map[string][]byte{KeyAddress: []byte(srv.URL + "/services/T0/B0/x")}, sampleMessage(EventFiring)))
	var p map[string]string
	require.NoError(t, json.Unmarshal(got.bodies[0], &p))
	require.Len(t, p, 1)
	require.Contains(t, p["text"], "*[FIRING] critical JobFailed: FlinkDeployment team/orders*")
	require.Contains(t, p["text"], "Fix the job and change the spec")
	require.Contains(t, p["text"], "Flink version: v2_3")
}

// TestPagerDutyTriggersAndResolvesOneAlert: the Events API v2 is sent a trigger and
// then a resolve under the same dedup_key, with the routing key.
func TestPagerDutyTriggersAndResolvesOneAlert(t *testing.T) {
	srv, got := receiverServer(t, http.StatusAccepted, `{"status":"success","message":"Event processed"}`)
	secret := map[string][]byte{KeyAddress: []byte(srv.URL + "/v2/enqueue"), KeyRoutingKey: []byte("R0UT1NG")}
	require.NoError(t, send(t, v1beta1.ReceiverPagerDuty, secret, sampleMessage(EventFiring)))
	require.NoError(t, send(t, v1beta1.ReceiverPagerDuty, secret, sampleMessage(EventResolved)))
	var trigger, resolve map[string]any
	require.NoError(t, json.Unmarshal(got.bodies[0], &trigger))
	require.NoError(t, json.Unmarshal(got.bodies[1], &resolve))
	require.Equal(t, "trigger", trigger["event_action"])
	require.Equal(t, "R0UT1NG", trigger["routing_key"])
	payload := trigger["payload"].(map[string]any)
	require.Equal(t, "critical", payload["severity"], "one of critical, error, warning, info")
	require.Equal(t, "team/orders", payload["source"])
	require.NotEmpty(t, payload["summary"])
	require.Equal(t, "resolve", resolve["event_action"])
	require.Equal(t, trigger["dedup_key"], resolve["dedup_key"])
	require.NotContains(t, resolve, "payload")
}

// TestErrorsKeepSecretsOut: neither a refused message nor an unreachable receiver
// quotes the path or query of its address, where webhook tokens live.
func TestErrorsKeepSecretsOut(t *testing.T) {
	const token = "T0KEN-in-the-path"
	srv, _ := receiverServer(t, http.StatusForbidden, "invalid_token")
	err := send(t, v1beta1.ReceiverSlack, map[string][]byte{KeyAddress: []byte(srv.URL + "/services/" + token + "?key=" + token)}, sampleMessage(EventFiring))
	require.ErrorContains(t, err, "403 Forbidden: invalid_token")
	require.NotContains(t, err.Error(), token)

	echo, _ := receiverServer(t, http.StatusNotFound, "Cannot POST /services/"+token+"?key="+token)
	err = send(t, v1beta1.ReceiverSlack, map[string][]byte{KeyAddress: []byte(echo.URL + "/services/" + token + "?key=" + token)}, sampleMessage(EventFiring))
	require.ErrorContains(t, err, "404 Not Found: Cannot POST /…/…?key=…", "an echoed address is blotted out, segment by segment")
	require.NotContains(t, err.Error(), token)

	target, hit := receiverServer(t, http.StatusOK, "")
	redirecting := httptest.NewServer(http.RedirectHandler(target.URL+"/internal", http.StatusFound))
	defer redirecting.Close()
	err = send(t, v1beta1.ReceiverWebhook, map[string][]byte{KeyAddress: []byte(redirecting.URL)}, sampleMessage(EventFiring))
	require.ErrorContains(t, err, "302 Found")
	require.Empty(t, hit.bodies, "no redirect is followed")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())
	err = send(t, v1beta1.ReceiverWebhook, map[string][]byte{KeyAddress: []byte("http://" + closed + "/" + token)}, sampleMessage(EventFiring))
	require.ErrorContains(t, err, "connection refused")
	require.NotContains(t, err.Error(), token)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, err := NewSender(v1beta1.ReceiverWebhook, map[string][]byte{KeyAddress: []byte(srv.URL + "/" + token)}, http.DefaultClient)
	require.NoError(t, err)
	err = s.Send(ctx, sampleMessage(EventFiring))
	require.Error(t, err)
	require.NotContains(t, err.Error(), token)
}

// TestBadSecretsSayWhatToSet names the key that is wrong and what it should hold.
func TestBadSecretsSayWhatToSet(t *testing.T) {
	for _, c := range []struct {
		typ    string
		secret map[string][]byte
		want   string
	}{
		{v1beta1.ReceiverWebhook, nil, "key address is missing: set it to the URL"},
		{v1beta1.ReceiverSlack, map[string][]byte{KeyAddress: []byte("hooks.slack.com/services/x")}, "key address is not an http(s) URL"},
		{v1beta1.ReceiverPagerDuty, nil, "key routingKey is missing"},
		{"carrier-pigeon", nil, `spec.type "carrier-pigeon" is not a kind of receiver: use one of webhook, slack, pagerduty, email`},
	} {
		_, err := NewSender(c.typ, c.secret, http.DefaultClient)
		require.ErrorContains(t, err, c.want, c.typ)
	}
	s, err := NewSender(v1beta1.ReceiverPagerDuty, map[string][]byte{KeyRoutingKey: []byte("k")}, http.DefaultClient)
	require.NoError(t, err)
	require.Equal(t, pagerDutyEventsURL, s.(*pagerDuty).address)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
