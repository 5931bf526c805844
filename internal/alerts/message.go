package alerts

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Subject is the Flink job an incident is of.
type Subject struct {
	// Kind is FlinkDeployment or FlinkSessionJob.
	Kind      string
	Namespace string
	Name      string
	UID       types.UID
	Labels    map[string]string
	// JobID, FlinkVersion, LifecycleState and JobState are as the status last said.
	JobID          string
	FlinkVersion   string
	LifecycleState string
	JobState       string
	// Conditions are the resource's conditions; the Degraded one is its incident.
	Conditions []metav1.Condition
}

// SubjectOfDeployment is the subject of a FlinkDeployment's incidents.
func SubjectOfDeployment(fd *v1beta1.FlinkDeployment) Subject {
	s := subject(v1beta1.KindFlinkDeployment, fd.Namespace, fd.Name, fd.UID, fd.Labels, fd.Status.CommonStatus)
	s.FlinkVersion = string(fd.Spec.FlinkVersion)
	s.Conditions = fd.Status.Conditions
	return s
}

// SubjectOfSessionJob is the subject of a FlinkSessionJob's incidents.
func SubjectOfSessionJob(sj *v1beta1.FlinkSessionJob) Subject {
	s := subject(v1beta1.KindFlinkSessionJob, sj.Namespace, sj.Name, sj.UID, sj.Labels, sj.Status.CommonStatus)
	s.Conditions = sj.Status.Conditions
	return s
}

func subject(kind, ns, name string, uid types.UID, labels map[string]string, st v1beta1.CommonStatus) Subject {
	return Subject{Kind: kind, Namespace: ns, Name: name, UID: uid, Labels: labels, LifecycleState: string(st.LifecycleState),
		JobID: st.JobStatus.JobID, JobState: st.JobStatus.State}
}

// Event is why a message is sent.
type Event string

// The events of a message.
const (
	// EventFiring: the incident opened.
	EventFiring Event = "firing"
	// EventReminder: the incident is still open after the route's repeat interval.
	EventReminder Event = "reminder"
	// EventResolved: the incident ended.
	EventResolved Event = "resolved"
	// EventTest: `flok alerts test` checks the receiver.
	EventTest Event = "test"
)

// Message is what a receiver is sent about one incident.
type Message struct {
	Event    Event
	Subject  Subject
	Incident Incident
	// ResolvedAt is when a resolved incident ended.
	ResolvedAt time.Time
	// Resolution is how it ended when not by its condition clearing.
	Resolution string
	// Route is the AlertRoute that sent it.
	Route string
}

// ID names the incident the message is about, the same in all its messages: receivers
// that deduplicate (PagerDuty) and people reading a channel can tell them apart.
func (m Message) ID() string {
	return fmt.Sprintf("%s/%s/%s/%s/%d", m.Subject.Namespace, strings.ToLower(m.Subject.Kind), m.Subject.Name, m.Incident.Kind, m.Incident.Since.Unix())
}

// Title is the message in one line.
func (m Message) Title() string {
	return fmt.Sprintf("[%s] %s %s: %s %s/%s", strings.ToUpper(string(m.Event)), m.Incident.Severity, m.Incident.Kind,
		m.Subject.Kind, m.Subject.Namespace, m.Subject.Name)
}

// Text is the message in full: what happened and since when, what Flok did and what
// to do (the condition's message), and which job it is.
func (m Message) Text() string {
	var b strings.Builder
	switch m.Event {
	case EventResolved:
		fmt.Fprintf(&b, "Resolved at %s after %s", m.ResolvedAt.UTC().Format(time.RFC3339), m.ResolvedAt.Sub(m.Incident.Since).Round(time.Second))
		if m.Resolution != "" {
			fmt.Fprintf(&b, ": %s", m.Resolution)
		}
		b.WriteString(".\n")
	case EventReminder:
		fmt.Fprintf(&b, "Still open, since %s.\n", m.Incident.Since.UTC().Format(time.RFC3339))
	case EventTest:
		b.WriteString("A test message from flok alerts test: this receiver is reachable.\n")
	default:
		fmt.Fprintf(&b, "Since %s.\n", m.Incident.Since.UTC().Format(time.RFC3339))
	}
	b.WriteString(m.Incident.Message)
	b.WriteString("\n")
	for _, f := range m.Fields() {
		fmt.Fprintf(&b, "\n%s: %s", f[0], f[1])
	}
	return b.String()
}

// Fields are the facts of the job, as name and value, the empty ones left out.
func (m Message) Fields() [][2]string {
	all := [][2]string{
		{"Resource", m.Subject.Kind + " " + m.Subject.Namespace + "/" + m.Subject.Name},
		{"Job", m.Subject.JobID}, {"Job state", m.Subject.JobState},
		{"Lifecycle state", m.Subject.LifecycleState}, {"Flink version", m.Subject.FlinkVersion},
		{"Route", m.Route},
	}
	var fields [][2]string
	for _, f := range all {
		if f[1] != "" {
			fields = append(fields, f)
		}
	}
	return fields
}

// TestMessage is what `flok alerts test` sends to a receiver.
func TestMessage(namespace, receiver string, now time.Time) Message {
	return Message{
		Event:   EventTest,
		Subject: Subject{Kind: "AlertReceiver", Namespace: namespace, Name: receiver},
		Incident: Incident{Kind: "Test", Severity: v1beta1.SeverityWarning, Since: now.UTC(),
			Message: "If you read this, Flok's alerts reach this receiver."},
	}
}
