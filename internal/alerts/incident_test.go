package alerts

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// TestRoutesNameEveryKind: the AlertRoute CRD accepts exactly the kinds of incident
// Flok reports (the reasons of a Degraded condition).
func TestRoutesNameEveryKind(t *testing.T) {
	data, err := os.ReadFile("../../config/crd/flok.dev_alertroutes.yaml")
	require.NoError(t, err)
	var crd apiextensionsv1.CustomResourceDefinition
	require.NoError(t, yaml.Unmarshal(data, &crd))
	items := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["incidents"].Items.Schema
	var enum []string
	for _, e := range items.Enum {
		var s string
		require.NoError(t, yaml.Unmarshal(e.Raw, &s))
		enum = append(enum, s)
	}
	require.ElementsMatch(t, Kinds(), enum)
}

func TestOpenIncidentIsTheDegradedCondition(t *testing.T) {
	since := metav1.Now()
	_, ok := OpenIncident([]metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "JobFailed"}})
	require.False(t, ok)
	_, ok = OpenIncident([]metav1.Condition{{Type: "Degraded", Status: metav1.ConditionFalse, Reason: "Healthy"}})
	require.False(t, ok)
	inc, ok := OpenIncident([]metav1.Condition{{Type: "Degraded", Status: metav1.ConditionTrue, Reason: "CheckpointsStalled", Message: "no checkpoint", LastTransitionTime: since}})
	require.True(t, ok)
	require.Equal(t, Incident{Kind: "CheckpointsStalled", Severity: "warning", Since: since.UTC(), Message: "no checkpoint"}, inc)
	require.Equal(t, "critical", SeverityOf("JobFailed"))
}
