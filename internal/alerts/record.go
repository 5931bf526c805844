package alerts

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/api/v1beta1"
)

// LabelRecord marks the ConfigMaps that hold alert records; its value is the kind of
// resource (FlinkDeployment or FlinkSessionJob), and label app its name.
const LabelRecord = "flok.dev/alert-record"

// recordKey is the ConfigMap's key holding the record as JSON.
const recordKey = "record.json"

// RecordName is the ConfigMap of the alert record of a resource of kind.
func RecordName(kind, name string) string {
	return fmt.Sprintf("%s-%s-alerts", name, strings.ToLower(strings.TrimPrefix(kind, "Flink")))
}

// RecordOf reads the record a ConfigMap holds.
func RecordOf(cm *corev1.ConfigMap) (Record, error) {
	var r Record
	if data := cm.Data[recordKey]; data != "" {
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return r, fmt.Errorf("ConfigMap %s, key %s: %w", cm.Name, recordKey, err)
		}
	}
	return r, nil
}

// Encode is the record as a ConfigMap's data.
func (r *Record) Encode() (map[string]string, error) {
	data, err := json.Marshal(r)
	return map[string]string{recordKey: string(data)}, err
}

// maxRecorded bounds the incidents a record keeps: the open one and the latest
// resolved ones whose messages are not all sent.
const maxRecorded = 20

// Record is what was seen and sent of one resource's incidents. The operator writes
// it before it sends an incident's first message and after each message it sends, so
// an operator that restarts, or another that takes the lead, neither loses a message
// nor sends one again (but for one sent in the instant before a crash).
type Record struct {
	Incidents []Recorded `json:"incidents,omitempty"`
	// UID is the resource's the record is of: one of the same name made later has a
	// record of its own. JobID and FlinkVersion are as its status said when the record
	// was last written: what a message names once the resource is gone.
	UID          types.UID `json:"uid,omitempty"`
	JobID        string    `json:"jobID,omitempty"`
	FlinkVersion string    `json:"flinkVersion,omitempty"`
}

// Recorded is one incident and the messages sent about it.
type Recorded struct {
	Incident `json:",inline"`
	// ResolvedAt is when the incident was seen to end.
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`
	// Resolution is how it ended when not by its condition clearing: the resource was
	// deleted.
	Resolution string `json:"resolution,omitempty"`
	// Sent are the receivers told of it, one entry per route and receiver.
	Sent []Sent `json:"sent,omitempty"`
}

// Sent is what one receiver of one route was told of an incident.
type Sent struct {
	Route    string `json:"route"`
	Receiver string `json:"receiver"`
	// At is when the incident (or its latest reminder) was sent.
	At time.Time `json:"at"`
	// Resolved: its end was sent too, or there is no one left to send it to.
	Resolved bool `json:"resolved,omitempty"`
}

// Delivery is one message due to one receiver: about Incidents[Incident].
type Delivery struct {
	Incident int
	Route    string
	Receiver string
	Event    Event
}

// Open is the index of the open incident, or -1.
func (r *Record) Open() int {
	return slices.IndexFunc(r.Incidents, func(i Recorded) bool { return i.ResolvedAt == nil })
}

// Observe brings the record up to what the resource shows now — an open incident,
// when ok: a recorded incident no longer shown is resolved, a shown one not recorded
// opens. It reports whether the record changed.
func (r *Record) Observe(shown Incident, ok bool, now time.Time) bool {
	changed, replaced := false, false
	if i := r.Open(); i >= 0 {
		open := &r.Incidents[i]
		if ok && open.Kind == shown.Kind {
			if open.Message == shown.Message {
				return false
			}
			open.Message = shown.Message
			return true
		}
		resolved := now.UTC()
		open.ResolvedAt, changed, replaced = &resolved, true, true
	}
	if ok {
		// The condition's transition time is when it turned True, which a new reason
		// replacing the old one does not move: this incident began now.
		if replaced || shown.Since.IsZero() || shown.Since.After(now) {
			shown.Since = now.UTC()
		}
		r.Incidents = append(r.Incidents, Recorded{Incident: shown})
		changed = true
	}
	return r.prune() || changed
}

// Remember keeps which resource the record is of, and what messages name of it once it
// is gone.
func (r *Record) Remember(s Subject) {
	r.UID, r.JobID, r.FlinkVersion = s.UID, s.JobID, s.FlinkVersion
}

// Of reports whether the record is of the resource with uid (a record from before UIDs
// were kept is taken to be).
func (r *Record) Of(uid types.UID) bool {
	return r.UID == "" || r.UID == uid
}

// ResolveDeleted ends the open incident, if any, of a resource that was deleted.
func (r *Record) ResolveDeleted(kind string, now time.Time) {
	if i := r.Open(); i >= 0 {
		resolved := now.UTC()
		r.Incidents[i].ResolvedAt = &resolved
		r.Incidents[i].Resolution = "the " + kind + " was deleted"
	}
}

// Settled drops the incidents whose messages are all sent (Prune) and reports that no
// message is owed any more: every incident ended and its end was sent to all who were
// told of it.
func (r *Record) Settled() bool {
	r.prune()
	return len(r.Incidents) == 0
}

// Deleted is what messages say of a resource of kind that was deleted: what its record
// remembers.
func (r *Record) Deleted(kind, namespace, name string) Subject {
	return Subject{Kind: kind, Namespace: namespace, Name: name, UID: r.UID, JobID: r.JobID, FlinkVersion: r.FlinkVersion, LifecycleState: string(v1beta1.LifecycleDeleted)}
}

// Due are the messages to send at now, given the routes that send each incident; and
// when the next reminder falls due (zero: none).
func (r *Record) Due(targets func(Incident) []Target, now time.Time) ([]Delivery, time.Time) {
	var due []Delivery
	var next time.Time
	for i, inc := range r.Incidents {
		if inc.ResolvedAt != nil {
			for _, s := range inc.Sent {
				if !s.Resolved {
					due = append(due, Delivery{Incident: i, Route: s.Route, Receiver: s.Receiver, Event: EventResolved})
				}
			}
			continue
		}
		for _, t := range targets(inc.Incident) {
			for _, receiver := range t.Receivers {
				d, at := inc.due(t, receiver, now)
				if d != "" {
					due = append(due, Delivery{Incident: i, Route: t.Route, Receiver: receiver, Event: d})
				} else if !at.IsZero() && (next.IsZero() || at.Before(next)) {
					next = at
				}
			}
		}
	}
	return due, next
}

// due is the message an open incident owes a receiver of a route at now, or else
// when its next reminder falls due.
func (inc *Recorded) due(t Target, receiver string, now time.Time) (Event, time.Time) {
	s := inc.sent(t.Route, receiver)
	switch {
	case s == nil:
		return EventFiring, time.Time{}
	case t.Repeat <= 0:
		return "", time.Time{}
	case !now.Before(s.At.Add(t.Repeat)):
		return EventReminder, time.Time{}
	default:
		return "", s.At.Add(t.Repeat)
	}
}

func (inc *Recorded) sent(route, receiver string) *Sent {
	for i := range inc.Sent {
		if inc.Sent[i].Route == route && inc.Sent[i].Receiver == receiver {
			return &inc.Sent[i]
		}
	}
	return nil
}

// MarkSent records that d was sent at now — or, for a resolved message, that there is
// no one to send it to any more.
func (r *Record) MarkSent(d Delivery, now time.Time) {
	inc := &r.Incidents[d.Incident]
	s := inc.sent(d.Route, d.Receiver)
	if d.Event == EventResolved {
		if s != nil {
			s.Resolved = true
		}
		return
	}
	if s == nil {
		inc.Sent = append(inc.Sent, Sent{Route: d.Route, Receiver: d.Receiver})
		s = &inc.Sent[len(inc.Sent)-1]
	}
	s.At = now.UTC()
}

// Prune drops the resolved incidents whose every message is sent, and the oldest
// resolved ones beyond maxRecorded. It reports whether it dropped any.
func (r *Record) Prune() bool { return r.prune() }

func (r *Record) prune() bool {
	before := len(r.Incidents)
	r.Incidents = slices.DeleteFunc(r.Incidents, func(i Recorded) bool {
		return i.ResolvedAt != nil && !slices.ContainsFunc(i.Sent, func(s Sent) bool { return !s.Resolved })
	})
	for len(r.Incidents) > maxRecorded {
		oldest := slices.IndexFunc(r.Incidents, func(i Recorded) bool { return i.ResolvedAt != nil })
		if oldest < 0 {
			break
		}
		r.Incidents = slices.Delete(r.Incidents, oldest, oldest+1)
	}
	return len(r.Incidents) != before
}
