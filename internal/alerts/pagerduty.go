package alerts

import (
	"context"
	"net/http"
	"time"
)

// pagerDutyEventsURL is where PagerDuty's Events API v2 takes events.
const pagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

// pagerDuty enqueues events with PagerDuty's Events API v2: a trigger per firing
// message and reminder, a resolve when the incident ends, all with the incident's id
// as dedup_key so PagerDuty keeps one alert per incident.
type pagerDuty struct {
	address    string
	routingKey string
	client     *http.Client
}

// pagerDutyEvent is an Events API v2 event.
type pagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key"`
	Payload     *pagerDutyPayload `json:"payload,omitempty"`
}

type pagerDutyPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// pagerDutySummaryMax is the longest summary the Events API takes.
const pagerDutySummaryMax = 1024

func (p *pagerDuty) Send(ctx context.Context, m Message) error {
	ev := pagerDutyEvent{RoutingKey: p.routingKey, EventAction: "trigger", DedupKey: m.ID()}
	if m.Event == EventResolved {
		ev.EventAction = "resolve"
	} else {
		summary := truncate(m.Title()+": "+m.Incident.Message, pagerDutySummaryMax-len("…"))
		details := map[string]string{"message": m.Incident.Message}
		for _, f := range m.Fields() {
			details[f[0]] = f[1]
		}
		ev.Payload = &pagerDutyPayload{
			Summary: summary, Source: m.Subject.Namespace + "/" + m.Subject.Name, Severity: m.Incident.Severity,
			Timestamp: m.Incident.Since.UTC().Format(time.RFC3339), Component: m.Subject.Kind, Class: m.Incident.Kind,
			CustomDetails: details,
		}
	}
	if _, err := postJSON(ctx, p.client, p.address, ev, nil); err != nil || m.Event != EventTest {
		return err
	}
	// A test opens no incident that someone would have to close by hand.
	_, err := postJSON(ctx, p.client, p.address, pagerDutyEvent{RoutingKey: p.routingKey, EventAction: "resolve", DedupKey: ev.DedupKey}, nil)
	return err
}
