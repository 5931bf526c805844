package alerts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flok-dev/flok/api/v1beta1"
)

func route(name string, spec v1beta1.AlertRouteSpec) v1beta1.AlertRoute {
	spec.Receivers = []string{"r-" + name}
	return v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

func TestTargetsMatchEverySetPart(t *testing.T) {
	s := Subject{Kind: v1beta1.KindFlinkDeployment, Namespace: "team", Name: "orders", Labels: map[string]string{"tier": "gold"}}
	inc := Incident{Kind: "RestartLoop", Severity: v1beta1.SeverityCritical}
	routes := []v1beta1.AlertRoute{
		route("all", v1beta1.AlertRouteSpec{RepeatInterval: &metav1.Duration{Duration: time.Hour}}),
		route("loops", v1beta1.AlertRouteSpec{Incidents: []string{"RestartLoop"}}),
		route("failures", v1beta1.AlertRouteSpec{Incidents: []string{"JobFailed"}}),
		route("warnings", v1beta1.AlertRouteSpec{Severities: []string{v1beta1.SeverityWarning}}),
		route("gold", v1beta1.AlertRouteSpec{Resources: &v1beta1.AlertResourceSelector{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}}}}),
		route("silver", v1beta1.AlertRouteSpec{Resources: &v1beta1.AlertResourceSelector{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "silver"}}}}),
		route("orders", v1beta1.AlertRouteSpec{Resources: &v1beta1.AlertResourceSelector{Names: []string{"orders"}, Kinds: []string{v1beta1.KindFlinkDeployment}}}),
		route("sessionjobs", v1beta1.AlertRouteSpec{Resources: &v1beta1.AlertResourceSelector{Kinds: []string{v1beta1.KindFlinkSessionJob}}}),
	}
	targets, err := Targets(routes, s, inc)
	require.NoError(t, err)
	var names []string
	for _, tg := range targets {
		names = append(names, tg.Route)
	}
	require.Equal(t, []string{"all", "loops", "gold", "orders"}, names)
	require.Equal(t, time.Hour, targets[0].Repeat)
	require.Equal(t, []string{"r-all"}, targets[0].Receivers)
}

func TestTargetsNameABadSelector(t *testing.T) {
	bad := route("bad", v1beta1.AlertRouteSpec{Resources: &v1beta1.AlertResourceSelector{LabelSelector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}}}})
	targets, err := Targets([]v1beta1.AlertRoute{bad, route("all", v1beta1.AlertRouteSpec{})}, Subject{}, Incident{})
	require.ErrorContains(t, err, "AlertRoute bad: spec.resources.labelSelector")
	require.Len(t, targets, 1, "the other routes still send")
	require.Contains(t, SelectorProblem(bad.Spec), "spec.resources.labelSelector:")
}
