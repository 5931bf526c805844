package alerts

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// Incident is one trouble of one Flink job: its Degraded condition while it carries
// one reason.
type Incident struct {
	// Kind is the condition's reason, like JobFailed or RestartLoop.
	Kind string `json:"kind"`
	// Severity is critical or warning.
	Severity string `json:"severity"`
	// Since is when it was first seen.
	Since time.Time `json:"since"`
	// Message is the condition's message: what happened, what Flok did, what to do.
	Message string `json:"message"`
}

// criticalKinds are the incidents where the job is down or its state is at risk.
var criticalKinds = map[string]bool{
	"JobFailed": true, "StateUnrecoverable": true, "RestartLoop": true, "ClusterFailing": true,
}

// SeverityOf is the severity of an incident kind: critical where the job is down or
// its state at risk, warning otherwise.
func SeverityOf(kind string) string {
	if criticalKinds[kind] {
		return v1beta1.SeverityCritical
	}
	return v1beta1.SeverityWarning
}

// Kinds are every kind of incident, as AlertRoutes name them.
func Kinds() []string { return lifecycle.DegradedReasons }

// OpenIncident is the incident a resource's conditions show, if it has one: its
// Degraded condition while True.
func OpenIncident(conditions []metav1.Condition) (Incident, bool) {
	c := meta.FindStatusCondition(conditions, lifecycle.ConditionDegraded)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason == "" {
		return Incident{}, false
	}
	return Incident{Kind: c.Reason, Severity: SeverityOf(c.Reason), Since: c.LastTransitionTime.UTC(), Message: c.Message}, true
}
