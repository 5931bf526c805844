package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The kinds of AlertReceiver (spec.type).
const (
	// ReceiverWebhook posts Flok's own JSON, signed with HMAC-SHA256 when the Secret
	// holds an hmacKey.
	ReceiverWebhook = "webhook"
	// ReceiverSlack posts to a Slack incoming webhook.
	ReceiverSlack = "slack"
	// ReceiverPagerDuty enqueues events with PagerDuty's Events API v2.
	ReceiverPagerDuty = "pagerduty"
	// ReceiverEmail sends mail over SMTP (STARTTLS or TLS).
	ReceiverEmail = "email"
	// ReceiverDingTalk posts to a DingTalk group robot (signed when it has a secret).
	ReceiverDingTalk = "dingtalk"
	// ReceiverWeCom posts to a WeCom (WeChat Work) group robot.
	ReceiverWeCom = "wecom"
	// ReceiverLark posts to a Lark (Feishu) custom bot (signed when it has a secret).
	ReceiverLark = "lark"
	// ReceiverTeams posts an Adaptive Card to a Microsoft Teams workflow webhook.
	ReceiverTeams = "teams"
)

// ReceiverTypes are the kinds of AlertReceiver.
var ReceiverTypes = []string{ReceiverWebhook, ReceiverSlack, ReceiverPagerDuty, ReceiverEmail, ReceiverDingTalk, ReceiverWeCom, ReceiverLark, ReceiverTeams}

// AlertReceiverSpec says where alerts go; every address and credential is in a Secret.
type AlertReceiverSpec struct {
	// Type is the kind of receiver: webhook, slack, pagerduty, email, dingtalk, wecom,
	// lark or teams.
	// +kubebuilder:validation:Enum=webhook;slack;pagerduty;email;dingtalk;wecom;lark;teams
	Type string `json:"type"`
	// SecretRef names the Secret, in the receiver's namespace, that holds its address
	// and credentials. Key `address`: the URL to post to (the robot's or workflow's
	// webhook URL; for pagerduty optional, the Events API v2 endpoint by default; for
	// email the server, smtp://host:port with STARTTLS or smtps://host:port). Also
	// `hmacKey` (webhook, optional: the key the body is signed with, header
	// X-Flok-Signature), `routingKey` (pagerduty: the integration key), `signingSecret`
	// (dingtalk and lark, optional: the robot's signing secret), and for email `from`,
	// `to` (comma-separated), `username` and `password` (optional) and `caBundle`
	// (optional PEM certificates to trust instead of the system's).
	SecretRef SecretReference `json:"secretRef"`
	// MessagesPerMinute is how many messages the receiver is sent per minute on
	// average, in bursts of at most a quarter of that; the others wait their turn.
	// +optional
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=600
	MessagesPerMinute *int32 `json:"messagesPerMinute,omitempty"`
}

// SecretReference names a Secret in the referrer's namespace.
type SecretReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// AlertReceiverStatus says whether the receiver took the latest messages.
type AlertReceiverStatus struct {
	// Conditions: SecretValid says whether its Secret holds what its type needs (when
	// False, which key to set); Ready whether the last message sent was taken (when
	// False, the error).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastDelivered is when the receiver last took a message.
	// +optional
	LastDelivered *metav1.Time `json:"lastDelivered,omitempty"`
	// LastError is why the last message that failed was not taken. No secret value
	// is ever part of it.
	// +optional
	LastError string `json:"lastError,omitempty"`
	// LastErrorTime is when the last message failed.
	// +optional
	LastErrorTime *metav1.Time `json:"lastErrorTime,omitempty"`
}

// AlertReceiver is where the alerts of the AlertRoutes that name it are sent: a
// webhook, a chat room or a paging service.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=".spec.type"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Last Delivered",type=date,JSONPath=".status.lastDelivered"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type AlertReceiver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says where alerts go.
	Spec AlertReceiverSpec `json:"spec,omitempty"`
	// Status says whether they arrive.
	Status AlertReceiverStatus `json:"status,omitempty"`
}

// AlertReceiverList is a list of AlertReceivers.
//
// +kubebuilder:object:root=true
type AlertReceiverList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AlertReceiver `json:"items"`
}

// The severities of incidents.
const (
	// SeverityCritical: the job is down or about to lose its state; someone should act now.
	SeverityCritical = "critical"
	// SeverityWarning: the job runs but something needs care, or a change did not go through.
	SeverityWarning = "warning"
)

// AlertResourceSelector chooses FlinkDeployments and FlinkSessionJobs in the route's
// namespace; every field that is set must match.
type AlertResourceSelector struct {
	// Kinds are FlinkDeployment and/or FlinkSessionJob (none: both).
	// +optional
	// +kubebuilder:validation:items:Enum=FlinkDeployment;FlinkSessionJob
	// +listType=set
	Kinds []string `json:"kinds,omitempty"`
	// Names of the resources (none: any name).
	// +optional
	// +listType=set
	Names []string `json:"names,omitempty"`
	// LabelSelector over the resources' labels.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
}

// AlertRouteSpec says which incidents of which Flink jobs in its namespace are sent to
// which receivers, and how often an open one is recalled.
type AlertRouteSpec struct {
	// Receivers are the names of AlertReceivers in this namespace.
	// +kubebuilder:validation:MinItems=1
	// +listType=set
	Receivers []string `json:"receivers"`
	// Resources chooses the FlinkDeployments and FlinkSessionJobs (unset: all of the
	// namespace).
	// +optional
	Resources *AlertResourceSelector `json:"resources,omitempty"`
	// Incidents are the kinds of incident sent — the reasons of a Degraded condition,
	// like JobFailed, RestartLoop, CheckpointsStalled, SavepointFailed, RolledBack,
	// ContainerOOMKilled (none: every kind).
	// +optional
	// +kubebuilder:validation:items:Enum=JobFailed;StateUnrecoverable;RestartLoop;ClusterFailing;CheckpointsStalled;SavepointFailed;NoStateToCarry;RolledBack;NotReadyInTime;ContainerOOMKilled;DeletionBlocked;ArtifactUnavailable;InvalidSpec;InvalidStatus;FlinkTLSFailed
	// +listType=set
	Incidents []string `json:"incidents,omitempty"`
	// Severities sent: critical and/or warning (none: both).
	// +optional
	// +kubebuilder:validation:items:Enum=critical;warning
	// +listType=set
	Severities []string `json:"severities,omitempty"`
	// RepeatInterval is how often an incident still open is sent again (unset: once,
	// and once more when it is resolved); a minute at least, like 30m or 4h.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="must be a duration of a minute or more, like 30m or 4h"
	RepeatInterval *metav1.Duration `json:"repeatInterval,omitempty"`
}

// AlertRouteStatus says whether the route can send.
type AlertRouteStatus struct {
	// Conditions: Ready is True while every receiver it names exists and its
	// selector parses, False with the field path of what to fix otherwise.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AlertRoute sends the incidents of Flink jobs in its namespace to AlertReceivers:
// once when an incident opens, at the repeat interval while it stays open, and once
// when it is resolved.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Receivers",type=string,JSONPath=".spec.receivers"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type AlertRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says what is sent where.
	Spec AlertRouteSpec `json:"spec,omitempty"`
	// Status says whether it can.
	Status AlertRouteStatus `json:"status,omitempty"`
}

// AlertRouteList is a list of AlertRoutes.
//
// +kubebuilder:object:root=true
type AlertRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AlertRoute `json:"items"`
}
