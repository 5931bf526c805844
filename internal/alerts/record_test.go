package alerts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

func failed(since time.Time) Incident {
	return Incident{Kind: "JobFailed", Severity: "critical", Since: since, Message: "job failed"}
}

func oneRoute(repeat time.Duration, receivers ...string) func(Incident) []Target {
	return func(Incident) []Target { return []Target{{Route: "team", Receivers: receivers, Repeat: repeat}} }
}

// TestRecordSendsOncePerIncident: an incident is sent once to each receiver, again
// only at the repeat interval, resolved once, and then forgotten.
func TestRecordSendsOncePerIncident(t *testing.T) {
	var r Record
	require.True(t, r.Observe(failed(t0), true, t0))
	require.False(t, r.Observe(failed(t0), true, t0.Add(time.Second)), "the same incident seen again changes nothing")

	due, next := r.Due(oneRoute(time.Hour, "slack", "pager"), t0)
	require.Equal(t, []Delivery{{0, "team", "slack", EventFiring}, {0, "team", "pager", EventFiring}}, due)
	require.True(t, next.IsZero())
	r.MarkSent(due[0], t0)

	due, next = r.Due(oneRoute(time.Hour, "slack", "pager"), t0.Add(time.Minute))
	require.Equal(t, []Delivery{{0, "team", "pager", EventFiring}}, due, "a receiver that failed is still owed its message; the other is not sent it twice")
	require.Equal(t, t0.Add(time.Hour), next)
	r.MarkSent(due[0], t0.Add(time.Minute))

	due, _ = r.Due(oneRoute(time.Hour, "slack", "pager"), t0.Add(time.Hour))
	require.Equal(t, []Delivery{{0, "team", "slack", EventReminder}}, due)
	due, _ = r.Due(oneRoute(0, "slack", "pager"), t0.Add(5*time.Hour))
	require.Empty(t, due, "no reminders without a repeat interval")

	require.True(t, r.Observe(Incident{}, false, t0.Add(2*time.Hour)))
	due, _ = r.Due(oneRoute(time.Hour, "slack", "pager"), t0.Add(2*time.Hour))
	require.Equal(t, []Delivery{{0, "team", "slack", EventResolved}, {0, "team", "pager", EventResolved}}, due)
	for _, d := range due {
		r.MarkSent(d, t0.Add(2*time.Hour))
	}
	require.True(t, r.Prune())
	require.Empty(t, r.Incidents, "a resolved incident told to everyone is forgotten")
}

// TestRecordFollowsTheCondition: a new reason resolves the old incident and opens a
// new one; a changed message is kept; an incident resolved before anyone was told of
// it is dropped; the resolved message goes to who was told, even if the route changed.
func TestRecordFollowsTheCondition(t *testing.T) {
	var r Record
	r.Observe(failed(t0), true, t0)
	due, _ := r.Due(oneRoute(0, "slack"), t0)
	r.MarkSent(due[0], t0)

	changed := failed(t0)
	changed.Message = "job failed again"
	require.True(t, r.Observe(changed, true, t0.Add(time.Minute)))
	require.Equal(t, "job failed again", r.Incidents[0].Message)

	loop := Incident{Kind: "RestartLoop", Severity: "critical", Since: t0, Message: "restarting"} // the condition's time: when it turned True
	require.True(t, r.Observe(loop, true, t0.Add(2*time.Minute)))
	require.Len(t, r.Incidents, 2)
	require.NotNil(t, r.Incidents[0].ResolvedAt)
	require.Equal(t, 1, r.Open())
	require.Equal(t, t0.Add(2*time.Minute), r.Incidents[1].Since, "began when it replaced the other")

	due, _ = r.Due(func(Incident) []Target { return nil }, t0.Add(2*time.Minute))
	require.Equal(t, []Delivery{{0, "team", "slack", EventResolved}}, due, "resolved to who was told, though no route sends it now")

	require.True(t, r.Observe(Incident{}, false, t0.Add(3*time.Minute)))
	require.Len(t, r.Incidents, 1, "the restart loop no one was told of is dropped once resolved")
	require.Equal(t, "JobFailed", r.Incidents[0].Kind)
}

// TestRecordIsBounded keeps at most maxRecorded incidents, dropping the oldest
// resolved ones.
func TestRecordIsBounded(t *testing.T) {
	var r Record
	for i := range maxRecorded + 5 {
		at := t0.Add(time.Duration(i) * time.Minute)
		r.Observe(failed(at), true, at)
		due, _ := r.Due(oneRoute(0, "slack"), at)
		r.MarkSent(due[len(due)-1], at) // the firing one; the resolved ones stay owed
		r.Observe(Incident{}, false, at.Add(time.Second))
	}
	require.Len(t, r.Incidents, maxRecorded)
	require.Equal(t, t0.Add(5*time.Minute), r.Incidents[0].Since)
}

// TestRecordTakesSinceFromNowWhenUnknown: a condition without a transition time
// opens an incident at now.
func TestRecordTakesSinceFromNowWhenUnknown(t *testing.T) {
	var r Record
	r.Observe(failed(time.Time{}), true, t0)
	require.Equal(t, t0, r.Incidents[0].Since)
}
