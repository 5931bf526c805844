package alerts

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"
)

// SignatureHeader carries a webhook body's HMAC-SHA256, as sha256=<hex>, when the
// receiver's Secret holds an hmacKey.
const SignatureHeader = "X-Flok-Signature"

// webhook posts Flok's own JSON.
type webhook struct {
	address string
	hmacKey []byte
	client  *http.Client
}

// WebhookPayload is the JSON a webhook receiver is posted.
type WebhookPayload struct {
	ID           string     `json:"id"`
	Event        Event      `json:"event"`
	Severity     string     `json:"severity"`
	Incident     string     `json:"incident"`
	Since        time.Time  `json:"since"`
	ResolvedAt   *time.Time `json:"resolvedAt,omitempty"`
	Resolution   string     `json:"resolution,omitempty"`
	Message      string     `json:"message"`
	Title        string     `json:"title"`
	Kind         string     `json:"kind"`
	Namespace    string     `json:"namespace"`
	Name         string     `json:"name"`
	JobID        string     `json:"jobId,omitempty"`
	JobState     string     `json:"jobState,omitempty"`
	Lifecycle    string     `json:"lifecycleState,omitempty"`
	FlinkVersion string     `json:"flinkVersion,omitempty"`
	Route        string     `json:"route,omitempty"`
}

func (w *webhook) Send(ctx context.Context, m Message) error {
	p := WebhookPayload{
		ID: m.ID(), Event: m.Event, Severity: m.Incident.Severity, Incident: m.Incident.Kind, Since: m.Incident.Since,
		Message: m.Incident.Message, Title: m.Title(), Kind: m.Subject.Kind, Namespace: m.Subject.Namespace,
		Name: m.Subject.Name, JobID: m.Subject.JobID, JobState: m.Subject.JobState, Lifecycle: m.Subject.LifecycleState,
		FlinkVersion: m.Subject.FlinkVersion, Route: m.Route,
	}
	if m.Event == EventResolved {
		p.ResolvedAt, p.Resolution = &m.ResolvedAt, m.Resolution
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	header := http.Header{}
	if len(w.hmacKey) > 0 {
		header.Set(SignatureHeader, Signature(w.hmacKey, body))
	}
	_, err = postJSON(ctx, w.client, w.address, json.RawMessage(body), header)
	return err
}

// Signature is the value of SignatureHeader for body signed with key.
func Signature(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
