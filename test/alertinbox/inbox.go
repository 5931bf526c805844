// Package alertinbox is a webhook receiver of Flok's alerts for tests: a real HTTP
// server on loopback that checks each message's HMAC signature and keeps what it was
// posted, or refuses messages while it is down.
package alertinbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/flok-dev/flok/internal/alerts"
)

// Inbox is a webhook receiver on loopback.
type Inbox struct {
	// URL is where it takes messages (any path).
	URL string

	key      []byte
	mu       sync.Mutex
	down     bool
	attempts int
	payloads []alerts.WebhookPayload
	arrivals []time.Time
}

// New starts an inbox that takes messages signed with key, stopped when the test ends.
func New(t testing.TB, key string) *Inbox {
	in := &Inbox{key: []byte(key)}
	srv := httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(srv.Close)
	in.URL = srv.URL
	return in
}

func (in *Inbox) serve(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.attempts++
	if in.down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var p alerts.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "not Flok's JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get(alerts.SignatureHeader) != alerts.Signature(in.key, body) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	in.payloads = append(in.payloads, p)
	in.arrivals = append(in.arrivals, time.Now())
}

// SetDown makes the inbox refuse messages (503) while down.
func (in *Inbox) SetDown(down bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.down = down
}

// Attempts counts the requests made to it, refused ones included.
func (in *Inbox) Attempts() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.attempts
}

// Payloads are the messages taken so far.
func (in *Inbox) Payloads() []alerts.WebhookPayload {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]alerts.WebhookPayload(nil), in.payloads...)
}

// Arrival is when the i-th message was taken.
func (in *Inbox) Arrival(i int) time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.arrivals[i]
}

// Events are the messages taken so far, as "event incident" (like "firing JobFailed").
func (in *Inbox) Events() []string {
	var evs []string
	for _, p := range in.Payloads() {
		evs = append(evs, string(p.Event)+" "+p.Incident)
	}
	return evs
}
