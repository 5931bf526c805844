// Package alerting sends the incidents of FlinkDeployments and FlinkSessionJobs to the
// AlertReceivers their namespace's AlertRoutes name. It is woken when a resource's
// Degraded condition changes, when a route changes and when a message falls due, and
// keeps per resource a ConfigMap recording what it saw and sent (internal/alerts'
// Record) — written before the first message of an incident and after each message —
// so that a restarted operator, or another replica taking the lead, neither loses nor
// repeats one. A resource deleted with an incident open has the incident's end sent,
// then its record deleted. Receivers are rate-limited one by one; one that fails is retried with
// back-off, marked in its status and an event, and does not hold up the others. A
// ConfigChecker marks receivers whose Secret is incomplete and routes naming receivers
// that do not exist as they are made.
//
// +kubebuilder:rbac:groups=flok.dev,resources=alertroutes;alertreceivers,verbs=get;list;watch
// +kubebuilder:rbac:groups=flok.dev,resources=alertreceivers/status;alertroutes/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
package alerting
